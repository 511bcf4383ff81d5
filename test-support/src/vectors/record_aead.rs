//! Records sealed and opened with the AEAD crates directly (spec 6),
//! independently of lwsec's record layer.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use lwsec::Suite;

use super::encoding::unhex;
use super::model::TrafficKeys;

const TAG_LEN: usize = 16;
const RECORD_TYPE: u8 = 0x17;

fn nonce(iv: &[u8], seq: u64) -> [u8; 12] {
    let mut n: [u8; 12] = iv.try_into().unwrap();
    for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

/// Seals one record with the AEAD crates directly (independently of lwsec's
/// record layer): `header || AEAD(key, iv ^ seq, header, inner)`.
pub fn seal_record(suite: Suite, keys: &TrafficKeys, seq: u64, inner: &[u8]) -> Vec<u8> {
    let len = u16::try_from(inner.len() + TAG_LEN).unwrap();
    let mut header = vec![RECORD_TYPE];
    header.extend_from_slice(&len.to_be_bytes());
    let key = unhex(&keys.key);
    let nonce = nonce(&unhex(&keys.iv), seq);
    let payload = Payload {
        msg: inner,
        aad: &header,
    };
    let sealed = match suite {
        Suite::Aes256Gcm => aes_gcm::Aes256Gcm::new_from_slice(&key)
            .unwrap()
            .encrypt(&nonce.into(), payload),
        _ => chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key)
            .unwrap()
            .encrypt(&nonce.into(), payload),
    }
    .unwrap();
    header.extend_from_slice(&sealed);
    header
}

/// Opens one record with the AEAD crates directly and splits the inner
/// plaintext into (content type, payload, padding length).
pub fn open_record(
    suite: Suite,
    keys: &TrafficKeys,
    seq: u64,
    record: &[u8],
) -> (u8, Vec<u8>, usize) {
    let (header, body) = record.split_at(3);
    let key = unhex(&keys.key);
    let nonce = nonce(&unhex(&keys.iv), seq);
    let payload = Payload {
        msg: body,
        aad: header,
    };
    let inner = match suite {
        Suite::Aes256Gcm => aes_gcm::Aes256Gcm::new_from_slice(&key)
            .unwrap()
            .decrypt(&nonce.into(), payload),
        _ => chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key)
            .unwrap()
            .decrypt(&nonce.into(), payload),
    }
    .expect("record does not open with the recorded keys and sequence number");
    let at = inner.iter().rposition(|b| *b != 0).unwrap();
    (inner[at], inner[..at].to_vec(), inner.len() - at - 1)
}

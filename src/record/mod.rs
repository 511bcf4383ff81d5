//! Record protection (`spec/PROTOCOL.md` section 8): TLS 1.3-style records
//! with a 3-byte header as AAD, a per-record nonce of IV XOR sequence
//! number, and an inner plaintext of `payload || content type || zeros`.

mod content;
mod output;
mod padding;

pub(crate) use content::ContentType;
pub(crate) use output::Output;
pub use padding::Padding;

use crate::crypto::CryptoProvider;
use crate::crypto::aead::{AeadKey, NONCE_LEN, TAG_LEN};
use crate::crypto::hash::HASH_LEN;
use crate::error::Error;
use crate::error::UnexpectedReason;
use crate::key_schedule::{self, Secret};
use crate::suite::Suite;
use crate::wire::frame::{FrameHeader, FrameType, HEADER_LEN};

use crate::wire::limits::MAX_FRAGMENT_LEN;

/// The keys of one direction under one traffic secret.
pub(crate) struct DirectionKeys {
    provider: &'static CryptoProvider,
    suite: Suite,
    secret: Secret,
    /// The keyed AEAD; `None` after [`DirectionKeys::release`] until the
    /// next record needs it (rebuilt from `secret`).
    aead: Option<AeadKey>,
    /// The IV as big-endian integers: bytes 0..8 and 8..12. The nonce is
    /// built from them with one 8-byte and one 4-byte store, the widths the
    /// AEAD then reads it with (byte-wise stores would stall the load).
    iv_high: u64,
    iv_low: u32,
    /// Sequence number of the next record; never wraps.
    seq: u64,
}

impl DirectionKeys {
    pub(crate) fn new(
        provider: &'static CryptoProvider,
        suite: Suite,
        secret: Secret,
    ) -> Result<Self, Error> {
        let (key, iv) = key_schedule::record_key_iv(provider, &secret)?;
        let (high, low) = iv.split_first_chunk::<8>().ok_or(Error::InvalidKey("IV"))?;
        let iv_high = u64::from_be_bytes(*high);
        let iv_low = u32::from_be_bytes(low.try_into().map_err(|_| Error::InvalidKey("IV"))?);
        Ok(Self {
            provider,
            suite,
            aead: Some(AeadKey::new(provider, suite, &key)?),
            secret,
            iv_high,
            iv_low,
            seq: 0,
        })
    }

    /// Drops the expanded AEAD key (key schedule, GHASH tables) to save
    /// memory on an idle connection; the secret stays and the key is rebuilt
    /// on the next record.
    pub(crate) fn release(&mut self) {
        self.aead = None;
    }

    #[inline]
    fn aead(&mut self) -> Result<&AeadKey, Error> {
        if self.aead.is_none() {
            self.rebuild_aead()?;
        }
        self.aead.as_ref().ok_or(Error::InvalidKey("AEAD key"))
    }

    /// Rebuilds the AEAD key dropped by [`DirectionKeys::release`]: the
    /// key alone (the IV is kept), as [`key_schedule::record_key_iv`]
    /// derives it.
    #[cold]
    fn rebuild_aead(&mut self) -> Result<(), Error> {
        let mut key = zeroize::Zeroizing::new([0u8; crate::crypto::aead::KEY_LEN]);
        crate::crypto::hash::expand_label(self.provider, &self.secret, b"key", &[], key.as_mut())?;
        self.aead = Some(AeadKey::new(self.provider, self.suite, &key)?);
        Ok(())
    }

    /// Moves to the next traffic secret; the sequence number restarts at 0.
    pub(crate) fn update(&mut self) -> Result<(), Error> {
        let next = key_schedule::next_traffic_secret(self.provider, &self.secret)?;
        *self = Self::new(self.provider, self.suite, next)?;
        Ok(())
    }

    /// Sequence number of the next record.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Jumps to sequence number `seq` (tests of exhaustion only).
    #[cfg(test)]
    pub(crate) fn set_seq_for_test(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// The current traffic secret (for vectors and tests).
    pub(crate) fn secret(&self) -> &[u8; HASH_LEN] {
        &self.secret
    }

    /// IV XOR the sequence number (as a 12-byte big-endian integer).
    #[inline]
    fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        if let Some((high, low)) = nonce.split_first_chunk_mut::<8>() {
            *high = (self.iv_high ^ (self.seq >> 32)).to_be_bytes();
            low.copy_from_slice(&(self.iv_low ^ (self.seq as u32)).to_be_bytes());
        }
        nonce
    }

    /// The sequence number after this record, refusing to reach `u64::MAX`
    /// so that a nonce is never reused.
    fn next_seq(&self) -> Result<u64, Error> {
        self.seq
            .checked_add(1)
            .filter(|s| *s != u64::MAX)
            .ok_or(Error::SequenceExhausted)
    }

    /// Appends one sealed record to `out`. Nothing is appended on failure.
    pub(crate) fn seal(
        &mut self,
        out: &mut Output,
        content_type: ContentType,
        payload: &[u8],
        padding: &Padding,
    ) -> Result<(), Error> {
        if payload.len() > MAX_FRAGMENT_LEN {
            return Err(Error::RecordOverflow);
        }
        let next = self.next_seq()?;
        let unpadded = payload.len().saturating_add(1);
        let inner_len = match padding {
            Padding::None => unpadded,
            _ => padding.padded_len(unpadded),
        };
        let body_len = inner_len.saturating_add(TAG_LEN);
        let header = FrameHeader::encode(FrameType::Record, body_len)?;
        let nonce = self.nonce();
        let aead = self.aead()?;
        let (mark, record) = out.append(HEADER_LEN.saturating_add(body_len));
        let sealed = match record.split_at_mut_checked(HEADER_LEN) {
            Some((head, body)) => {
                head.copy_from_slice(&header);
                // The AAD is read back from the record, not from `header`:
                // the AEAD reading a just-built stack copy with other widths
                // than it was written with stalls on store forwarding.
                let aad: &[u8] = head;
                if inner_len == unpadded {
                    // Straight from the caller's buffer into the send buffer.
                    aead.seal_to(&nonce, aad, payload, &[content_type.to_u8()], body)
                } else {
                    seal_padded(aead, &nonce, aad, payload, content_type, body)
                }
            }
            None => Err(Error::RecordOverflow),
        };
        match sealed {
            Ok(()) => {
                self.seq = next;
                Ok(())
            }
            Err(e) => {
                out.truncate(mark);
                Err(e)
            }
        }
    }

    /// Opens one record in place. `body` is the ciphertext and tag; on
    /// success returns the content type and the payload length (the payload
    /// is `body[..len]`). On failure nothing changes and no plaintext is
    /// exposed: the sequence number is not advanced.
    pub(crate) fn open(
        &mut self,
        header: &[u8; HEADER_LEN],
        body: &mut [u8],
    ) -> Result<(ContentType, usize), Error> {
        let next = self.next_seq()?;
        if body.len() < TAG_LEN {
            return Err(Error::BadRecordMac);
        }
        let nonce = self.nonce();
        let inner_len = self
            .aead()?
            .open_in_place(&nonce, header, body)
            .map_err(|_| Error::BadRecordMac)?;
        let inner = body.get(..inner_len).ok_or(Error::BadRecordMac)?;
        self.seq = next;
        // The content type is the last non-zero byte; everything after it is padding.
        let type_at = inner
            .iter()
            .rposition(|b| *b != 0)
            .ok_or(Error::UnexpectedMessage(
                UnexpectedReason::RecordWithoutContentType,
            ))?;
        let type_byte = inner.get(type_at).copied().unwrap_or(0);
        let content_type = ContentType::from_u8(type_byte).ok_or(Error::UnexpectedMessage(
            UnexpectedReason::UnknownContentType,
        ))?;
        Ok((content_type, type_at))
    }
}

/// Seals `payload || content type || zeros` filling `body` (inner
/// plaintext then tag), in place.
fn seal_padded(
    aead: &AeadKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    payload: &[u8],
    content_type: ContentType,
    body: &mut [u8],
) -> Result<(), Error> {
    let inner_len = body.len().saturating_sub(TAG_LEN);
    let (inner, tag_out) = body
        .split_at_mut_checked(inner_len)
        .ok_or(Error::RecordOverflow)?;
    let (head, rest) = inner
        .split_at_mut_checked(payload.len())
        .ok_or(Error::RecordOverflow)?;
    head.copy_from_slice(payload);
    let (type_byte, zeros) = rest.split_first_mut().ok_or(Error::RecordOverflow)?;
    *type_byte = content_type.to_u8();
    // The send buffer is reused: the padding must be written, not assumed.
    zeros.fill(0);
    let tag = aead.seal_in_place(nonce, aad, inner)?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

#[cfg(test)]
mod tests {
    use zeroize::Zeroizing;

    use super::*;

    fn keys(suite: Suite) -> (DirectionKeys, DirectionKeys) {
        let secret = || Zeroizing::new([0x42; HASH_LEN]);
        (
            DirectionKeys::new(&crate::crypto::RUST_CRYPTO, suite, secret()).unwrap(),
            DirectionKeys::new(&crate::crypto::RUST_CRYPTO, suite, secret()).unwrap(),
        )
    }

    fn header_and_body(record: &[u8]) -> ([u8; HEADER_LEN], Vec<u8>) {
        let (header, body) = record.split_at(HEADER_LEN);
        (header.try_into().unwrap(), body.to_vec())
    }

    #[test]
    fn sequence_numbers_are_exhausted_never_wrapped() {
        for suite in Suite::ALL {
            let (mut send, mut recv) = keys(suite);
            send.set_seq_for_test(u64::MAX - 2);
            recv.set_seq_for_test(u64::MAX - 2);
            // The last usable sequence number works both ways...
            let mut out = Output::default();
            send.seal(&mut out, ContentType::MessageEnd, b"last", &Padding::None)
                .unwrap();
            let (header, mut body) = header_and_body(out.pending());
            assert_eq!(
                recv.open(&header, &mut body),
                Ok((ContentType::MessageEnd, 4))
            );
            assert_eq!((send.seq(), recv.seq()), (u64::MAX - 1, u64::MAX - 1));
            // ...then both directions refuse, nothing is written, and the
            // sequence number stays put instead of wrapping to 0.
            let before = out.len();
            for _ in 0..2 {
                assert_eq!(
                    send.seal(&mut out, ContentType::MessageEnd, b"x", &Padding::None),
                    Err(Error::SequenceExhausted)
                );
                let (header, mut body) = header_and_body(out.pending());
                assert_eq!(recv.open(&header, &mut body), Err(Error::SequenceExhausted));
            }
            assert_eq!(out.len(), before);
            assert_eq!((send.seq(), recv.seq()), (u64::MAX - 1, u64::MAX - 1));
            // Set straight to u64::MAX - 1, the first attempt already fails.
            let (mut send, mut recv) = keys(suite);
            send.set_seq_for_test(u64::MAX - 1);
            recv.set_seq_for_test(u64::MAX - 1);
            assert_eq!(
                send.seal(&mut out, ContentType::Ping, b"", &Padding::None),
                Err(Error::SequenceExhausted)
            );
            let (header, mut body) = header_and_body(out.pending());
            assert_eq!(recv.open(&header, &mut body), Err(Error::SequenceExhausted));
            // A key update restarts the sequence at 0.
            send.update().unwrap();
            assert_eq!(send.seq(), 0);
            assert!(
                send.seal(&mut out, ContentType::Ping, b"", &Padding::None)
                    .is_ok()
            );
        }
    }
}

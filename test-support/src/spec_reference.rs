//! An independent model of the parts of `spec/PROTOCOL.md` the differential
//! targets check lwsec against: ClientHello header (4.1, 4.3 step 1),
//! prologue (4.2), handshake extensions (4.4, 4.9), key confirmation
//! (4.10), the key schedule (5), record protection, content types and
//! padding (6).
//!
//! Written from the spec with the raw primitives only (`sha2`, `hkdf`,
//! `aes-gcm`, `chacha20poly1305`, `x25519-dalek`): nothing here calls lwsec,
//! so a bug in lwsec is not copied into its reference.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};

/// `"lwsec/1 prologue"` (spec 4.2).
pub const PROLOGUE_LABEL: &[u8] = b"lwsec/1 prologue";
/// Suite codes (spec 13).
pub const AES_256_GCM: u8 = 0x01;
/// See [`AES_256_GCM`].
pub const CHACHA20_POLY1305: u8 = 0x02;
/// Pattern codes (spec 4.1).
pub const NK: u8 = 0x01;
/// See [`NK`].
pub const IK: u8 = 0x02;
/// Pattern code of a resumption (spec 4.11).
pub const RESUME: u8 = 0x03;

/// Frame types (spec 3).
pub const FRAME_CLIENT_HELLO: u8 = 0x01;
/// See [`FRAME_CLIENT_HELLO`].
pub const FRAME_SERVER_HELLO: u8 = 0x02;
/// See [`FRAME_CLIENT_HELLO`].
pub const FRAME_RETRY: u8 = 0x03;
/// Frame type of a ResumeRefused (spec 4.11).
pub const FRAME_RESUME_REFUSED: u8 = 0x04;
/// See [`FRAME_CLIENT_HELLO`].
pub const FRAME_ALERT: u8 = 0x15;
/// See [`FRAME_CLIENT_HELLO`].
pub const FRAME_RECORD: u8 = 0x17;

/// Largest ClientHello body (spec 3).
pub const MAX_CLIENT_HELLO_BODY: usize = 10240;
/// Largest ServerHello or Retry body (spec 3).
pub const MAX_HANDSHAKE_BODY: usize = 2048;
/// Largest record body: inner plaintext and tag (spec 6.1).
pub const MAX_RECORD_BODY: usize = 16401;
/// Largest inner plaintext (spec 6.1).
pub const MAX_INNER: usize = 16385;
/// Largest record payload (spec 6.1).
pub const MAX_FRAGMENT: usize = 16384;
/// Largest ping or pong payload (spec 6.2).
pub const MAX_PING: usize = 64;
/// Largest early data (spec 4.4).
pub const MAX_EARLY_DATA: usize = 8192;
/// AEAD tag length.
pub const TAG_LEN: usize = 16;

/// Content types (spec 6.2).
pub const CT_MESSAGE_END: u8 = 0x01;
/// See [`CT_MESSAGE_END`].
pub const CT_MESSAGE_CONTINUES: u8 = 0x02;
/// See [`CT_MESSAGE_END`].
pub const CT_KEY_UPDATE: u8 = 0x03;
/// See [`CT_MESSAGE_END`].
pub const CT_PING: u8 = 0x04;
/// See [`CT_MESSAGE_END`].
pub const CT_PONG: u8 = 0x05;
/// See [`CT_MESSAGE_END`].
pub const CT_ALERT: u8 = 0x06;
/// The client's key confirmation (spec 4.10, 6.2).
pub const CT_CONFIRM: u8 = 0x07;
/// A resumption ticket, server to client (spec 4.11, 6.2).
pub const CT_TICKET: u8 = 0x08;

/// Alert codes (spec 9.1).
pub const ALERT_CLOSE_NOTIFY: u8 = 0;
/// See [`ALERT_CLOSE_NOTIFY`].
pub const ALERT_UNEXPECTED_MESSAGE: u8 = 10;
/// See [`ALERT_CLOSE_NOTIFY`].
pub const ALERT_BAD_RECORD_MAC: u8 = 20;
/// See [`ALERT_CLOSE_NOTIFY`].
pub const ALERT_RECORD_OVERFLOW: u8 = 22;
/// See [`ALERT_CLOSE_NOTIFY`].
pub const ALERT_ILLEGAL_PARAMETER: u8 = 47;
/// See [`ALERT_CLOSE_NOTIFY`].
pub const ALERT_DECODE_ERROR: u8 = 50;
/// See [`ALERT_CLOSE_NOTIFY`].
pub const ALERT_DECRYPT_ERROR: u8 = 51;
/// See [`ALERT_CLOSE_NOTIFY`].
pub const ALERT_UNSUPPORTED_EXTENSION: u8 = 92;
/// See [`ALERT_CLOSE_NOTIFY`].
pub const ALERT_MESSAGE_TOO_LARGE: u8 = 93;

// ----- X25519 and key ids -----

/// The X25519 public key of a private key.
pub fn public_key(private: &[u8; 32]) -> [u8; 32] {
    let secret = x25519_dalek::StaticSecret::from(*private);
    x25519_dalek::PublicKey::from(&secret).to_bytes()
}

/// Whether X25519 of `private` and `public` is all zeros (spec 4.7).
pub fn dh_is_zero(private: &[u8; 32], public: &[u8; 32]) -> bool {
    x25519_dalek::x25519(*private, *public) == [0; 32]
}

/// `key_id(S)`: the first 8 bytes of SHA-256("lwsec key id" || S) (spec 2.2).
pub fn key_id(public: &[u8; 32]) -> [u8; 8] {
    let digest = Sha256::new()
        .chain_update(b"lwsec key id")
        .chain_update(public)
        .finalize();
    digest[..8].try_into().unwrap()
}

/// Encodings of X25519 public keys that give an all-zero DH output
/// (points of small order, canonical or not, and the same with the
/// ignored top bit set), and one that does not (2^256 - 39, in some
/// blocklists but not of small order once the top bit is masked as RFC
/// 7748 requires). The targets inject them; whether the DH output
/// really is zero is computed with [`dh_is_zero`], never assumed.
pub const LOW_ORDER_POINTS: [[u8; 32]; 15] = [
    // 0
    [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00,
    ],
    // 0, top bit set
    [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x80,
    ],
    // 1
    [
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00,
    ],
    // 1, top bit set
    [
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x80,
    ],
    // order 8
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    // order 8, top bit set
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x80,
    ],
    // order 8
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
    // order 8, top bit set
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0xd7,
    ],
    // p - 1
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // p - 1, top bit set
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff,
    ],
    // p (non-canonical 0)
    [
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // p (non-canonical 0), top bit set
    [
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff,
    ],
    // p + 1 (non-canonical 1)
    [
        0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // p + 1 (non-canonical 1), top bit set
    [
        0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff,
    ],
    // 2^256 - 39: not of small order
    [
        0xd9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff,
    ],
];

// ----- framing, ClientHello header, prologue -----

/// `type || length (16) || body` (spec 3).
pub fn frame(frame_type: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![frame_type];
    f.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// Splits one whole frame off `bytes`: (type, body, rest).
pub fn split_frame(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&ty, rest) = bytes.split_first()?;
    let len = usize::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?));
    let body = rest.get(2..2 + len)?;
    Some((ty, body, &rest[2 + len..]))
}

/// A ClientHello header (spec 4.1); `retry` is the echoed Retry body
/// (empty for none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// `pattern`.
    pub pattern: u8,
    /// `suite`.
    pub suite: u8,
    /// `suites`.
    pub suites: Vec<u8>,
    /// `key_id`.
    pub key_id: [u8; 8],
    /// `flags`.
    pub flags: u8,
    /// `retry` (the echoed Retry body, verbatim).
    pub retry: Vec<u8>,
    /// `ticket` (pattern `0x03` only, spec 4.11; empty otherwise).
    pub ticket: Vec<u8>,
}

impl Header {
    /// The header's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut h = b"lw\x01".to_vec();
        h.push(self.pattern);
        h.push(self.suite);
        h.push(u8::try_from(self.suites.len()).unwrap());
        h.extend_from_slice(&self.suites);
        h.extend_from_slice(&self.key_id);
        h.push(self.flags);
        h.push(u8::try_from(self.retry.len()).unwrap());
        h.extend_from_slice(&self.retry);
        if self.pattern == RESUME {
            h.extend_from_slice(&u16::try_from(self.ticket.len()).unwrap().to_be_bytes());
            h.extend_from_slice(&self.ticket);
        }
        h
    }

    /// Parses the header at the start of a ClientHello body and applies the
    /// rules of spec 4.3 step 1 (magic, version, lengths, `n_suites` in
    /// 1..8, no duplicate, `suite` listed, no reserved flag, a well-formed
    /// Retry echo with a cookie of at most 64 bytes). Returns the header
    /// and its length, or `None` when the server must refuse it before
    /// any Noise processing.
    pub fn parse(body: &[u8]) -> Option<(Header, usize)> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Option<&[u8]> {
            let s = body.get(at..at + n)?;
            at += n;
            Some(s)
        };
        if take(2)? != b"lw" || take(1)? != [1] {
            return None;
        }
        let pattern = take(1)?[0];
        let suite = take(1)?[0];
        let n = usize::from(take(1)?[0]);
        let suites = take(n)?.to_vec();
        let key_id: [u8; 8] = take(8)?.try_into().unwrap();
        let flags = take(1)?[0];
        let retry_len = usize::from(take(1)?[0]);
        let retry = take(retry_len)?.to_vec();
        let ticket = if pattern == RESUME {
            let len = usize::from(u16::from_be_bytes(take(2)?.try_into().unwrap()));
            if !(1..=1024).contains(&len) {
                return None;
            }
            take(len)?.to_vec()
        } else {
            Vec::new()
        };
        let distinct = suites
            .iter()
            .enumerate()
            .all(|(i, s)| !suites[..i].contains(s));
        if !(1..=8).contains(&n) || !distinct || !suites.contains(&suite) || flags & !1 != 0 {
            return None;
        }
        if !retry.is_empty() {
            // Retry body: suite (1) || cookie_len (1) || cookie, nothing after.
            let cookie_len = usize::from(*retry.get(1)?);
            if retry.len() != 2 + cookie_len || cookie_len > 64 {
                return None;
            }
        }
        Some((
            Header {
                pattern,
                suite,
                suites,
                key_id,
                flags,
                retry,
                ticket,
            },
            at,
        ))
    }
}

/// `"lwsec/1 prologue" || header` (spec 4.2).
pub fn prologue(header: &[u8]) -> Vec<u8> {
    [PROLOGUE_LABEL, header].concat()
}

// ----- handshake payload extensions -----

/// Which handshake message a payload belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    /// Noise message 1.
    ClientHello,
    /// Noise message 2.
    ServerHello,
}

/// The version-1 extensions found in a payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    /// `timestamp`.
    pub timestamp: Option<u64>,
    /// `early_data`.
    pub early_data: Option<Vec<u8>>,
    /// `early_data_status`.
    pub early_data_status: Option<u8>,
    /// `server_keys`.
    pub server_keys: Option<Vec<[u8; 32]>>,
}

/// Parses an extension list (spec 4.4), reading it front to back and
/// stopping at the first violation, whose alert code it returns.
pub fn parse_extensions(payload: &[u8], message: Message) -> Result<Extensions, u8> {
    let mut rest = payload;
    let mut previous: Option<u16> = None;
    let mut exts = Extensions::default();
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(ALERT_DECODE_ERROR);
        }
        let ty = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let Some(value) = rest.get(4..4 + len) else {
            return Err(ALERT_DECODE_ERROR);
        };
        rest = &rest[4 + len..];
        if previous.is_some_and(|p| ty <= p) {
            return Err(ALERT_DECODE_ERROR);
        }
        previous = Some(ty);
        match (ty, message) {
            (0x0001, Message::ClientHello) => {
                let v: [u8; 8] = value.try_into().map_err(|_| ALERT_DECODE_ERROR)?;
                exts.timestamp = Some(u64::from_be_bytes(v));
            }
            (0x0002, Message::ClientHello) => {
                if value.len() > MAX_EARLY_DATA {
                    return Err(ALERT_ILLEGAL_PARAMETER);
                }
                exts.early_data = Some(value.to_vec());
            }
            (0x0003, Message::ServerHello) => match value {
                [0] | [1] => exts.early_data_status = Some(value[0]),
                _ => return Err(ALERT_DECODE_ERROR),
            },
            // 1 to 8 keys of 32 bytes.
            (0x0004, Message::ServerHello) => {
                if value.is_empty() || value.len() % 32 != 0 || value.len() > 256 {
                    return Err(ALERT_DECODE_ERROR);
                }
                let keys = value.chunks(32).map(|k| k.try_into().unwrap()).collect();
                exts.server_keys = Some(keys);
            }
            (0x0001..=0x0004, _) => return Err(ALERT_ILLEGAL_PARAMETER),
            (t, _) if t & 0x8000 != 0 => return Err(ALERT_UNSUPPORTED_EXTENSION),
            _ => {}
        }
    }
    Ok(exts)
}

/// The ClientHello rules of spec 4.3 step 7 on a decrypted message-1
/// payload: a valid extension list, and the early_data flag, `early_data`
/// and `timestamp` all present or flag and `early_data` both absent.
/// Returns the early data offer (timestamp, data).
pub fn check_client_payload(payload: &[u8], flags: u8) -> Result<Option<(u64, Vec<u8>)>, u8> {
    let exts = parse_extensions(payload, Message::ClientHello)?;
    match (flags & 1 != 0, exts.early_data, exts.timestamp) {
        (true, Some(data), Some(t)) => Ok(Some((t, data))),
        (false, None, _) => Ok(None),
        _ => Err(ALERT_ILLEGAL_PARAMETER),
    }
}

/// The ServerHello rules of spec 4.4 and 4.6: a valid extension list, with
/// `early_data_status` if and only if the client offered early data.
/// Returns the status and the announced server keys.
#[allow(clippy::type_complexity)]
pub fn check_server_payload(
    payload: &[u8],
    offered_early_data: bool,
) -> Result<(Option<u8>, Option<Vec<[u8; 32]>>), u8> {
    let exts = parse_extensions(payload, Message::ServerHello)?;
    match (offered_early_data, exts.early_data_status) {
        (true, Some(s)) => Ok((Some(s), exts.server_keys)),
        (false, None) => Ok((None, exts.server_keys)),
        _ => Err(ALERT_ILLEGAL_PARAMETER),
    }
}

/// The message-1 payload of a client sending early data: `timestamp`
/// then `early_data` (spec 4.4).
pub fn early_data_payload(timestamp: u64, data: &[u8]) -> Vec<u8> {
    let mut p = vec![0x00, 0x01, 0x00, 0x08];
    p.extend_from_slice(&timestamp.to_be_bytes());
    p.extend_from_slice(&[0x00, 0x02]);
    p.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
    p.extend_from_slice(data);
    p
}

/// The message-2 payload: `early_data_status` when the client offered
/// early data, else empty (spec 4.3 step 10).
pub fn server_payload(status: Option<bool>) -> Vec<u8> {
    match status {
        Some(accepted) => vec![0x00, 0x03, 0x00, 0x01, u8::from(accepted)],
        None => Vec::new(),
    }
}

/// Whether a server with an empty replay guard and window `window_ms`
/// accepts early data stamped `timestamp` at `now` (spec 4.9 step 2; steps
/// 3 and 4 pass on a fresh guard).
pub fn early_data_fresh(timestamp: u64, now: u64, window_ms: u64) -> bool {
    let (t, now, w) = (
        u128::from(timestamp),
        u128::from(now),
        u128::from(window_ms),
    );
    now <= t + w && t <= now + w
}

// ----- key schedule -----

/// `HKDF-Expand-Label(secret, label, context, length)` (spec 5), or `None`
/// where the encoding has no room (label over 249 bytes, context over 255,
/// length over 255 * 32).
pub fn expand_label(
    secret: &[u8; 32],
    label: &[u8],
    context: &[u8],
    len: usize,
) -> Option<Vec<u8>> {
    let mut info = u16::try_from(len).ok()?.to_be_bytes().to_vec();
    info.push(u8::try_from(6 + label.len()).ok()?);
    info.extend_from_slice(b"lwsec ");
    info.extend_from_slice(label);
    info.push(u8::try_from(context.len()).ok()?);
    info.extend_from_slice(context);
    let hk = Hkdf::<Sha256>::from_prk(secret).ok()?;
    let mut out = vec![0; len];
    hk.expand(&info, &mut out).ok()?;
    Some(out)
}

fn expand32(secret: &[u8; 32], label: &[u8]) -> [u8; 32] {
    expand_label(secret, label, b"", 32)
        .unwrap()
        .try_into()
        .unwrap()
}

/// The secrets derived from `Split()` and the handshake hash (spec 5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secrets {
    /// `c2s_secret_0`.
    pub c2s: [u8; 32],
    /// `s2c_secret_0`.
    pub s2c: [u8; 32],
    /// `exporter_secret`.
    pub exporter: [u8; 32],
}

/// `master = HKDF-Extract(h, k1 || k2)` and the secrets expanded from it.
pub fn key_schedule(k1: &[u8; 32], k2: &[u8; 32], h: &[u8; 32]) -> Secrets {
    let (master, _) = Hkdf::<Sha256>::extract(Some(h), &[&k1[..], &k2[..]].concat());
    let master: [u8; 32] = master.as_slice().try_into().unwrap();
    Secrets {
        c2s: expand32(&master, b"c2s traffic"),
        s2c: expand32(&master, b"s2c traffic"),
        exporter: expand32(&master, b"exporter"),
    }
}

/// `resumption_secret = HKDF-Expand-Label(exporter_secret, "resumption",
/// "", 32)` (spec 4.11).
pub fn resumption_secret(exporter: &[u8; 32]) -> [u8; 32] {
    expand32(exporter, b"resumption")
}

/// The client's checks of a ticket record's payload (spec 4.11, on the
/// first ticket record): the lifetime in seconds and the ticket, or `None`
/// for a `decode_error` (shorter than 5 bytes, a lifetime of 0 or above
/// 604800, a ticket above 1024 bytes).
pub fn parse_ticket_record(payload: &[u8]) -> Option<(u32, &[u8])> {
    let (lifetime, ticket) = payload.split_first_chunk::<4>()?;
    let lifetime = u32::from_be_bytes(*lifetime);
    ((1..=604_800).contains(&lifetime) && (1..=1024).contains(&ticket.len()))
        .then_some((lifetime, ticket))
}

/// `export(label, context, L)`, or `None` for a label that is empty or
/// over 249 bytes, or `L` over 8160 (spec 5).
pub fn export(exporter: &[u8; 32], label: &[u8], context: &[u8], len: usize) -> Option<Vec<u8>> {
    if label.is_empty() || len > 8160 {
        return None;
    }
    expand_label(exporter, label, &Sha256::digest(context), len)
}

// ----- records -----

/// A padding policy of spec 6.3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pad {
    /// No padding.
    None,
    /// Pad the inner plaintext to a multiple of `N`.
    MultipleOf(u16),
    /// Pad to the smallest listed size that fits, else to 16385.
    Buckets(Vec<u16>),
}

impl Pad {
    /// The padded inner plaintext length for `n = payload + 1`.
    pub fn padded_len(&self, n: usize) -> usize {
        let padded = match self {
            Pad::None => n,
            Pad::MultipleOf(m) => n.div_ceil(usize::from(*m)) * usize::from(*m),
            Pad::Buckets(sizes) => sizes
                .iter()
                .map(|s| usize::from(*s))
                .find(|s| *s >= n)
                .unwrap_or(MAX_INNER),
        };
        // Padding never adds beyond 16385 bytes, and never removes.
        padded.min(MAX_INNER).max(n)
    }
}

/// One direction's record protection state: traffic secret, key, IV and
/// sequence number (spec 5, 6.1, 8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Direction {
    /// The suite code.
    pub suite: u8,
    /// The current traffic secret.
    pub secret: [u8; 32],
    /// `HKDF-Expand-Label(secret, "key", "", 32)`.
    pub key: [u8; 32],
    /// `HKDF-Expand-Label(secret, "iv", "", 12)`.
    pub iv: [u8; 12],
    /// The sequence number of the next record.
    pub seq: u64,
}

impl Direction {
    /// The state for a fresh traffic secret.
    pub fn new(suite: u8, secret: [u8; 32]) -> Self {
        Self {
            suite,
            secret,
            key: expand32(&secret, b"key"),
            iv: expand_label(&secret, b"iv", b"", 12)
                .unwrap()
                .try_into()
                .unwrap(),
            seq: 0,
        }
    }

    /// Switches to the next traffic secret (spec 8).
    pub fn update(&mut self) {
        *self = Self::new(self.suite, expand32(&self.secret, b"traffic upd"));
    }

    /// `iv XOR (0^32 || seq)`.
    fn nonce(&self) -> [u8; 12] {
        let mut n = self.iv;
        for (b, s) in n[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    /// Seals an inner plaintext as a record frame and advances `seq`.
    pub fn seal_inner(&mut self, inner: &[u8]) -> Vec<u8> {
        let length = u16::try_from(inner.len() + TAG_LEN).unwrap();
        let aad = [FRAME_RECORD, (length >> 8) as u8, length as u8];
        let nonce = self.nonce();
        let payload = Payload {
            msg: inner,
            aad: &aad,
        };
        let body = match self.suite {
            AES_256_GCM => Aes256Gcm::new((&self.key).into())
                .encrypt((&nonce).into(), payload)
                .unwrap(),
            _ => ChaCha20Poly1305::new((&self.key).into())
                .encrypt((&nonce).into(), payload)
                .unwrap(),
        };
        self.seq += 1;
        [&aad[..], &body].concat()
    }

    /// Seals `payload || content_type || zeros` padded to `inner_len`.
    pub fn seal(&mut self, content_type: u8, payload: &[u8], inner_len: usize) -> Vec<u8> {
        let mut inner = payload.to_vec();
        inner.push(content_type);
        inner.resize(inner_len.max(inner.len()), 0);
        self.seal_inner(&inner)
    }

    /// Opens a whole record frame (header included) with the expected
    /// sequence number; advances `seq` only on success.
    pub fn open(&mut self, record: &[u8]) -> Option<Vec<u8>> {
        let (aad, body) = record.split_at_checked(3)?;
        let nonce = self.nonce();
        let payload = Payload { msg: body, aad };
        let inner = match self.suite {
            AES_256_GCM => Aes256Gcm::new((&self.key).into())
                .decrypt((&nonce).into(), payload)
                .ok()?,
            _ => ChaCha20Poly1305::new((&self.key).into())
                .decrypt((&nonce).into(), payload)
                .ok()?,
        };
        self.seq += 1;
        Some(inner)
    }
}

/// The content type and payload of an inner plaintext: the content type is
/// its last non-zero byte (spec 6.1). `None` when it is all zeros.
pub fn parse_inner(inner: &[u8]) -> Option<(u8, &[u8])> {
    let at = inner.iter().rposition(|b| *b != 0)?;
    Some((inner[at], &inner[..at]))
}

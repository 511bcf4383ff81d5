//! The tester's own codec, written from `spec/PROTOCOL.md` (not from lwsec's
//! code): frames (section 3), the ClientHello header (4.1), extensions
//! (4.4), Retry bodies (4.5), resumption (4.11: the ticket field, the ticket
//! record, the resumption secret), the key schedule (5) and record
//! protection (6.1). Noise itself is `snow`, an independent implementation.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};

// ----- registries (section 13) -----

pub const FRAME_CLIENT_HELLO: u8 = 0x01;
pub const FRAME_SERVER_HELLO: u8 = 0x02;
pub const FRAME_RETRY: u8 = 0x03;
pub const FRAME_RESUME_REFUSED: u8 = 0x04;
pub const FRAME_ALERT: u8 = 0x15;
pub const FRAME_RECORD: u8 = 0x17;

pub const MAX_CLIENT_HELLO: usize = 10240;
pub const MAX_SERVER_HELLO: usize = 2048;
pub const MAX_RETRY: usize = 2048;
pub const MAX_RECORD_BODY: usize = 16401;
pub const MAX_FRAGMENT: usize = 16384;
pub const MAX_PING: usize = 64;
pub const MAX_COOKIE: usize = 64;
pub const MAX_SUITES: usize = 8;
pub const MAX_EARLY_DATA: usize = 8192;
/// Longest ticket on the wire (sections 4.11, 11).
pub const MAX_TICKET: usize = 1024;
/// Longest ticket lifetime in seconds: 7 days (sections 4.11, 11).
pub const MAX_TICKET_LIFETIME: u32 = 604_800;
pub const TAG_LEN: usize = 16;

pub const NK: u8 = 0x01;
pub const IK: u8 = 0x02;
/// Pattern `0x03`: a resumed handshake, Noise `NNpsk0` (section 4.11).
pub const RESUME: u8 = 0x03;
pub const AES: u8 = 0x01;
pub const CHACHA: u8 = 0x02;

pub const CT_MESSAGE_END: u8 = 0x01;
pub const CT_MESSAGE_CONTINUES: u8 = 0x02;
pub const CT_KEY_UPDATE: u8 = 0x03;
pub const CT_PING: u8 = 0x04;
pub const CT_PONG: u8 = 0x05;
pub const CT_ALERT: u8 = 0x06;
pub const CT_CONFIRM: u8 = 0x07;
pub const CT_TICKET: u8 = 0x08;

pub const EXT_TIMESTAMP: u16 = 0x0001;
pub const EXT_EARLY_DATA: u16 = 0x0002;
pub const EXT_EARLY_DATA_STATUS: u16 = 0x0003;
pub const EXT_SERVER_KEYS: u16 = 0x0004;

/// Alert codes of section 9.1.
pub mod alert {
    pub const CLOSE_NOTIFY: u8 = 0;
    pub const UNEXPECTED_MESSAGE: u8 = 10;
    pub const BAD_RECORD_MAC: u8 = 20;
    pub const RECORD_OVERFLOW: u8 = 22;
    pub const HANDSHAKE_FAILURE: u8 = 40;
    pub const ILLEGAL_PARAMETER: u8 = 47;
    pub const DECODE_ERROR: u8 = 50;
    pub const DECRYPT_ERROR: u8 = 51;
    pub const PROTOCOL_VERSION: u8 = 70;
    pub const INTERNAL_ERROR: u8 = 80;
    pub const UNKNOWN_SERVER_KEY: u8 = 90;
    pub const CLIENT_REJECTED: u8 = 91;
    pub const UNSUPPORTED_EXTENSION: u8 = 92;
    pub const MESSAGE_TOO_LARGE: u8 = 93;
    pub const BAD_COOKIE: u8 = 94;
}

/// `name(code)` of an alert code.
pub fn alert_name(code: u8) -> String {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        47 => "illegal_parameter",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        80 => "internal_error",
        90 => "unknown_server_key",
        91 => "client_rejected",
        92 => "unsupported_extension",
        93 => "message_too_large",
        94 => "bad_cookie",
        _ => "unknown",
    };
    format!("{name}({code})")
}

pub fn suite_name(suite: u8) -> &'static str {
    match suite {
        AES => "AES-256-GCM",
        CHACHA => "ChaCha20-Poly1305",
        _ => "unknown suite",
    }
}

pub fn pattern_name(pattern: u8) -> &'static str {
    match pattern {
        NK => "NK",
        IK => "IK",
        RESUME => "resume (NNpsk0)",
        _ => "unknown pattern",
    }
}

// ----- frames (section 3) -----

/// A whole frame: `type || length (2) || body`.
pub fn frame(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(3 + body.len());
    f.push(ty);
    f.extend_from_slice(&(body.len() as u16).to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// A frame header alone, claiming `len` bytes of body.
pub fn frame_header(ty: u8, len: usize) -> Vec<u8> {
    let mut f = vec![ty];
    f.extend_from_slice(&(len as u16).to_be_bytes());
    f
}

pub fn alert_frame(code: u8) -> Vec<u8> {
    frame(FRAME_ALERT, &[code])
}

// ----- extensions (section 4.4) -----

pub fn ext(ty: u16, value: &[u8]) -> Vec<u8> {
    let mut e = ty.to_be_bytes().to_vec();
    e.extend_from_slice(&(value.len() as u16).to_be_bytes());
    e.extend_from_slice(value);
    e
}

/// One parsed extension.
#[derive(Clone, Debug)]
pub struct Extension {
    pub ty: u16,
    pub value: Vec<u8>,
}

/// Parses an extension list with the checks of section 4.4 that apply to
/// every message (structure and order); returns the alert of the first
/// failure. `allowed` are the known types allowed in this message.
pub fn parse_extensions(payload: &[u8], allowed: &[u16]) -> Result<Vec<Extension>, u8> {
    let known = [
        EXT_TIMESTAMP,
        EXT_EARLY_DATA,
        EXT_EARLY_DATA_STATUS,
        EXT_SERVER_KEYS,
    ];
    let mut out = Vec::new();
    let mut rest = payload;
    let mut previous: Option<u16> = None;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(alert::DECODE_ERROR);
        }
        let ty = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        if rest.len() < 4 + len {
            return Err(alert::DECODE_ERROR);
        }
        if previous.is_some_and(|p| ty <= p) {
            return Err(alert::DECODE_ERROR);
        }
        previous = Some(ty);
        let is_known = known.contains(&ty);
        if !is_known && ty & 0x8000 != 0 {
            return Err(alert::UNSUPPORTED_EXTENSION);
        }
        if is_known && !allowed.contains(&ty) {
            return Err(alert::ILLEGAL_PARAMETER);
        }
        out.push(Extension {
            ty,
            value: rest[4..4 + len].to_vec(),
        });
        rest = &rest[4 + len..];
    }
    Ok(out)
}

// ----- keys (section 2.2, appendix A) -----

pub fn key_id(public: &[u8; 32]) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(b"lwsec key id");
    h.update(public);
    let d = h.finalize();
    let mut id = [0u8; 8];
    id.copy_from_slice(&d[..8]);
    id
}

pub fn public_of(private: &[u8; 32]) -> [u8; 32] {
    let secret = x25519_dalek::StaticSecret::from(*private);
    x25519_dalek::PublicKey::from(&secret).to_bytes()
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand_core::RngCore;
    let mut b = [0u8; N];
    rand_core::OsRng.fill_bytes(&mut b);
    b
}

/// Reads a key file of appendix A: the one key line with `prefix`.
pub fn read_key_file(path: &std::path::Path, prefix: &str) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(hex) = line.strip_prefix(prefix) else {
            return Err(format!(
                "{}: a line without the prefix {prefix}",
                path.display()
            ));
        };
        if found.is_some() {
            return Err(format!("{}: more than one key line", path.display()));
        }
        let bytes = decode_hex(hex).ok_or_else(|| format!("{}: bad hex", path.display()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("{}: a key is 64 hex digits", path.display()))?;
        found = Some(key);
    }
    found.ok_or_else(|| format!("{}: no {prefix} line", path.display()))
}

pub fn write_public_key_file(path: &std::path::Path, public: &[u8; 32]) -> std::io::Result<()> {
    std::fs::write(path, format!("lwsec-public-v1:{}\n", hex(public)))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

// ----- ClientHello header (section 4.1) -----

/// The fields of a ClientHello header, encoded verbatim (so a test can put
/// any value in any field).
#[derive(Clone, Debug)]
pub struct Header {
    pub magic: [u8; 2],
    pub version: u8,
    pub pattern: u8,
    pub suite: u8,
    pub suites: Vec<u8>,
    pub key_id: [u8; 8],
    pub flags: u8,
    /// The echoed Retry body (`retry_len` is its length).
    pub retry: Vec<u8>,
    /// `ticket_len || ticket` at the end of the header (section 4.11),
    /// encoded whenever it is `Some`, whatever the pattern (so a test can
    /// put a ticket where none belongs, or an empty one).
    pub ticket: Option<Vec<u8>>,
}

impl Header {
    pub fn new(pattern: u8, suite: u8, suites: &[u8], server: &[u8; 32]) -> Self {
        Header {
            magic: *b"lw",
            version: 1,
            pattern,
            suite,
            suites: suites.to_vec(),
            key_id: key_id(server),
            flags: 0,
            retry: Vec::new(),
            ticket: None,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&self.magic);
        h.push(self.version);
        h.push(self.pattern);
        h.push(self.suite);
        h.push(self.suites.len() as u8);
        h.extend_from_slice(&self.suites);
        h.extend_from_slice(&self.key_id);
        h.push(self.flags);
        h.push(self.retry.len() as u8);
        h.extend_from_slice(&self.retry);
        if let Some(ticket) = &self.ticket {
            h.extend_from_slice(&(ticket.len() as u16).to_be_bytes());
            h.extend_from_slice(ticket);
        }
        h
    }

    /// Parses a client's header with the checks of section 4.3 step 1
    /// (returns the alert a server would send); also returns the header's
    /// length.
    pub fn parse(body: &[u8]) -> Result<(Header, usize), (u8, &'static str)> {
        let dec = |what| (alert::DECODE_ERROR, what);
        if body.len() < 2 || &body[..2] != b"lw" {
            return Err(dec("bad magic"));
        }
        if body.len() < 3 {
            return Err(dec("no version"));
        }
        if body[2] != 1 {
            return Err((alert::PROTOCOL_VERSION, "version is not 1"));
        }
        if body.len() < 6 {
            return Err(dec("header runs past the body"));
        }
        let (pattern, suite, n) = (body[3], body[4], usize::from(body[5]));
        if !(1..=MAX_SUITES).contains(&n) {
            return Err(dec("n_suites outside 1..8"));
        }
        let mut at = 6;
        if body.len() < at + n + 10 {
            return Err(dec("header runs past the body"));
        }
        let suites = body[at..at + n].to_vec();
        at += n;
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&body[at..at + 8]);
        at += 8;
        let flags = body[at];
        let retry_len = usize::from(body[at + 1]);
        at += 2;
        if body.len() < at + retry_len {
            return Err(dec("retry echo runs past the body"));
        }
        let retry = body[at..at + retry_len].to_vec();
        at += retry_len;
        if !retry.is_empty() {
            if retry.len() < 2 {
                return Err(dec("retry echo shorter than 2 bytes"));
            }
            let cookie_len = usize::from(retry[1]);
            if cookie_len > MAX_COOKIE || retry.len() != 2 + cookie_len {
                return Err(dec("malformed retry echo"));
            }
        }
        let mut ticket = None;
        if pattern == RESUME {
            if body.len() < at + 2 {
                return Err(dec("ticket_len runs past the body"));
            }
            let len = usize::from(u16::from_be_bytes([body[at], body[at + 1]]));
            at += 2;
            if len == 0 || len > MAX_TICKET {
                return Err(dec("ticket_len 0 or above 1024"));
            }
            if body.len() < at + len {
                return Err(dec("ticket runs past the body"));
            }
            ticket = Some(body[at..at + len].to_vec());
            at += len;
        }
        for (i, s) in suites.iter().enumerate() {
            if suites[..i].contains(s) {
                return Err((alert::ILLEGAL_PARAMETER, "duplicate suite"));
            }
        }
        if !suites.contains(&suite) {
            return Err((alert::ILLEGAL_PARAMETER, "suite not in the suite list"));
        }
        if flags & !1 != 0 {
            return Err((alert::ILLEGAL_PARAMETER, "reserved flag bit set"));
        }
        let header = Header {
            magic: *b"lw",
            version: 1,
            pattern,
            suite,
            suites,
            key_id,
            flags,
            retry,
            ticket,
        };
        Ok((header, at))
    }
}

pub fn prologue(header: &[u8]) -> Vec<u8> {
    [b"lwsec/1 prologue".as_slice(), header].concat()
}

pub fn retry_body(suite: u8, cookie: &[u8]) -> Vec<u8> {
    let mut b = vec![suite, cookie.len() as u8];
    b.extend_from_slice(cookie);
    b
}

// ----- Noise (section 2.1), through snow -----

pub fn noise_name(pattern: u8, suite: u8) -> String {
    let p = match pattern {
        IK => "IK",
        RESUME => "NNpsk0",
        _ => "NK",
    };
    let c = if suite == CHACHA {
        "ChaChaPoly"
    } else {
        "AESGCM"
    };
    format!("Noise_{p}_25519_{c}_SHA256")
}

/// Builds a Noise initiator (the client's side).
pub fn noise_initiator(
    pattern: u8,
    suite: u8,
    prologue: &[u8],
    server: &[u8; 32],
    client_static: Option<&[u8; 32]>,
    fixed_ephemeral: Option<&[u8; 32]>,
) -> snow::HandshakeState {
    let params: snow::params::NoiseParams = noise_name(pattern, suite).parse().expect("params");
    let mut b = snow::Builder::new(params)
        .prologue(prologue)
        .expect("prologue")
        .remote_public_key(server)
        .expect("remote key");
    if let Some(k) = client_static {
        b = b.local_private_key(k).expect("local key");
    }
    if let Some(e) = fixed_ephemeral {
        b = b.fixed_ephemeral_key_for_testing_only(e);
    }
    b.build_initiator().expect("initiator")
}

/// Builds a Noise responder (the server's side).
pub fn noise_responder(
    pattern: u8,
    suite: u8,
    prologue: &[u8],
    server_private: &[u8; 32],
) -> snow::HandshakeState {
    let params: snow::params::NoiseParams = noise_name(pattern, suite).parse().expect("params");
    snow::Builder::new(params)
        .prologue(prologue)
        .expect("prologue")
        .local_private_key(server_private)
        .expect("local key")
        .build_responder()
        .expect("responder")
}

/// A Noise `NNpsk0` state for a resumed handshake (section 4.11): the
/// initiator when `initiator`, else the responder; `psk` is the ticket's
/// resumption secret.
pub fn noise_resume(
    initiator: bool,
    suite: u8,
    prologue: &[u8],
    psk: &[u8; 32],
    fixed_ephemeral: Option<&[u8; 32]>,
) -> snow::HandshakeState {
    let params: snow::params::NoiseParams = noise_name(RESUME, suite).parse().expect("params");
    let mut b = snow::Builder::new(params)
        .prologue(prologue)
        .expect("prologue")
        .psk(0, psk)
        .expect("psk");
    if let Some(e) = fixed_ephemeral {
        b = b.fixed_ephemeral_key_for_testing_only(e);
    }
    if initiator {
        b.build_initiator().expect("initiator")
    } else {
        b.build_responder().expect("responder")
    }
}

/// What a finished handshake gives (section 5): the two directions'
/// traffic keys and the resumption secret (section 4.11).
pub struct Secrets {
    pub c2s: Direction,
    pub s2c: Direction,
    pub resumption: [u8; 32],
}

/// The key schedule of section 5 on a finished handshake.
pub fn secrets(hs: &mut snow::HandshakeState, suite: u8) -> Secrets {
    let h: Vec<u8> = hs.get_handshake_hash().to_vec();
    let (k1, k2) = hs.dangerously_get_raw_split();
    let ikm = [k1.as_slice(), k2.as_slice()].concat();
    let (prk, _) = Hkdf::<Sha256>::extract(Some(&h), &ikm);
    let c2s = expand_label(&prk, "c2s traffic", b"", 32);
    let s2c = expand_label(&prk, "s2c traffic", b"", 32);
    let exporter = expand_label(&prk, "exporter", b"", 32);
    let resumption = expand_label(&exporter, "resumption", b"", 32);
    Secrets {
        c2s: Direction::new(suite, c2s.try_into().expect("32")),
        s2c: Direction::new(suite, s2c.try_into().expect("32")),
        resumption: resumption.try_into().expect("32"),
    }
}

/// The two directions' traffic keys of a finished handshake (section 5):
/// (client-to-server, server-to-client).
pub fn split(hs: &mut snow::HandshakeState, suite: u8) -> (Direction, Direction) {
    let s = secrets(hs, suite);
    (s.c2s, s.s2c)
}

// ----- tickets (section 4.11) -----

/// A ticket record's payload: `lifetime (4) || ticket`.
pub fn ticket_payload(lifetime: u32, ticket: &[u8]) -> Vec<u8> {
    [lifetime.to_be_bytes().as_slice(), ticket].concat()
}

/// Parses a ticket record's payload with a client's checks (section 4.11):
/// (lifetime, ticket), or why a client fails with `decode_error`.
pub fn parse_ticket_payload(payload: &[u8]) -> Result<(u32, Vec<u8>), &'static str> {
    if payload.len() < 5 {
        return Err("a ticket record payload shorter than 5 bytes");
    }
    let lifetime = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
    if lifetime == 0 || lifetime > MAX_TICKET_LIFETIME {
        return Err("a ticket lifetime of 0 or above 604800 s");
    }
    if payload.len() - 4 > MAX_TICKET {
        return Err("a ticket above 1024 bytes");
    }
    Ok((lifetime, payload[4..].to_vec()))
}

/// HKDF-Expand-Label with lwsec's prefix (section 5).
pub fn expand_label(secret: &[u8], label: &str, context: &[u8], len: usize) -> Vec<u8> {
    let full = format!("lwsec {label}");
    let mut info = Vec::new();
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(context.len() as u8);
    info.extend_from_slice(context);
    let hk = Hkdf::<Sha256>::from_prk(secret).expect("prk");
    let mut out = vec![0u8; len];
    hk.expand(&info, &mut out).expect("expand");
    out
}

// ----- records (section 6.1) -----

/// One direction's record protection state.
#[derive(Clone)]
pub struct Direction {
    pub suite: u8,
    pub secret: [u8; 32],
    pub key: [u8; 32],
    pub iv: [u8; 12],
    pub seq: u64,
}

impl Direction {
    pub fn new(suite: u8, secret: [u8; 32]) -> Self {
        let key = expand_label(&secret, "key", b"", 32)
            .try_into()
            .expect("32");
        let iv = expand_label(&secret, "iv", b"", 12).try_into().expect("12");
        Direction {
            suite,
            secret,
            key,
            iv,
            seq: 0,
        }
    }

    /// Moves to the next traffic secret (section 8).
    pub fn update(&mut self) {
        let next = expand_label(&self.secret, "traffic upd", b"", 32);
        *self = Direction::new(self.suite, next.try_into().expect("32"));
    }

    fn nonce(&self, seq: u64) -> [u8; 12] {
        let mut n = self.iv;
        for (i, b) in seq.to_be_bytes().iter().enumerate() {
            n[4 + i] ^= b;
        }
        n
    }

    /// Seals an inner plaintext at the current `seq` into a whole record,
    /// and advances `seq`.
    pub fn seal_inner(&mut self, inner: &[u8]) -> Vec<u8> {
        let len = inner.len() + TAG_LEN;
        let header = frame_header(FRAME_RECORD, len);
        let nonce = self.nonce(self.seq);
        let payload = Payload {
            msg: inner,
            aad: &header,
        };
        let sealed = match self.suite {
            CHACHA => chacha20poly1305::ChaCha20Poly1305::new(&self.key.into())
                .encrypt(&nonce.into(), payload),
            _ => aes_gcm::Aes256Gcm::new(&self.key.into()).encrypt(&nonce.into(), payload),
        }
        .expect("seal");
        self.seq += 1;
        [header, sealed].concat()
    }

    /// Seals `payload || ct || padding zeros`.
    pub fn seal(&mut self, ct: u8, payload: &[u8], padding: usize) -> Vec<u8> {
        let mut inner = payload.to_vec();
        inner.push(ct);
        inner.resize(inner.len() + padding, 0);
        self.seal_inner(&inner)
    }

    /// Opens a record body at the current `seq` (advancing it on success):
    /// the inner plaintext.
    pub fn open(&mut self, body: &[u8]) -> Option<Vec<u8>> {
        let header = frame_header(FRAME_RECORD, body.len());
        let nonce = self.nonce(self.seq);
        let payload = Payload {
            msg: body,
            aad: &header,
        };
        let inner = match self.suite {
            CHACHA => chacha20poly1305::ChaCha20Poly1305::new(&self.key.into())
                .decrypt(&nonce.into(), payload),
            _ => aes_gcm::Aes256Gcm::new(&self.key.into()).decrypt(&nonce.into(), payload),
        }
        .ok()?;
        self.seq += 1;
        Some(inner)
    }
}

/// Splits an inner plaintext into (content type, payload); `None` when it
/// is all zeros.
pub fn split_inner(inner: &[u8]) -> Option<(u8, &[u8])> {
    let end = inner.iter().rposition(|&b| b != 0)?;
    Some((inner[end], &inner[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The resumption header (section 4.11): the ticket ends the header,
    /// with the length checks of section 4.3 step 1.
    #[test]
    fn resumption_header_round_trips_and_checks_ticket_len() {
        let mut h = Header::new(RESUME, AES, &[AES, CHACHA], &[7; 32]);
        h.ticket = Some(vec![0x42; 100]);
        let bytes = [h.encode(), vec![0; 48]].concat();
        let (parsed, len) = Header::parse(&bytes).unwrap();
        assert_eq!(len, bytes.len() - 48);
        assert_eq!(parsed.ticket, h.ticket);
        for bad in [0, MAX_TICKET + 1] {
            h.ticket = Some(vec![0x42; bad]);
            let bytes = [h.encode(), vec![0; 48]].concat();
            assert_eq!(Header::parse(&bytes).unwrap_err().0, alert::DECODE_ERROR);
        }
        h.ticket = Some(vec![0x42; 100]);
        let encoded = h.encode();
        assert_eq!(
            Header::parse(&encoded[..encoded.len() - 1]).unwrap_err().0,
            alert::DECODE_ERROR
        );
        // Not pattern 0x03: no ticket is read.
        h.pattern = NK;
        let (parsed, len) = Header::parse(&h.encode()).unwrap();
        assert_eq!((parsed.ticket, len), (None, h.encode().len() - 102));
    }

    #[test]
    fn ticket_payload_limits() {
        let ok = |l, n| parse_ticket_payload(&ticket_payload(l, &vec![1; n])).is_ok();
        assert!(ok(1, 1) && ok(MAX_TICKET_LIFETIME, MAX_TICKET));
        assert!(!ok(0, 10) && !ok(MAX_TICKET_LIFETIME + 1, 10));
        assert!(!ok(3600, 0) && !ok(3600, MAX_TICKET + 1));
        assert!(parse_ticket_payload(&[0, 0, 1]).is_err());
    }

    /// The key schedule and record layer against the committed vectors
    /// (records.json's first stream: the confirm record).
    #[test]
    fn key_schedule_matches_handshake_vector() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../test-vectors/handshake.json"
        ))
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let hs = &v["vectors"][0];
        let secret = decode_hex(hs["client_to_server"]["secret"].as_str().unwrap()).unwrap();
        let mut c2s = Direction::new(AES, secret.try_into().unwrap());
        assert_eq!(
            hex(&c2s.key),
            hs["client_to_server"]["key"].as_str().unwrap()
        );
        assert_eq!(hex(&c2s.iv), hs["client_to_server"]["iv"].as_str().unwrap());
        let confirm = c2s.seal(CT_CONFIRM, b"", 0);
        assert_eq!(hex(&confirm), hs["client_confirm"].as_str().unwrap());
        let server_public = decode_hex(hs["server_static_public"].as_str().unwrap()).unwrap();
        assert_eq!(
            hex(&key_id(&server_public.try_into().unwrap())),
            hs["server_key_id"].as_str().unwrap()
        );
    }
}

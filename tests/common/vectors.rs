//! lwsec's own known-answer vectors (`test-vectors/*.json`, format in
//! `spec/VECTORS.md`): the data model and the deterministic generator.
//!
//! This module is shared by `examples/gen_vectors.rs`, which writes the files
//! (`cargo run --example gen_vectors`), and by `tests/vectors.rs`, which
//! checks the implementation against the committed files. Nothing here reads
//! a clock or the operating system's RNG: every key comes from
//! [`DeterministicRandom`] with a named seed, every ephemeral key is fed to the
//! connection through [`ReplayRandom`], and the time is [`FIXED_TIME`].
//!
//! Every `compute_*` function takes a vector's *inputs* (keys, commands,
//! tampered bytes) and runs the implementation on them, returning the whole
//! vector with every output filled in. The generator calls them on inputs
//! derived from seeds; the test calls them on the committed vectors and
//! requires the outputs to be identical.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use std::time::Duration;

use lwsec::early_data::StrikeRegister;
use lwsec::rng::{DeterministicRandom, SecureRandom};
use lwsec::{
    Acceptance, AlertCode, ClientConfig, Connection, DirectionSecrets, Error, Event, Padding,
    Pattern, Rejection, ServerConfig, ServerOptions, Side, StaticKeyPair, Suite, Time,
    TransportConfig, noise_protocol_name,
};
use serde::{Deserialize, Serialize};

/// The time every vector connection is created and driven at.
pub(crate) const FIXED_TIME: Time = Time::from_millis(1_767_225_600_000);

/// The vector files, in `test-vectors/`.
pub(crate) const FILES: [&str; 5] = [
    "handshake.json",
    "records.json",
    "retry.json",
    "early_data.json",
    "negative.json",
];

/// The peer address every cookie-demanding vector server sees.
const PEER_ADDRESS: &[u8] = b"203.0.113.7:50412";

/// The early data every early-data vector client sends.
const EARLY_DATA: &[u8] = b"lwsec early data: fetch new messages since 1767225590000";

/// The anti-replay window of the early-data vector servers (milliseconds).
const EARLY_DATA_WINDOW_MS: u64 = 10_000;

/// Prefix of every named seed.
const SEED_PREFIX: &str = "lwsec test vectors v1/";

const PROLOGUE_LABEL: &[u8] = b"lwsec/1 prologue";
const TAG_LEN: usize = 16;
const RECORD_TYPE: u8 = 0x17;

// ---------------------------------------------------------------------------
// Data model
// ---------------------------------------------------------------------------

/// A traffic secret with the record key and IV derived from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TrafficKeys {
    /// The traffic secret (32 bytes).
    pub(crate) secret: String,
    /// The AEAD key (32 bytes).
    pub(crate) key: String,
    /// The IV (12 bytes).
    pub(crate) iv: String,
}

/// An exporter call and its output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Exporter {
    /// The label (hex).
    pub(crate) label: String,
    /// The context (hex).
    pub(crate) context: String,
    /// The number of bytes exported.
    pub(crate) length: usize,
    /// The exported bytes.
    pub(crate) output: String,
}

/// `test-vectors/handshake.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HandshakeFile {
    /// What the file holds.
    pub(crate) description: String,
    /// One vector per pattern and suite.
    pub(crate) vectors: Vec<HandshakeVector>,
}

/// One complete handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HandshakeVector {
    /// Unique name, e.g. `nk-aes-256-gcm`.
    pub(crate) name: String,
    /// `NK` or `IK`.
    pub(crate) pattern: String,
    /// The negotiated suite (`AES-256-GCM` or `ChaCha20-Poly1305`).
    pub(crate) suite: String,
    /// The Noise protocol name.
    pub(crate) noise_protocol: String,
    /// Suite codes the client offers, most preferred first.
    pub(crate) client_suites: Vec<u8>,
    /// Suite codes the server accepts.
    pub(crate) server_suites: Vec<u8>,
    /// The server's static private key.
    pub(crate) server_static_private: String,
    /// Its public key.
    pub(crate) server_static_public: String,
    /// The server key id sent in the ClientHello.
    pub(crate) server_key_id: String,
    /// The client's static private key (IK only).
    pub(crate) client_static_private: Option<String>,
    /// Its public key (IK only).
    pub(crate) client_static_public: Option<String>,
    /// The client's ephemeral private key (the client RNG's only output).
    pub(crate) client_ephemeral_private: String,
    /// Its public key.
    pub(crate) client_ephemeral_public: String,
    /// The server's ephemeral private key (the server RNG's only output).
    pub(crate) server_ephemeral_private: String,
    /// Its public key.
    pub(crate) server_ephemeral_public: String,
    /// The Noise prologue: `"lwsec/1 prologue" || ClientHello header`.
    pub(crate) prologue: String,
    /// The ClientHello frame.
    pub(crate) client_hello: String,
    /// The server keys the server announces in its ServerHello (the
    /// `server_keys` extension), in order; null when it announces none.
    pub(crate) announced_server_keys: Option<Vec<String>>,
    /// The ServerHello frame.
    pub(crate) server_hello: String,
    /// The client's key confirmation: its first record (content type
    /// `confirm`, empty payload, sequence number 0).
    pub(crate) client_confirm: String,
    /// The final Noise handshake hash.
    pub(crate) handshake_hash: String,
    /// Client-to-server traffic secret, key and IV.
    pub(crate) client_to_server: TrafficKeys,
    /// Server-to-client traffic secret, key and IV.
    pub(crate) server_to_client: TrafficKeys,
    /// An exporter output (the same on both sides).
    pub(crate) exporter: Exporter,
}

/// `test-vectors/retry.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RetryFile {
    /// What the file holds.
    pub(crate) description: String,
    /// One vector per pattern.
    pub(crate) vectors: Vec<RetryVector>,
}

/// A handshake in which the server answers the first ClientHello with a Retry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RetryVector {
    /// Unique name, e.g. `nk-retry-chacha20-poly1305`.
    pub(crate) name: String,
    /// `NK` or `IK`.
    pub(crate) pattern: String,
    /// The suite finally negotiated.
    pub(crate) suite: String,
    /// Suite codes the client offers, most preferred first.
    pub(crate) client_suites: Vec<u8>,
    /// Suite codes the server accepts.
    pub(crate) server_suites: Vec<u8>,
    /// The server's static private key.
    pub(crate) server_static_private: String,
    /// Its public key.
    pub(crate) server_static_public: String,
    /// The server key id.
    pub(crate) server_key_id: String,
    /// The client's static private key (IK only).
    pub(crate) client_static_private: Option<String>,
    /// Its public key (IK only).
    pub(crate) client_static_public: Option<String>,
    /// Whether the server demands a Retry cookie.
    pub(crate) demand_cookie: bool,
    /// The client's address as the server sees it (cookie flows only).
    pub(crate) peer_address: Option<String>,
    /// The server's cookie secret (cookie flows only).
    pub(crate) cookie_secret: Option<String>,
    /// The client's ephemeral private key in the first ClientHello.
    pub(crate) client_ephemeral_private_1: String,
    /// The client's ephemeral private key in the second ClientHello.
    pub(crate) client_ephemeral_private_2: String,
    /// The server's ephemeral private key.
    pub(crate) server_ephemeral_private: String,
    /// The first ClientHello frame.
    pub(crate) client_hello_1: String,
    /// The server's Retry frame.
    pub(crate) retry: String,
    /// The second ClientHello frame (its header echoes the Retry).
    pub(crate) client_hello_2: String,
    /// The prologue of the second (completed) handshake.
    pub(crate) prologue_2: String,
    /// The ServerHello frame.
    pub(crate) server_hello: String,
    /// The client's key confirmation record.
    pub(crate) client_confirm: String,
    /// The final Noise handshake hash.
    pub(crate) handshake_hash: String,
    /// Client-to-server traffic secret, key and IV.
    pub(crate) client_to_server: TrafficKeys,
    /// Server-to-client traffic secret, key and IV.
    pub(crate) server_to_client: TrafficKeys,
}

/// `test-vectors/early_data.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EarlyDataFile {
    /// What the file holds.
    pub(crate) description: String,
    /// The flows.
    pub(crate) vectors: Vec<EarlyDataVector>,
}

/// A handshake whose first flight carries early data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EarlyDataVector {
    /// Unique name, e.g. `nk-aes-256-gcm-accepted`.
    pub(crate) name: String,
    /// `accepted`, `no_guard`, `replayed` or `stale`.
    pub(crate) scenario: String,
    /// `NK` or `IK`.
    pub(crate) pattern: String,
    /// The negotiated suite.
    pub(crate) suite: String,
    /// The Noise protocol name.
    pub(crate) noise_protocol: String,
    /// Suite codes the client offers, most preferred first.
    pub(crate) client_suites: Vec<u8>,
    /// Suite codes the server accepts.
    pub(crate) server_suites: Vec<u8>,
    /// The server's static private key.
    pub(crate) server_static_private: String,
    /// Its public key.
    pub(crate) server_static_public: String,
    /// The server key id.
    pub(crate) server_key_id: String,
    /// The client's static private key (IK only).
    pub(crate) client_static_private: Option<String>,
    /// Its public key (IK only).
    pub(crate) client_static_public: Option<String>,
    /// The client's ephemeral private key.
    pub(crate) client_ephemeral_private: String,
    /// Its public key (the flight's identity in the replay guard).
    pub(crate) client_ephemeral_public: String,
    /// The server's ephemeral private key.
    pub(crate) server_ephemeral_private: String,
    /// Its public key.
    pub(crate) server_ephemeral_public: String,
    /// The server's anti-replay window in milliseconds (null: no guard).
    pub(crate) window_ms: Option<u64>,
    /// `replayed` only: the ephemeral private key of the first server, which
    /// shares the guard and accepts the same ClientHello first.
    pub(crate) first_server_ephemeral_private: Option<String>,
    /// The client's clock when it builds the ClientHello (milliseconds).
    pub(crate) client_time: u64,
    /// The server's clock when it receives the ClientHello (milliseconds).
    pub(crate) server_time: u64,
    /// The early data.
    pub(crate) early_data: String,
    /// The Noise prologue.
    pub(crate) prologue: String,
    /// The plaintext payload of Noise message 1: `timestamp` and `early_data`.
    pub(crate) client_hello_payload: String,
    /// The ClientHello frame.
    pub(crate) client_hello: String,
    /// The plaintext payload of Noise message 2: `early_data_status`.
    pub(crate) server_hello_payload: String,
    /// The ServerHello frame.
    pub(crate) server_hello: String,
    /// The client's key confirmation record.
    pub(crate) client_confirm: String,
    /// The `early_data_status` value: 1 accepted, 0 rejected.
    pub(crate) early_data_status: u8,
    /// The early data the server delivers (null when rejected).
    pub(crate) server_early_data: Option<String>,
    /// The client's event: `EarlyDataAccepted` or `EarlyDataRejected`.
    pub(crate) client_event: String,
    /// The final Noise handshake hash.
    pub(crate) handshake_hash: String,
    /// Client-to-server traffic secret, key and IV.
    pub(crate) client_to_server: TrafficKeys,
    /// Server-to-client traffic secret, key and IV.
    pub(crate) server_to_client: TrafficKeys,
}

/// `test-vectors/records.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecordsFile {
    /// What the file holds.
    pub(crate) description: String,
    /// Record streams.
    pub(crate) streams: Vec<RecordStream>,
}

/// A padding policy as written in the vectors.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PaddingSpec {
    /// `none`, `multiple_of` or `buckets`.
    pub(crate) policy: String,
    /// The multiple (one entry) or the bucket sizes; empty for `none`.
    pub(crate) sizes: Vec<u16>,
}

/// An established connection and the records both sides exchange on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecordStream {
    /// Unique name, e.g. `aes-256-gcm/padding-none`.
    pub(crate) name: String,
    /// The suite.
    pub(crate) suite: String,
    /// The padding policy both sides use.
    pub(crate) padding: PaddingSpec,
    /// Noise `Split()` output: the initiator-to-responder key.
    pub(crate) k1: String,
    /// Noise `Split()` output: the responder-to-initiator key.
    pub(crate) k2: String,
    /// The handshake hash.
    pub(crate) handshake_hash: String,
    /// Initial client-to-server keys.
    pub(crate) client_to_server: TrafficKeys,
    /// Initial server-to-client keys.
    pub(crate) server_to_client: TrafficKeys,
    /// What the sides did, in order.
    pub(crate) steps: Vec<RecordStep>,
}

/// One command and the records it produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecordStep {
    /// `client` or `server`.
    pub(crate) sender: String,
    /// `confirm` (the client's key confirmation, always the first step),
    /// `send_message`, `update_keys`, `update_keys_request_peer`, `ping`,
    /// `close`, or `automatic` (records the sender produced on its own in
    /// answer to the previous step: a pong or a key update).
    pub(crate) command: String,
    /// The records, in order.
    pub(crate) records: Vec<Record>,
}

/// One protected record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The sequence number under the current traffic secret.
    pub(crate) seq: u64,
    /// The content type.
    pub(crate) content_type: u8,
    /// The payload.
    pub(crate) payload: String,
    /// The number of zero padding bytes after the content type.
    pub(crate) padding_len: usize,
    /// The record as sent: header, ciphertext and tag.
    pub(crate) record: String,
    /// For a key_update record: the sender's keys for the records after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) next_keys: Option<TrafficKeys>,
}

/// `test-vectors/negative.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NegativeFile {
    /// What the file holds.
    pub(crate) description: String,
    /// The cases.
    pub(crate) cases: Vec<NegativeCase>,
}

/// Invalid input fed to one side, and how that side must fail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NegativeCase {
    /// Unique name.
    pub(crate) name: String,
    /// The place that was tampered with.
    pub(crate) place: String,
    /// What was done to it.
    pub(crate) description: String,
    /// The vector that sets up the receiver: `file.json#name`.
    pub(crate) base: String,
    /// `client`, `server` or `server-rejecting`.
    pub(crate) receiver: String,
    /// The receiver's clock when it gets the input (milliseconds); absent:
    /// the fixed time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) receiver_time: Option<u64>,
    /// The peer address the receiver sees, replacing the base's (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) receiver_peer_address: Option<String>,
    /// The bytes fed to the receiver.
    pub(crate) input: String,
    /// The `lwsec::Error` variant the receiver fails with.
    pub(crate) error: String,
    /// The alert code the receiver sends, if any.
    pub(crate) alert: Option<u8>,
    /// The alert's name, if any.
    pub(crate) alert_name: Option<String>,
    /// Every byte the receiver queued in answer to the input.
    pub(crate) output: String,
}

/// All five files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VectorFiles {
    /// `handshake.json`.
    pub(crate) handshake: HandshakeFile,
    /// `records.json`.
    pub(crate) records: RecordsFile,
    /// `retry.json`.
    pub(crate) retry: RetryFile,
    /// `early_data.json`.
    pub(crate) early_data: EarlyDataFile,
    /// `negative.json`.
    pub(crate) negative: NegativeFile,
}

impl VectorFiles {
    /// The files' contents as written: 2-space indented JSON and a newline.
    pub(crate) fn render(&self) -> [(&'static str, String); 5] {
        fn json<T: Serialize>(value: &T) -> String {
            let mut s = serde_json::to_string_pretty(value).unwrap();
            s.push('\n');
            s
        }
        let [handshake, records, retry, early_data, negative] = FILES;
        [
            (handshake, json(&self.handshake)),
            (records, json(&self.records)),
            (retry, json(&self.retry)),
            (early_data, json(&self.early_data)),
            (negative, json(&self.negative)),
        ]
    }

    /// Parses the files' contents (in [`FILES`] order).
    pub(crate) fn parse(contents: &[String; 5]) -> Self {
        Self {
            handshake: serde_json::from_str(&contents[0]).unwrap(),
            records: serde_json::from_str(&contents[1]).unwrap(),
            retry: serde_json::from_str(&contents[2]).unwrap(),
            early_data: serde_json::from_str(&contents[3]).unwrap(),
            negative: serde_json::from_str(&contents[4]).unwrap(),
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Lowercase hex.
pub(crate) fn hx(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Bytes from hex.
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

fn unhex32(s: &str) -> [u8; 32] {
    unhex(s).try_into().unwrap()
}

/// `n` bytes from the deterministic RNG seeded with `SEED_PREFIX || label`.
pub(crate) fn seeded(label: &str, n: usize) -> Vec<u8> {
    let rng = DeterministicRandom::dangerous_from_seed_for_testing_only(
        format!("{SEED_PREFIX}{label}").as_bytes(),
    );
    let mut out = vec![0u8; n];
    rng.fill(&mut out).unwrap();
    out
}

/// A [`SecureRandom`] that yields recorded bytes, in order, and fails when
/// they run out: it feeds a vector's ephemeral keys to a connection.
#[derive(Debug)]
pub(crate) struct ReplayRandom(Mutex<VecDeque<u8>>);

impl ReplayRandom {
    /// Yields `bytes`, then fails.
    pub(crate) fn new(bytes: &[u8]) -> Self {
        Self(Mutex::new(bytes.iter().copied().collect()))
    }
}

impl SecureRandom for ReplayRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        let mut queue = self.0.lock().map_err(|_| Error::Rng)?;
        if queue.len() < dest.len() {
            return Err(Error::Rng);
        }
        for b in dest.iter_mut() {
            *b = queue.pop_front().ok_or(Error::Rng)?;
        }
        Ok(())
    }
}

fn suite_name(suite: Suite) -> String {
    suite.to_string()
}

fn parse_suite(name: &str) -> Suite {
    Suite::ALL
        .into_iter()
        .find(|s| s.to_string() == name)
        .unwrap_or_else(|| panic!("unknown suite {name}"))
}

fn suite_slug(suite: Suite) -> &'static str {
    match suite {
        Suite::Aes256Gcm => "aes-256-gcm",
        _ => "chacha20-poly1305",
    }
}

fn parse_pattern(name: &str) -> Pattern {
    match name {
        "NK" => Pattern::Nk,
        "IK" => Pattern::Ik,
        other => panic!("unknown pattern {other}"),
    }
}

fn suites_from_codes(codes: &[u8]) -> Vec<Suite> {
    codes.iter().map(|c| Suite::from_u8(*c).unwrap()).collect()
}

fn public_of(private: &str) -> String {
    hx(StaticKeyPair::from_private_bytes(unhex32(private))
        .public_key()
        .as_bytes())
}

fn traffic_keys(d: &DirectionSecrets) -> TrafficKeys {
    TrafficKeys {
        secret: hx(&d.secret[..]),
        key: hx(&d.key[..]),
        iv: hx(&d.iv),
    }
}

/// The `lwsec::Error` variant name of `err` (`Decode("x")` → `Decode`).
pub(crate) fn error_name(err: &Error) -> String {
    let debug = format!("{err:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Splits a byte string into whole frames.
pub(crate) fn split_frames(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let len = 3 + usize::from(u16::from_be_bytes([bytes[1], bytes[2]]));
        frames.push(bytes[..len].to_vec());
        bytes = &bytes[len..];
    }
    frames
}

/// Wraps `body` in a frame of type `ty`.
pub(crate) fn frame(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![ty];
    f.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// The length of the cleartext header at the start of a ClientHello body.
pub(crate) fn client_hello_header_len(body: &[u8]) -> usize {
    let n = usize::from(body[5]);
    let retry_len = usize::from(body[6 + n + 9]);
    6 + n + 8 + 1 + 1 + retry_len
}

fn prologue_of(client_hello: &[u8]) -> Vec<u8> {
    let body = &client_hello[3..];
    let mut p = PROLOGUE_LABEL.to_vec();
    p.extend_from_slice(&body[..client_hello_header_len(body)]);
    p
}

fn nonce(iv: &[u8], seq: u64) -> [u8; 12] {
    let mut n: [u8; 12] = iv.try_into().unwrap();
    for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

/// Seals one record with the AEAD crates directly (independently of lwsec's
/// record layer): `header || AEAD(key, iv ^ seq, header, inner)`.
pub(crate) fn seal_record(suite: Suite, keys: &TrafficKeys, seq: u64, inner: &[u8]) -> Vec<u8> {
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
pub(crate) fn open_record(
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

/// Delivers `bytes` to `conn`, requiring all of them to be consumed.
fn deliver(conn: &mut Connection, bytes: &[u8]) {
    let n = conn.handle_input(bytes, FIXED_TIME).unwrap();
    assert_eq!(n, bytes.len(), "not all input consumed");
}

fn take_output(conn: &mut Connection) -> Vec<u8> {
    let out = conn.pending_output().to_vec();
    conn.consume_output(out.len());
    out
}

// ---------------------------------------------------------------------------
// Handshakes
// ---------------------------------------------------------------------------

fn client_config(
    pattern: Pattern,
    server_public: &str,
    client_static: Option<&String>,
    suites: &[u8],
    rng: Vec<u8>,
) -> Arc<ClientConfig> {
    let server_key = lwsec::PublicKey::from_bytes(unhex32(server_public));
    let mut config = match pattern {
        Pattern::Nk => ClientConfig::nk(server_key),
        _ => ClientConfig::ik(
            server_key,
            StaticKeyPair::from_private_bytes(unhex32(client_static.unwrap())),
        ),
    };
    config.suites = suites_from_codes(suites);
    config.rng = Arc::new(ReplayRandom::new(&rng));
    Arc::new(config)
}

fn server_config(static_private: &str, suites: &[u8], rng: Vec<u8>) -> Arc<ServerConfig> {
    let mut config = ServerConfig::new(StaticKeyPair::from_private_bytes(unhex32(static_private)));
    config.suites = suites_from_codes(suites);
    config.rng = Arc::new(ReplayRandom::new(&rng));
    Arc::new(config)
}

fn handshake_client(v: &HandshakeVector) -> Connection {
    let config = client_config(
        parse_pattern(&v.pattern),
        &public_of(&v.server_static_private),
        v.client_static_private.as_ref(),
        &v.client_suites,
        unhex(&v.client_ephemeral_private),
    );
    Connection::client(config, FIXED_TIME).unwrap()
}

fn handshake_server(
    static_private: &str,
    suites: &[u8],
    ephemeral: &str,
    announced: Option<&Vec<String>>,
) -> Connection {
    let mut config = (*server_config(static_private, suites, unhex(ephemeral))).clone();
    if let Some(keys) = announced {
        let keys = keys
            .iter()
            .map(|k| lwsec::PublicKey::from_bytes(unhex32(k)));
        config.announce_server_keys(keys.collect()).unwrap();
    }
    Connection::server(Arc::new(config), FIXED_TIME).unwrap()
}

/// Server side of the decision point, as an adapter answers it: accept, with
/// the early data fresh if `guard` says so (no guard: refused).
fn decide(server: &mut Connection, guard: Option<&StrikeRegister>, now: Time) {
    let hello = server
        .client_hello()
        .expect("the server waits for a decision");
    let fresh = match (hello.early_data(), guard) {
        (Some(offer), Some(g)) if offer.needs_replay_check() => g.check(offer, now),
        _ => false,
    };
    server
        .accept_client(Acceptance::new().with_fresh_early_data(fresh), now)
        .unwrap();
    assert_eq!(server.poll_event(), Some(Event::ClientHello));
}

/// A strike register that started long before the fixed time.
fn strike_register() -> StrikeRegister {
    StrikeRegister::new(100_000, Time::from_millis(0))
}

/// Takes the client's key confirmation (its first record) and delivers it
/// to the server, which then reports the handshake complete.
fn confirm(client: &mut Connection, server: &mut Connection, now: Time) -> Vec<u8> {
    let confirm = take_output(client);
    assert_eq!(confirm.len(), 3 + 1 + 16, "one empty confirm record");
    assert!(server.is_awaiting_confirmation());
    assert_eq!(server.handle_input(&confirm, now), Ok(confirm.len()));
    confirm
}

/// Delivers the client's key confirmation, checks that both sides finished
/// with matching secrets and returns them with the confirmation record.
fn finished_secrets(
    client: &mut Connection,
    server: &mut Connection,
    now: Time,
) -> ([u8; 32], TrafficKeys, TrafficKeys, Vec<u8>) {
    assert_eq!(client.poll_event(), Some(Event::HandshakeComplete));
    let confirm = confirm(client, server, now);
    assert!(server.is_established());
    assert_eq!(server.poll_event(), Some(Event::HandshakeComplete));
    let hash = client.handshake_hash().unwrap();
    assert_eq!(server.handshake_hash(), Some(hash));
    let c = client.dangerous_peek_secrets().unwrap();
    let s = server.dangerous_peek_secrets().unwrap();
    assert_eq!(c.send, s.recv);
    assert_eq!(c.recv, s.send);
    (hash, traffic_keys(&c.send), traffic_keys(&c.recv), confirm)
}

/// Runs the handshake described by the inputs of `v` and returns `v` with
/// every output filled in.
pub(crate) fn compute_handshake(v: &HandshakeVector) -> HandshakeVector {
    let pattern = parse_pattern(&v.pattern);
    let mut out = v.clone();
    let server_public = public_of(&v.server_static_private);
    out.noise_protocol = noise_protocol_name(pattern, parse_suite(&v.suite));
    out.server_key_id = hx(&lwsec::PublicKey::from_bytes(unhex32(&server_public)).key_id());
    out.server_static_public = server_public;
    out.client_static_public = v.client_static_private.as_deref().map(public_of);
    out.client_ephemeral_public = public_of(&v.client_ephemeral_private);
    out.server_ephemeral_public = public_of(&v.server_ephemeral_private);

    let mut client = handshake_client(v);
    let mut server = handshake_server(
        &v.server_static_private,
        &v.server_suites,
        &v.server_ephemeral_private,
        v.announced_server_keys.as_ref(),
    );
    let client_hello = take_output(&mut client);
    deliver(&mut server, &client_hello);
    decide(&mut server, None, FIXED_TIME);
    let server_hello = take_output(&mut server);
    deliver(&mut client, &server_hello);
    assert_eq!(client.suite(), Some(parse_suite(&v.suite)));
    assert_eq!(client.pattern(), Some(pattern));
    let expected_peer = out
        .client_static_public
        .as_deref()
        .map(|k| lwsec::PublicKey::from_bytes(unhex32(k)));
    // Not before the client's key confirmation.
    assert_eq!(server.peer_static_key(), None);

    out.prologue = hx(&prologue_of(&client_hello));
    out.client_hello = hx(&client_hello);
    out.server_hello = hx(&server_hello);
    let (hash, c2s, s2c, confirm) = finished_secrets(&mut client, &mut server, FIXED_TIME);
    out.client_confirm = hx(&confirm);
    out.handshake_hash = hx(&hash);
    out.client_to_server = c2s;
    out.server_to_client = s2c;
    assert_eq!(server.peer_static_key(), expected_peer);
    let announced = match client.poll_event() {
        Some(Event::ServerKeysAnnounced(keys)) => {
            Some(keys.iter().map(|k| hx(k.as_bytes())).collect())
        }
        None => None,
        other => panic!("{}: client event {other:?}", v.name),
    };
    assert_eq!(
        announced, v.announced_server_keys,
        "{}: announced keys",
        v.name
    );

    let label = unhex(&v.exporter.label);
    let context = unhex(&v.exporter.context);
    let mut a = vec![0u8; v.exporter.length];
    let mut b = vec![0u8; v.exporter.length];
    client
        .export_keying_material(&label, &context, &mut a)
        .unwrap();
    server
        .export_keying_material(&label, &context, &mut b)
        .unwrap();
    assert_eq!(a, b, "exporter differs between the sides");
    out.exporter.output = hx(&a);
    out
}

fn generate_handshakes() -> HandshakeFile {
    let mut vectors = Vec::new();
    for pattern in [Pattern::Nk, Pattern::Ik] {
        for suite in Suite::ALL {
            let name = format!(
                "{}-{}",
                pattern.noise_name().to_lowercase(),
                suite_slug(suite)
            );
            let seed = |role: &str| hx(&seeded(&format!("handshake/{name}/{role}"), 32));
            let mut client_suites = vec![suite.to_u8()];
            client_suites.extend(
                Suite::ALL
                    .iter()
                    .map(|s| s.to_u8())
                    .filter(|c| *c != suite.to_u8()),
            );
            let inputs = HandshakeVector {
                name: name.clone(),
                pattern: pattern.noise_name().to_string(),
                suite: suite_name(suite),
                client_suites,
                server_suites: Suite::ALL.iter().map(|s| s.to_u8()).collect(),
                server_static_private: seed("server-static"),
                client_static_private: (pattern == Pattern::Ik).then(|| seed("client-static")),
                client_ephemeral_private: seed("client-ephemeral"),
                server_ephemeral_private: seed("server-ephemeral"),
                exporter: Exporter {
                    label: hx(b"lwsec vectors"),
                    context: hx(b"conversation 42"),
                    length: 32,
                    output: String::new(),
                },
                ..HandshakeVector::default()
            };
            vectors.push(compute_handshake(&inputs));
        }
    }
    // A key rotation: the server announces the keys to pin next (a new key,
    // then the current one), inside the encrypted ServerHello.
    let name = "nk-aes-256-gcm-server-keys";
    let seed = |role: &str| hx(&seeded(&format!("handshake/{name}/{role}"), 32));
    let server_static_private = seed("server-static");
    let inputs = HandshakeVector {
        name: name.to_string(),
        pattern: "NK".to_string(),
        suite: suite_name(Suite::Aes256Gcm),
        client_suites: vec![1, 2],
        server_suites: vec![1, 2],
        announced_server_keys: Some(vec![
            public_of(&seed("next-server-static")),
            public_of(&server_static_private),
        ]),
        server_static_private,
        client_ephemeral_private: seed("client-ephemeral"),
        server_ephemeral_private: seed("server-ephemeral"),
        exporter: Exporter {
            label: hx(b"lwsec vectors"),
            context: hx(b"conversation 42"),
            length: 32,
            output: String::new(),
        },
        ..HandshakeVector::default()
    };
    vectors.push(compute_handshake(&inputs));
    HandshakeFile {
        description: "lwsec v1 handshakes: NK and IK with each suite, and a server announcing \
                      its keys (rotation). See spec/VECTORS.md."
            .to_string(),
        vectors,
    }
}

// ---------------------------------------------------------------------------
// Retry
// ---------------------------------------------------------------------------

fn retry_client(v: &RetryVector) -> Connection {
    let mut rng = unhex(&v.client_ephemeral_private_1);
    rng.extend(unhex(&v.client_ephemeral_private_2));
    let config = client_config(
        parse_pattern(&v.pattern),
        &public_of(&v.server_static_private),
        v.client_static_private.as_ref(),
        &v.client_suites,
        rng,
    );
    Connection::client(config, FIXED_TIME).unwrap()
}

/// The server of a Retry flow: it accepts `server_suites` and, in a cookie
/// flow, demands a cookie from `peer_address` (or `peer_address_override`).
fn retry_server(v: &RetryVector, peer_address_override: Option<&str>) -> Connection {
    let mut config = ServerConfig::new(StaticKeyPair::from_private_bytes(unhex32(
        &v.server_static_private,
    )));
    config.suites = suites_from_codes(&v.server_suites);
    config.rng = Arc::new(ReplayRandom::new(&unhex(&v.server_ephemeral_private)));
    if let Some(secret) = &v.cookie_secret {
        config.set_cookie_secret(unhex32(secret));
    }
    let address = peer_address_override
        .or(v.peer_address.as_deref())
        .map(unhex)
        .unwrap_or_default();
    let options = ServerOptions::for_peer_address(address).with_cookie_demanded(v.demand_cookie);
    Connection::server_with_options(Arc::new(config), FIXED_TIME, options).unwrap()
}

/// Runs the Retry flow described by the inputs of `v`.
pub(crate) fn compute_retry(v: &RetryVector) -> RetryVector {
    let mut out = v.clone();
    let server_public = public_of(&v.server_static_private);
    out.server_key_id = hx(&lwsec::PublicKey::from_bytes(unhex32(&server_public)).key_id());
    out.server_static_public = server_public;
    out.client_static_public = v.client_static_private.as_deref().map(public_of);

    let mut client = retry_client(v);
    let mut server = retry_server(v, None);
    let client_hello_1 = take_output(&mut client);
    deliver(&mut server, &client_hello_1);
    let retry = take_output(&mut server);
    assert!(server.is_handshaking());
    deliver(&mut client, &retry);
    let client_hello_2 = take_output(&mut client);
    deliver(&mut server, &client_hello_2);
    decide(&mut server, None, FIXED_TIME);
    let server_hello = take_output(&mut server);
    deliver(&mut client, &server_hello);
    assert_eq!(client.suite(), Some(parse_suite(&v.suite)));

    out.client_hello_1 = hx(&client_hello_1);
    out.retry = hx(&retry);
    out.client_hello_2 = hx(&client_hello_2);
    out.prologue_2 = hx(&prologue_of(&client_hello_2));
    out.server_hello = hx(&server_hello);
    let (hash, c2s, s2c, confirm) = finished_secrets(&mut client, &mut server, FIXED_TIME);
    out.client_confirm = hx(&confirm);
    out.handshake_hash = hx(&hash);
    out.client_to_server = c2s;
    out.server_to_client = s2c;
    out
}

fn generate_retries() -> RetryFile {
    let mut vectors = Vec::new();
    let both = vec![Suite::Aes256Gcm.to_u8(), Suite::ChaCha20Poly1305.to_u8()];
    let chacha = vec![Suite::ChaCha20Poly1305.to_u8()];
    // (name suffix, server suites, demand a cookie)
    let flows = [
        ("retry-chacha20-poly1305", &chacha, false),
        ("cookie-aes-256-gcm", &both, true),
        ("cookie-retry-chacha20-poly1305", &chacha, true),
    ];
    for (suffix, server_suites, demand_cookie) in flows {
        for pattern in [Pattern::Nk, Pattern::Ik] {
            if suffix == "cookie-retry-chacha20-poly1305" && pattern == Pattern::Ik {
                continue;
            }
            let name = format!("{}-{suffix}", pattern.noise_name().to_lowercase());
            let seed = |role: &str| hx(&seeded(&format!("retry/{name}/{role}"), 32));
            let suite = if server_suites.len() == 1 {
                Suite::ChaCha20Poly1305
            } else {
                Suite::Aes256Gcm
            };
            let inputs = RetryVector {
                name: name.clone(),
                pattern: pattern.noise_name().to_string(),
                suite: suite_name(suite),
                client_suites: both.clone(),
                server_suites: server_suites.clone(),
                server_static_private: seed("server-static"),
                client_static_private: (pattern == Pattern::Ik).then(|| seed("client-static")),
                demand_cookie,
                peer_address: demand_cookie.then(|| hx(PEER_ADDRESS)),
                cookie_secret: demand_cookie.then(|| seed("cookie-secret")),
                client_ephemeral_private_1: seed("client-ephemeral-1"),
                client_ephemeral_private_2: seed("client-ephemeral-2"),
                server_ephemeral_private: seed("server-ephemeral"),
                ..RetryVector::default()
            };
            vectors.push(compute_retry(&inputs));
        }
    }
    RetryFile {
        description: "lwsec v1 Retry: the client prefers AES-256-GCM; the server accepts only \
                      ChaCha20-Poly1305 (suite Retry), demands a cookie (cookie Retry), or \
                      both. See spec/VECTORS.md."
            .to_string(),
        vectors,
    }
}

// ---------------------------------------------------------------------------
// Early data
// ---------------------------------------------------------------------------

/// The extension list of a first flight with early data (spec 4.4):
/// `timestamp` then `early_data`.
pub(crate) fn early_data_payload(timestamp: u64, data: &[u8]) -> Vec<u8> {
    let mut p = vec![0x00, 0x01, 0x00, 0x08];
    p.extend_from_slice(&timestamp.to_be_bytes());
    p.extend_from_slice(&[0x00, 0x02]);
    p.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
    p.extend_from_slice(data);
    p
}

/// The client of an early-data flow; it has not sent anything yet.
fn early_data_client(v: &EarlyDataVector) -> Connection {
    let config = client_config(
        parse_pattern(&v.pattern),
        &public_of(&v.server_static_private),
        v.client_static_private.as_ref(),
        &v.client_suites,
        unhex(&v.client_ephemeral_private),
    );
    Connection::client_with_replayable_early_data(
        config,
        Time::from_millis(v.client_time),
        &unhex(&v.early_data),
    )
    .unwrap()
}

/// A server of an early-data flow with ephemeral key `ephemeral`, accepting
/// early data within the vector's window (when it has one); the guard is
/// asked at the decision.
fn early_data_server(v: &EarlyDataVector, ephemeral: &str) -> Connection {
    let mut config = ServerConfig::new(StaticKeyPair::from_private_bytes(unhex32(
        &v.server_static_private,
    )));
    config.suites = suites_from_codes(&v.server_suites);
    config.rng = Arc::new(ReplayRandom::new(&unhex(ephemeral)));
    if let Some(window) = v.window_ms {
        config.enable_replayable_early_data(Duration::from_millis(window));
    }
    Connection::server(Arc::new(config), Time::from_millis(v.server_time)).unwrap()
}

/// Runs the early-data flow described by the inputs of `v`.
pub(crate) fn compute_early_data(v: &EarlyDataVector) -> EarlyDataVector {
    let pattern = parse_pattern(&v.pattern);
    let mut out = v.clone();
    let server_public = public_of(&v.server_static_private);
    out.noise_protocol = noise_protocol_name(pattern, parse_suite(&v.suite));
    out.server_key_id = hx(&lwsec::PublicKey::from_bytes(unhex32(&server_public)).key_id());
    out.server_static_public = server_public;
    out.client_static_public = v.client_static_private.as_deref().map(public_of);
    out.client_ephemeral_public = public_of(&v.client_ephemeral_private);
    out.server_ephemeral_public = public_of(&v.server_ephemeral_private);

    let server_time = Time::from_millis(v.server_time);
    let guard = strike_register();
    let mut client = early_data_client(v);
    let client_hello = take_output(&mut client);
    assert_eq!(
        v.first_server_ephemeral_private.is_some(),
        v.scenario == "replayed"
    );
    if let Some(first) = &v.first_server_ephemeral_private {
        // Another server sharing the guard accepts the flight first.
        let mut first_server = early_data_server(v, first);
        assert_eq!(
            first_server.handle_input(&client_hello, server_time),
            Ok(client_hello.len())
        );
        decide(&mut first_server, Some(&guard), server_time);
        assert_eq!(
            first_server.poll_event(),
            Some(Event::EarlyData(unhex(&v.early_data).into()))
        );
    }
    let mut server = early_data_server(v, &v.server_ephemeral_private);
    assert_eq!(
        server.handle_input(&client_hello, server_time),
        Ok(client_hello.len())
    );
    decide(&mut server, Some(&guard), server_time);
    let server_early_data = match server.poll_event() {
        Some(Event::EarlyData(data)) => Some(hx(&data)),
        None => None,
        other => panic!("{}: server event {other:?}", v.name),
    };
    let server_hello = take_output(&mut server);
    let client_time = Time::from_millis(v.client_time);
    assert_eq!(
        client.handle_input(&server_hello, client_time),
        Ok(server_hello.len())
    );
    assert_eq!(client.suite(), Some(parse_suite(&v.suite)));

    out.prologue = hx(&prologue_of(&client_hello));
    out.client_hello_payload = hx(&early_data_payload(v.client_time, &unhex(&v.early_data)));
    out.client_hello = hx(&client_hello);
    out.server_hello = hx(&server_hello);
    let (hash, c2s, s2c, confirm) = finished_secrets(&mut client, &mut server, server_time);
    out.client_confirm = hx(&confirm);
    out.handshake_hash = hx(&hash);
    out.client_to_server = c2s;
    out.server_to_client = s2c;
    let client_event = client.poll_event();
    out.early_data_status = match client_event {
        Some(Event::EarlyDataAccepted) => 1,
        Some(Event::EarlyDataRejected) => 0,
        ref other => panic!("{}: client event {other:?}", v.name),
    };
    out.client_event = format!("{:?}", client_event.unwrap());
    out.server_hello_payload = hx(&[0x00, 0x03, 0x00, 0x01, out.early_data_status]);
    out.server_early_data = server_early_data;
    assert_eq!(client.poll_event(), None);
    assert_eq!(server.poll_event(), None);
    out
}

fn generate_early_data() -> EarlyDataFile {
    let mut vectors = Vec::new();
    let t = FIXED_TIME.as_millis();
    // (scenario, patterns and suites it runs with, server time)
    let aes = [Suite::Aes256Gcm];
    let scenarios: [(&str, &[Suite], u64); 4] = [
        ("accepted", &Suite::ALL, t),
        ("no-guard", &aes, t),
        ("replayed", &aes, t),
        ("stale", &aes, t + EARLY_DATA_WINDOW_MS + 1),
    ];
    for (scenario, suites, server_time) in scenarios {
        for pattern in [Pattern::Nk, Pattern::Ik] {
            for &suite in suites {
                let name = format!(
                    "{}-{}-{scenario}",
                    pattern.noise_name().to_lowercase(),
                    suite_slug(suite)
                );
                let seed = |role: &str| hx(&seeded(&format!("early_data/{name}/{role}"), 32));
                let mut client_suites = vec![suite.to_u8()];
                client_suites.extend(
                    Suite::ALL
                        .iter()
                        .map(|s| s.to_u8())
                        .filter(|c| *c != suite.to_u8()),
                );
                let inputs = EarlyDataVector {
                    name: name.clone(),
                    scenario: scenario.replace('-', "_"),
                    pattern: pattern.noise_name().to_string(),
                    suite: suite_name(suite),
                    client_suites,
                    server_suites: Suite::ALL.iter().map(|s| s.to_u8()).collect(),
                    server_static_private: seed("server-static"),
                    client_static_private: (pattern == Pattern::Ik).then(|| seed("client-static")),
                    client_ephemeral_private: seed("client-ephemeral"),
                    server_ephemeral_private: seed("server-ephemeral"),
                    window_ms: (scenario != "no-guard").then_some(EARLY_DATA_WINDOW_MS),
                    first_server_ephemeral_private: (scenario == "replayed")
                        .then(|| seed("first-server-ephemeral")),
                    client_time: t,
                    server_time,
                    early_data: hx(EARLY_DATA),
                    ..EarlyDataVector::default()
                };
                vectors.push(compute_early_data(&inputs));
            }
        }
    }
    EarlyDataFile {
        description: "lwsec v1 early data (0-RTT): accepted with NK and IK and each suite; \
                      rejected by a server without a replay guard, by a server whose shared \
                      guard has seen the flight (replay), and outside the time window. See \
                      spec/VECTORS.md."
            .to_string(),
        vectors,
    }
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

fn padding_of(spec: &PaddingSpec) -> Padding {
    match spec.policy.as_str() {
        "none" => Padding::None,
        "multiple_of" => Padding::MultipleOf(spec.sizes[0]),
        "buckets" => Padding::Buckets(spec.sizes.clone()),
        other => panic!("unknown padding policy {other}"),
    }
}

/// The two ends of a record stream after its `Split()`: the client has
/// queued its key confirmation (seq 0), the server waits for it.
fn stream_ends(s: &RecordStream) -> (Connection, Connection) {
    let suite = parse_suite(&s.suite);
    let mut transport = TransportConfig::default();
    transport.padding = padding_of(&s.padding);
    let make = |side| {
        let mut conn = Connection::dangerous_from_noise_split(
            lwsec::NoiseSplit::new(
                side,
                Pattern::Nk,
                suite,
                &unhex32(&s.k1),
                &unhex32(&s.k2),
                unhex32(&s.handshake_hash),
            ),
            transport.clone(),
            FIXED_TIME,
        )
        .unwrap();
        if side == Side::Client {
            assert_eq!(conn.poll_event(), Some(Event::HandshakeComplete));
        }
        conn
    };
    (make(Side::Client), make(Side::Server))
}

/// The two ends of a record stream, established from its `Split()` output
/// (the client's key confirmation delivered).
pub(crate) fn stream_connections(s: &RecordStream) -> (Connection, Connection) {
    let (mut client, mut server) = stream_ends(s);
    deliver(&mut server, &take_output(&mut client));
    assert_eq!(server.poll_event(), Some(Event::HandshakeComplete));
    (client, server)
}

/// Describes the records in `bytes`, sent by `sender`, opening each with the
/// AEAD crates directly. A key_update record must be the last one.
fn describe_records(
    suite: Suite,
    sender: &Connection,
    bytes: &[u8],
    before: &DirectionSecrets,
) -> Vec<Record> {
    let keys = traffic_keys(before);
    let frames = split_frames(bytes);
    let count = frames.len();
    frames
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            let seq = before.seq + i as u64;
            let (content_type, payload, padding_len) = open_record(suite, &keys, seq, &record);
            let next_keys = (content_type == 3).then(|| {
                assert_eq!(i + 1, count, "records after a key update in one step");
                let after = sender.dangerous_peek_secrets().unwrap().send;
                assert_eq!(after.seq, 0);
                traffic_keys(&after)
            });
            Record {
                seq,
                content_type,
                payload: hx(&payload),
                padding_len,
                record: hx(&record),
                next_keys,
            }
        })
        .collect()
}

/// Runs a record stream: replays each step's command with the payloads of
/// `s` and returns `s` with every output (keys and records) recomputed.
/// Automatic steps are recomputed from what the receiver sent.
pub(crate) fn compute_stream(s: &RecordStream) -> RecordStream {
    let suite = parse_suite(&s.suite);
    let (mut client, mut server) = stream_ends(s);
    let mut out = s.clone();
    let mut initial = client.dangerous_peek_secrets().unwrap().send;
    out.client_to_server = traffic_keys(&initial);
    out.server_to_client = traffic_keys(&server.dangerous_peek_secrets().unwrap().send);
    out.steps.clear();
    // The client's key confirmation, sealed when the connection was made.
    assert_eq!(initial.seq, 1);
    initial.seq = 0;
    let confirm = take_output(&mut client);
    out.steps.push(RecordStep {
        sender: "client".to_string(),
        command: "confirm".to_string(),
        records: describe_records(suite, &client, &confirm, &initial),
    });
    deliver(&mut server, &confirm);
    assert_eq!(server.poll_event(), Some(Event::HandshakeComplete));
    let mut i = 0;
    while i < s.steps.len() {
        let step = &s.steps[i];
        if step.command == "confirm" {
            i += 1;
            continue;
        }
        assert_ne!(step.command, "automatic", "automatic step without a cause");
        let (sender, receiver) = match step.sender.as_str() {
            "client" => (&mut client, &mut server),
            _ => (&mut server, &mut client),
        };
        let payload: Vec<u8> = step
            .records
            .iter()
            .flat_map(|r| unhex(&r.payload))
            .collect();
        let before = sender.dangerous_peek_secrets().unwrap().send;
        match step.command.as_str() {
            "send_message" => sender.send_message(&payload).unwrap(),
            "update_keys" => sender.update_keys(false).unwrap(),
            "update_keys_request_peer" => sender.update_keys(true).unwrap(),
            "ping" => sender.ping(&payload).unwrap(),
            "close" => sender.close().unwrap(),
            other => panic!("unknown command {other}"),
        }
        let bytes = take_output(sender);
        let records = describe_records(suite, sender, &bytes, &before);
        out.steps.push(RecordStep {
            sender: step.sender.clone(),
            command: step.command.clone(),
            records,
        });
        let answer_before = receiver.dangerous_peek_secrets().unwrap().send;
        deliver(receiver, &bytes);
        match step.command.as_str() {
            "send_message" => {
                assert_eq!(receiver.recv_message().as_deref(), Some(&payload[..]));
            }
            "ping" => {}
            "close" => assert_eq!(receiver.poll_event(), Some(Event::PeerClosed)),
            _ => assert_eq!(receiver.poll_event(), Some(Event::KeyUpdated)),
        }
        assert_eq!(
            receiver.dangerous_peek_secrets().unwrap().recv,
            sender.dangerous_peek_secrets().unwrap().send,
            "receiver's keys differ from the sender's"
        );
        let answer = take_output(receiver);
        i += 1;
        if !answer.is_empty() {
            let receiver_name = if step.sender == "client" {
                "server"
            } else {
                "client"
            };
            let records = describe_records(suite, receiver, &answer, &answer_before);
            deliver(sender, &answer);
            if step.command == "ping" {
                assert_eq!(
                    sender.poll_event(),
                    Some(Event::Pong(payload.clone().into()))
                );
            } else {
                assert_eq!(sender.poll_event(), Some(Event::KeyUpdated));
            }
            assert!(sender.pending_output().is_empty());
            out.steps.push(RecordStep {
                sender: receiver_name.to_string(),
                command: "automatic".to_string(),
                records,
            });
            if s.steps
                .get(i)
                .is_some_and(|next| next.command == "automatic")
            {
                i += 1;
            }
        }
    }
    out
}

/// A step to be computed: only the command and, for commands that carry
/// data, one record holding the data as its payload.
fn step(sender: &str, command: &str, data: &[u8]) -> RecordStep {
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(16384).collect()
    };
    RecordStep {
        sender: sender.to_string(),
        command: command.to_string(),
        records: chunks
            .into_iter()
            .map(|c| Record {
                payload: hx(c),
                ..Record::default()
            })
            .collect(),
    }
}

fn generate_records() -> RecordsFile {
    let mut streams = Vec::new();
    for suite in Suite::ALL {
        let slug = suite_slug(suite);
        let split = |name: &str| {
            let seed = |part: &str| hx(&seeded(&format!("records/{slug}/{name}/{part}"), 32));
            (seed("k1"), seed("k2"), seed("handshake-hash"))
        };
        let data =
            |name: &str, what: &str, n: usize| seeded(&format!("records/{slug}/{name}/{what}"), n);
        let mut stream = |name: &str, padding: PaddingSpec, steps: Vec<RecordStep>| {
            let (k1, k2, handshake_hash) = split(name);
            streams.push(compute_stream(&RecordStream {
                name: format!("{slug}/{name}"),
                suite: suite_name(suite),
                padding,
                k1,
                k2,
                handshake_hash,
                steps,
                ..RecordStream::default()
            }));
        };
        let none = || PaddingSpec {
            policy: "none".to_string(),
            sizes: vec![],
        };

        let name = "padding-none";
        stream(
            name,
            none(),
            vec![
                step("client", "send_message", &[]),
                step("client", "send_message", &data(name, "one", 1)),
                step("client", "send_message", &data(name, "max", 16384)),
                step("client", "send_message", &data(name, "fragmented", 40000)),
                step("server", "send_message", &data(name, "reply", 5)),
            ],
        );
        let sizes = [0usize, 1, 255, 256, 1000, 5000];
        for (name, padding) in [
            (
                "padding-multiple-of-256",
                PaddingSpec {
                    policy: "multiple_of".to_string(),
                    sizes: vec![256],
                },
            ),
            (
                "padding-buckets",
                PaddingSpec {
                    policy: "buckets".to_string(),
                    sizes: vec![64, 256, 1024, 4096],
                },
            ),
        ] {
            let mut steps: Vec<RecordStep> = sizes
                .iter()
                .map(|n| {
                    step(
                        "client",
                        "send_message",
                        &data(name, &format!("size-{n}"), *n),
                    )
                })
                .collect();
            steps.push(step("server", "send_message", &data(name, "reply", 3)));
            stream(name, padding, steps);
        }
        let name = "key-update";
        stream(
            name,
            none(),
            vec![
                step("client", "send_message", &data(name, "before", 10)),
                step("client", "update_keys", &[]),
                step("client", "send_message", &data(name, "after", 10)),
                step("server", "send_message", &data(name, "server-before", 10)),
                step("client", "update_keys_request_peer", &[]),
                // Coalesced: the server's new keys have protected nothing
                // yet, so this second request gets no answer.
                step("client", "update_keys_request_peer", &[]),
                step("server", "send_message", &data(name, "server-after", 10)),
                step("client", "send_message", &data(name, "client-after", 10)),
            ],
        );
        let name = "ping-pong";
        stream(
            name,
            none(),
            vec![
                step("client", "ping", &data(name, "client-ping", 8)),
                step("server", "ping", &[]),
            ],
        );
        let name = "close";
        stream(
            name,
            none(),
            vec![
                step("client", "send_message", &data(name, "last", 4)),
                step("client", "close", &[]),
                step("server", "close", &[]),
            ],
        );
    }
    RecordsFile {
        description: "lwsec v1 records: message sizes, padding policies, fragmentation, key \
                      update, ping/pong and close_notify, for each suite. See spec/VECTORS.md."
            .to_string(),
        streams,
    }
}

// ---------------------------------------------------------------------------
// Negative cases
// ---------------------------------------------------------------------------

fn find<'a, T>(items: &'a [T], name: &str, get: impl Fn(&T) -> &str) -> &'a T {
    items
        .iter()
        .find(|v| get(v) == name)
        .unwrap_or_else(|| panic!("no vector named {name}"))
}

/// Builds the receiver of a negative case from its base vector. A client
/// receiver has already sent its (first) ClientHello, which is checked.
pub(crate) fn negative_receiver(
    files: &VectorFiles,
    base: &str,
    receiver: &str,
    peer_address: Option<&str>,
) -> Connection {
    let (file, name) = base.split_once('#').unwrap();
    assert!(
        peer_address.is_none() || (file, receiver) == ("retry.json", "server"),
        "a peer address applies to retry.json servers only"
    );
    match (file, receiver) {
        ("handshake.json", "server") => {
            let v = find(&files.handshake.vectors, name, |v| &v.name);
            handshake_server(
                &v.server_static_private,
                &v.server_suites,
                &v.server_ephemeral_private,
                v.announced_server_keys.as_ref(),
            )
        }
        ("handshake.json", "server-rejecting") => {
            // Rejects every client at the decision (compute_negative).
            let v = find(&files.handshake.vectors, name, |v| &v.name);
            handshake_server(
                &v.server_static_private,
                &v.server_suites,
                &v.server_ephemeral_private,
                v.announced_server_keys.as_ref(),
            )
        }
        ("handshake.json", "client") => {
            let v = find(&files.handshake.vectors, name, |v| &v.name);
            let mut client = handshake_client(v);
            assert_eq!(hx(&take_output(&mut client)), v.client_hello);
            client
        }
        ("retry.json", "server") => {
            let v = find(&files.retry.vectors, name, |v| &v.name);
            retry_server(v, peer_address)
        }
        ("retry.json", "client") => {
            let v = find(&files.retry.vectors, name, |v| &v.name);
            let mut client = retry_client(v);
            assert_eq!(hx(&take_output(&mut client)), v.client_hello_1);
            client
        }
        ("early_data.json", "server") => {
            let v = find(&files.early_data.vectors, name, |v| &v.name);
            early_data_server(v, &v.server_ephemeral_private)
        }
        ("early_data.json", "client") => {
            let v = find(&files.early_data.vectors, name, |v| &v.name);
            let mut client = early_data_client(v);
            assert_eq!(hx(&take_output(&mut client)), v.client_hello);
            client
        }
        ("records.json", "server") => {
            let s = find(&files.records.streams, name, |s| &s.name);
            stream_connections(s).1
        }
        other => panic!("unsupported base/receiver {other:?}"),
    }
}

/// Runs a negative case (its base, receiver and input) and fills in the
/// error, the alert and the receiver's output.
pub(crate) fn compute_negative(files: &VectorFiles, c: &NegativeCase) -> NegativeCase {
    let mut conn = negative_receiver(
        files,
        &c.base,
        &c.receiver,
        c.receiver_peer_address.as_deref(),
    );
    let now = c.receiver_time.map_or(FIXED_TIME, Time::from_millis);
    let input = unhex(&c.input);
    let mut rest = &input[..];
    // A server receiver decides on a client whose first flight it read:
    // `server-rejecting` refuses it, others let it in (a fresh guard
    // judges any early data), then the rest of the input is fed.
    let err = loop {
        match conn.handle_input(rest, now) {
            Err(e) => break e,
            Ok(n) => rest = &rest[n..],
        }
        if conn.client_hello().is_none() {
            panic!("{}: input accepted ({} bytes left)", c.name, rest.len());
        }
        if c.receiver == "server-rejecting" {
            break conn.reject_client(Rejection::NotAuthorized);
        }
        decide(&mut conn, Some(&strike_register()), now);
    };
    assert_eq!(conn.error(), Some(&err));
    let output = take_output(&mut conn);
    let alert = split_frames(&output).last().and_then(|_| err.alert());
    let mut out = c.clone();
    out.error = error_name(&err);
    out.alert = alert.map(AlertCode::to_u8);
    out.alert_name = alert.map(|a| a.to_string().split(' ').next().unwrap().to_string());
    out.output = hx(&output);
    out
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] ^= 0x01;
    b
}

fn set(bytes: &[u8], at: usize, value: u8) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] = value;
    b
}

/// Rebuilds a frame after `edit` changed its body (length recomputed).
fn rebody(f: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut body = f[3..].to_vec();
    edit(&mut body);
    frame(f[0], &body)
}

/// The keys and prologue of one Noise handshake, to write messages with
/// `snow` that lwsec would never write (correctly encrypted, bad contents).
struct NoiseSetup {
    protocol: String,
    prologue: Vec<u8>,
    server_static: Vec<u8>,
    client_static: Option<Vec<u8>>,
    client_ephemeral: Vec<u8>,
    server_ephemeral: Vec<u8>,
    /// The ClientHello whose Noise message 1 the responder reads first.
    client_hello: Vec<u8>,
}

impl NoiseSetup {
    fn of_handshake(v: &HandshakeVector) -> Self {
        Self {
            protocol: v.noise_protocol.clone(),
            prologue: unhex(&v.prologue),
            server_static: unhex(&v.server_static_private),
            client_static: v.client_static_private.as_deref().map(unhex),
            client_ephemeral: unhex(&v.client_ephemeral_private),
            server_ephemeral: unhex(&v.server_ephemeral_private),
            client_hello: unhex(&v.client_hello),
        }
    }

    fn of_early_data(v: &EarlyDataVector) -> Self {
        Self {
            protocol: v.noise_protocol.clone(),
            prologue: unhex(&v.prologue),
            server_static: unhex(&v.server_static_private),
            client_static: v.client_static_private.as_deref().map(unhex),
            client_ephemeral: unhex(&v.client_ephemeral_private),
            server_ephemeral: unhex(&v.server_ephemeral_private),
            client_hello: unhex(&v.client_hello),
        }
    }

    /// Noise message 1 carrying `payload`.
    fn message_1(&self, payload: &[u8]) -> Vec<u8> {
        let params: snow::params::NoiseParams = self.protocol.parse().unwrap();
        let server_public = unhex(&public_of(&hx(&self.server_static)));
        let mut builder = snow::Builder::new(params)
            .prologue(&self.prologue)
            .unwrap()
            .remote_public_key(&server_public)
            .unwrap()
            .fixed_ephemeral_key_for_testing_only(&self.client_ephemeral);
        if let Some(key) = &self.client_static {
            builder = builder.local_private_key(key).unwrap();
        }
        let mut hs = builder.build_initiator().unwrap();
        let mut buf = vec![0u8; 65535];
        let n = hs.write_message(payload, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    /// Noise message 2 carrying `payload`, in answer to the ClientHello.
    fn message_2(&self, payload: &[u8]) -> Vec<u8> {
        let params: snow::params::NoiseParams = self.protocol.parse().unwrap();
        let mut hs = snow::Builder::new(params)
            .prologue(&self.prologue)
            .unwrap()
            .local_private_key(&self.server_static)
            .unwrap()
            .fixed_ephemeral_key_for_testing_only(&self.server_ephemeral)
            .build_responder()
            .unwrap();
        let ch = &self.client_hello;
        let mut scratch = vec![0u8; 65535];
        hs.read_message(&ch[3 + client_hello_header_len(&ch[3..])..], &mut scratch)
            .unwrap();
        let mut buf = vec![0u8; 65535];
        let n = hs.write_message(payload, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    /// The ClientHello with its flags set to `flags` and Noise message 1
    /// (under the prologue of the new header) carrying `payload`.
    fn client_hello_with(mut self, flags: u8, payload: &[u8]) -> Vec<u8> {
        let body = &self.client_hello[3..];
        let mut header = body[..client_hello_header_len(body)].to_vec();
        let flags_at = 6 + usize::from(header[5]) + 8;
        header[flags_at] = flags;
        self.prologue = PROLOGUE_LABEL.to_vec();
        self.prologue.extend_from_slice(&header);
        header.extend(self.message_1(payload));
        frame(0x01, &header)
    }
}

/// Noise message 1 or 2 of `v`, written by `snow` with `payload` instead of
/// the empty extension list lwsec sends.
fn snow_message(v: &HandshakeVector, initiator: bool, payload: &[u8]) -> Vec<u8> {
    let setup = NoiseSetup::of_handshake(v);
    if initiator {
        setup.message_1(payload)
    } else {
        setup.message_2(payload)
    }
}

/// `v`'s ClientHello with Noise message 1 carrying `payload`.
fn client_hello_with_payload(v: &HandshakeVector, payload: &[u8]) -> Vec<u8> {
    NoiseSetup::of_handshake(v).client_hello_with(0, payload)
}

struct Cases {
    cases: Vec<NegativeCase>,
}

impl Cases {
    fn add(&mut self, base: &str, receiver: &str, place: &str, description: &str, input: Vec<u8>) {
        let short = base.split_once('#').unwrap().1;
        self.cases.push(NegativeCase {
            name: format!("{short}/{place}"),
            place: place.to_string(),
            description: description.to_string(),
            base: base.to_string(),
            receiver: receiver.to_string(),
            input: hx(&input),
            ..NegativeCase::default()
        });
    }

    /// The case added last, to set its receiver options.
    fn last(&mut self) -> &mut NegativeCase {
        self.cases.last_mut().unwrap()
    }
}

/// Negative cases for early data (spec 4.3 step 7, 4.4, 4.6, 4.9) and
/// Retry cookies (spec 4.3 steps 5 and 6, 4.5).
fn early_data_and_cookie_cases(files: &VectorFiles, cases: &mut Cases) {
    let t = FIXED_TIME.as_millis();
    let v = find(&files.handshake.vectors, "nk-aes-256-gcm", |v| &v.name);
    let base = format!("handshake.json#{}", v.name);
    let with =
        |flags: u8, payload: &[u8]| NoiseSetup::of_handshake(v).client_hello_with(flags, payload);
    let full = early_data_payload(t, EARLY_DATA);
    let timestamp_only = &full[..12];
    let mut data_only = vec![0x00, 0x02];
    data_only.extend_from_slice(&u16::try_from(EARLY_DATA.len()).unwrap().to_be_bytes());
    data_only.extend_from_slice(EARLY_DATA);
    cases.add(
        &base,
        "server",
        "client_hello.early_data.flag_without_extension",
        "early_data flag set (and in the prologue) and Noise message 1 re-encrypted with only \
         a timestamp extension: no early_data extension",
        with(1, timestamp_only),
    );
    cases.add(
        &base,
        "server",
        "client_hello.early_data.flag_without_timestamp",
        "early_data flag set (and in the prologue) and Noise message 1 re-encrypted with only \
         an early_data extension: no timestamp",
        with(1, &data_only),
    );
    cases.add(
        &base,
        "server",
        "client_hello.early_data.extension_without_flag",
        "Noise message 1 re-encrypted with timestamp and early_data extensions; the \
         early_data flag is clear",
        with(0, &full),
    );
    let mut short_timestamp = vec![0x00, 0x01, 0x00, 0x07];
    short_timestamp.extend_from_slice(&t.to_be_bytes()[1..]);
    short_timestamp.extend_from_slice(&full[12..]);
    cases.add(
        &base,
        "server",
        "client_hello.early_data.timestamp_length",
        "early_data flag set and Noise message 1 re-encrypted with a 7-byte timestamp \
         extension and an early_data extension",
        with(1, &short_timestamp),
    );
    cases.add(
        &base,
        "client",
        "server_hello.early_data_status.unsolicited",
        "Noise message 2 re-encrypted with early_data_status = 1 although the client sent no \
         early data",
        frame(
            0x02,
            &snow_message(v, false, &[0x00, 0x03, 0x00, 0x01, 0x01]),
        ),
    );

    // The server_keys extension (section 4.4).
    let mut keys_33 = vec![0x00, 0x04, 0x00, 0x21];
    keys_33.extend([0x77; 33]);
    cases.add(
        &base,
        "client",
        "server_hello.server_keys.length",
        "Noise message 2 re-encrypted with a server_keys extension of 33 bytes (not a \
         multiple of 32)",
        frame(0x02, &snow_message(v, false, &keys_33)),
    );
    let mut keys_in_hello = vec![0x00, 0x04, 0x00, 0x20];
    keys_in_hello.extend([0x77; 32]);
    cases.add(
        &base,
        "server",
        "client_hello.server_keys",
        "Noise message 1 re-encrypted with a server_keys extension, which only a \
         ServerHello may carry",
        client_hello_with_payload(v, &keys_in_hello),
    );

    let e = find(&files.early_data.vectors, "nk-aes-256-gcm-accepted", |v| {
        &v.name
    });
    let base = format!("early_data.json#{}", e.name);
    cases.add(
        &base,
        "server",
        "client_hello.early_data.too_long",
        "Noise message 1 re-encrypted with a timestamp and 8193 bytes of early data (the \
         limit is 8192)",
        NoiseSetup::of_early_data(e).client_hello_with(1, &early_data_payload(t, &[0xed; 8193])),
    );
    cases.add(
        &base,
        "client",
        "server_hello.early_data_status.missing",
        "Noise message 2 re-encrypted with an empty payload although the client sent early \
         data",
        frame(0x02, &NoiseSetup::of_early_data(e).message_2(&[])),
    );
    cases.add(
        &base,
        "client",
        "server_hello.early_data_status.value",
        "Noise message 2 re-encrypted with early_data_status = 2 (only 0 and 1 are defined)",
        frame(
            0x02,
            &NoiseSetup::of_early_data(e).message_2(&[0x00, 0x03, 0x00, 0x01, 0x02]),
        ),
    );

    let r = find(&files.retry.vectors, "nk-cookie-aes-256-gcm", |v| &v.name);
    let base = format!("retry.json#{}", r.name);
    let ch2 = unhex(&r.client_hello_2);
    let header_end = 3 + client_hello_header_len(&ch2[3..]);
    let cookie_at = header_end - 24;
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_forged",
        "the second ClientHello with the last byte of the cookie's MAC flipped",
        flip(&ch2, header_end - 1),
    );
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_timestamp",
        "the second ClientHello with the last byte of the cookie's timestamp flipped (the \
         MAC no longer matches)",
        flip(&ch2, cookie_at + 7),
    );
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_other_address",
        "the unmodified second ClientHello, received from another address \
         (198.51.100.23:40000) than the one the cookie was issued to",
        ch2.clone(),
    );
    cases.last().receiver_peer_address = Some(hx(b"198.51.100.23:40000"));
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_expired",
        "the unmodified second ClientHello, received 30.001 s after the cookie was issued \
         (the lifetime is 30 s)",
        ch2.clone(),
    );
    cases.last().receiver_time = Some(t + 30_001);
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_future",
        "the unmodified second ClientHello, received 5.001 s before the cookie's timestamp \
         (at most 5 s of clock skew is allowed)",
        ch2.clone(),
    );
    cases.last().receiver_time = Some(t - 5_001);
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_length",
        "the second ClientHello with the cookie's last byte removed (a 23-byte cookie; \
         lengths adjusted)",
        rebody(&ch2, |b| {
            let end = header_end - 3;
            b.remove(end - 1);
            b[end - 27] -= 1; // retry_len
            b[end - 25] -= 1; // cookie_len
        }),
    );
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_missing",
        "the second ClientHello with the retry echo's cookie removed (suite 0x01, empty \
         cookie) sent to the server that demands one",
        rebody(&ch2, |b| {
            let end = header_end - 3;
            b.drain(end - 24..end);
            b[end - 27] = 2; // retry_len
            b[end - 25] = 0; // cookie_len
        }),
    );
}

fn handshake_cases(files: &VectorFiles, cases: &mut Cases) {
    let nk = find(&files.handshake.vectors, "nk-aes-256-gcm", |v| &v.name);
    let ik = find(&files.handshake.vectors, "ik-aes-256-gcm", |v| &v.name);
    for v in [nk, ik] {
        let base = format!("handshake.json#{}", v.name);
        let ch = unhex(&v.client_hello);
        let n = usize::from(ch[8]);
        let key_id_at = 9 + n;
        let noise_at = 3 + client_hello_header_len(&ch[3..]);
        let mut add = |place: &str, description: &str, input: Vec<u8>| {
            cases.add(&base, "server", place, description, input)
        };
        if v.pattern == "NK" {
            add(
                "client_hello.frame.type",
                "frame type 0x01 changed to 0x02 (ServerHello)",
                set(&ch, 0, 0x02),
            );
            add(
                "client_hello.frame.type_unknown",
                "frame type 0x01 changed to 0x04 (undefined)",
                set(&ch, 0, 0x04),
            );
            add(
                "client_hello.frame.length",
                "frame header only, length 10241 (above the 10240-byte ClientHello limit)",
                vec![0x01, 0x28, 0x01],
            );
            add(
                "client_hello.magic",
                "magic \"lw\" changed to \"lx\"",
                set(&ch, 4, b'x'),
            );
            add(
                "client_hello.version",
                "version 1 changed to 2",
                set(&ch, 5, 2),
            );
            add(
                "client_hello.pattern",
                "pattern 0x01 changed to 0x03 (undefined)",
                set(&ch, 6, 3),
            );
            add(
                "client_hello.header.suite_list",
                "suite list [0x01, 0x02] changed to [0x01, 0x03]: the server still selects \
                 0x01, and the prologue no longer matches",
                set(&ch, 10, 3),
            );
            add(
                "client_hello.header.suite_list.duplicate",
                "suite list [0x01, 0x02] changed to [0x01, 0x01]",
                set(&ch, 10, 1),
            );
            add(
                "client_hello.header.suite_list.empty",
                "suite list emptied (n = 0, suite bytes removed)",
                rebody(&ch, |b| {
                    b[5] = 0;
                    b.drain(6..6 + n);
                }),
            );
            add(
                "client_hello.header.suite_not_listed",
                "suite list [0x01, 0x02] changed to [0x02, 0x03], which lacks the first-flight suite 0x01",
                rebody(&ch, |b| {
                    b[6] = 2;
                    b[7] = 3;
                }),
            );
            add(
                "client_hello.header.no_common_suite",
                "suite 0x03 and suite list [0x03, 0x04]: no suite the server accepts",
                rebody(&ch, |b| {
                    b[4] = 3;
                    b[6] = 3;
                    b[7] = 4;
                }),
            );
            add(
                "client_hello.key_id",
                "first byte of the server key id flipped",
                flip(&ch, key_id_at),
            );
            add(
                "client_hello.flags",
                "reserved flag bit 1 set (flags 0x00 changed to 0x02)",
                set(&ch, key_id_at + 8, 2),
            );
            add(
                "client_hello.flags.early_data",
                "early_data flag set in transit (flags 0x00 changed to 0x01): the prologue no longer matches",
                set(&ch, key_id_at + 8, 1),
            );
            add(
                "client_hello.retry_echo.unsolicited_cookie",
                "a retry echo (suite 0x01, 1-byte cookie) the server never issued: not a valid cookie",
                rebody(&ch, |b| {
                    let at = key_id_at + 8 + 1 - 3;
                    b.splice(at..at + 1, [3, 1, 1, 0xaa]);
                }),
            );
            add(
                "client_hello.retry_echo.suite_mismatch",
                "a retry echo naming suite 0x02 in a ClientHello whose suite is 0x01",
                rebody(&ch, |b| {
                    let at = key_id_at + 8 + 1 - 3;
                    b.splice(at..at + 1, [2, 2, 0]);
                }),
            );
            add(
                "client_hello.noise.ephemeral.low_order",
                "the client ephemeral key replaced by zero (a low-order point)",
                rebody(&ch, |b| b[noise_at - 3..noise_at - 3 + 32].fill(0)),
            );
            add(
                "client_hello.noise.truncated",
                "last byte of the Noise message removed (length adjusted)",
                rebody(&ch, |b| {
                    b.pop();
                }),
            );
        }
        add(
            "client_hello.noise.ephemeral",
            "first byte of the client ephemeral key flipped",
            flip(&ch, noise_at),
        );
        if v.pattern == "IK" {
            add(
                "client_hello.noise.static",
                "first byte of the encrypted client static key flipped",
                flip(&ch, noise_at + 32),
            );
        }
        if v.pattern == "NK" {
            add(
                "client_hello.noise.payload.critical_extension",
                "Noise message 1 re-encrypted with a payload holding the unknown critical \
                 extension 0x8001 (empty value)",
                client_hello_with_payload(v, &[0x80, 0x01, 0x00, 0x00]),
            );
            add(
                "client_hello.noise.payload.extension_order",
                "Noise message 1 re-encrypted with a payload holding extension 0x0005 twice",
                client_hello_with_payload(v, &[0, 5, 0, 0, 0, 5, 0, 0]),
            );
            add(
                "client_hello.noise.payload.extension_length",
                "Noise message 1 re-encrypted with a payload whose extension claims 3 bytes \
                 and holds 1",
                client_hello_with_payload(v, &[0, 5, 0, 3, 1]),
            );
        }
        add(
            "client_hello.noise.payload_tag",
            "last byte of the payload tag flipped",
            flip(&ch, ch.len() - 1),
        );

        if v.pattern == "IK" {
            cases.add(
                &base,
                "server-rejecting",
                "client_hello.noise.static.rejected",
                "the unmodified ClientHello, sent to a server whose application refuses every \
                 client static key",
                ch.clone(),
            );
        }
        let base_client = |place: &str, description: &str, input: Vec<u8>, cases: &mut Cases| {
            cases.add(&base, "client", place, description, input)
        };
        let sh = unhex(&v.server_hello);
        base_client(
            "server_hello.noise.ephemeral",
            "first byte of the server ephemeral key flipped",
            flip(&sh, 3),
            cases,
        );
        base_client(
            "server_hello.noise.payload_tag",
            "last byte of the payload tag flipped",
            flip(&sh, sh.len() - 1),
            cases,
        );
        if v.pattern == "NK" {
            base_client(
                "server_hello.noise.ephemeral.low_order",
                "the server ephemeral key replaced by zero (a low-order point)",
                rebody(&sh, |b| b[..32].fill(0)),
                cases,
            );
            base_client(
                "server_hello.noise.payload.critical_extension",
                "Noise message 2 re-encrypted with a payload holding the unknown critical \
                 extension 0x8001 (empty value)",
                frame(0x02, &snow_message(v, false, &[0x80, 0x01, 0x00, 0x00])),
                cases,
            );
            base_client(
                "server_hello.frame.type",
                "a ClientHello frame (type 0x01) where a ServerHello or Retry is expected",
                set(&sh, 0, 0x01),
                cases,
            );
            base_client(
                "alert.unknown_server_key",
                "the server's cleartext alert unknown_server_key (90)",
                vec![0x15, 0x00, 0x01, 90],
                cases,
            );
            base_client(
                "retry.suite_not_offered",
                "a Retry selecting suite 0x03, which the client did not offer",
                frame(0x03, &[0x03, 0x00]),
                cases,
            );
            base_client(
                "retry.changes_nothing",
                "a Retry selecting the suite already used, with no cookie",
                frame(0x03, &[0x01, 0x00]),
                cases,
            );
            let mut long_cookie = vec![0x02, 65];
            long_cookie.extend([0xcc; 65]);
            base_client(
                "retry.cookie_too_long",
                "a Retry with a 65-byte cookie (the limit is 64)",
                frame(0x03, &long_cookie),
                cases,
            );
        }
    }
    // Key confirmation (section 4.10): the server read the ClientHello,
    // accepted the client and waits for its confirm record.
    for v in [nk, ik] {
        let base = format!("handshake.json#{}", v.name);
        let suite = parse_suite(&v.suite);
        let ch = unhex(&v.client_hello);
        let after_hello = |record: Vec<u8>| [ch.clone(), record].concat();
        let sealed = |inner: &[u8]| seal_record(suite, &v.client_to_server, 0, inner);
        let mut add = |place: &str, description: &str, input: Vec<u8>| {
            cases.add(&base, "server", place, description, input)
        };
        add(
            "client_confirm.missing",
            "the ClientHello, then a message record (seq 0) instead of the confirm record: \
             the client never proved it holds the keys",
            after_hello(sealed(&[0x68, 0x69, 0x01])),
        );
        add(
            "client_confirm.payload",
            "the ClientHello, then a confirm record (content type 0x07) with a 1-byte payload",
            after_hello(sealed(&[0x01, 0x07])),
        );
        add(
            "client_confirm.tag",
            "the ClientHello, then the client's confirm record with its last tag byte flipped \
             (a replayed first flight cannot produce a valid one)",
            after_hello({
                let c = unhex(&v.client_confirm);
                flip(&c, c.len() - 1)
            }),
        );
        add(
            "client_confirm.cleartext_alert",
            "the ClientHello, then a cleartext alert decrypt_error (51) where the confirm \
             record is expected: reported (unauthenticated), not answered",
            after_hello(vec![0x15, 0x00, 0x01, 51]),
        );
    }
    let retry = find(&files.retry.vectors, "nk-retry-chacha20-poly1305", |v| {
        &v.name
    });
    let ch1 = unhex(&retry.client_hello_1);
    let retry_len_at = 3 + client_hello_header_len(&ch1[3..]) - 1;
    cases.add(
        &format!("retry.json#{}", retry.name),
        "server",
        "client_hello.retry_echo.not_selected",
        "the first ClientHello (suite 0x01) with a retry echo for suite 0x01 added: the \
         server selects 0x02, and a ClientHello that already answers a Retry must use it",
        rebody(&ch1, |b| {
            b.splice(retry_len_at - 3..retry_len_at - 2, [2, 1, 0]);
        }),
    );
    let r = unhex(&retry.retry);
    let mut twice = r.clone();
    twice.extend_from_slice(&r);
    cases.add(
        &format!("retry.json#{}", retry.name),
        "client",
        "retry.second",
        "the Retry delivered twice: the client answers the first with its second ClientHello, \
         then fails on the second",
        twice,
    );
}

fn record_cases(files: &VectorFiles, cases: &mut Cases) {
    for suite in Suite::ALL {
        let slug = suite_slug(suite);
        let s = find(
            &files.records.streams,
            &format!("{slug}/padding-none"),
            |s| &s.name,
        );
        let base = format!("records.json#{}", s.name);
        // Step 0 is the key confirmation (seq 0), which the receiver has.
        assert_eq!(s.steps[0].command, "confirm");
        let second = unhex(&s.steps[2].records[0].record);
        let first = unhex(&s.steps[1].records[0].record);
        let c2s = &s.client_to_server;
        let sealed = |seq: u64, inner: &[u8]| seal_record(suite, c2s, seq, inner);
        let mut add = |place: &str, description: &str, input: Vec<u8>| {
            cases.add(&base, "server", place, description, input)
        };
        add(
            "record.header.type",
            "record type 0x17 changed to 0x18 (undefined)",
            set(&first, 0, 0x18),
        );
        add(
            "record.header.type_handshake",
            "record type 0x17 changed to 0x01 (ClientHello) after the handshake",
            set(&first, 0, 0x01),
        );
        add(
            "record.header.length",
            "record header only, length 16402 (above the 16401-byte limit)",
            vec![0x17, 0x40, 0x12],
        );
        add(
            "record.header.length_short",
            "record length one less than the record's size (the last tag byte is left over)",
            {
                let len = u16::from_be_bytes([first[1], first[2]]) - 1;
                let mut b = first.clone();
                b[1..3].copy_from_slice(&len.to_be_bytes());
                b
            },
        );
        add(
            "record.ciphertext",
            "first ciphertext byte flipped",
            flip(&first, 3),
        );
        add(
            "record.tag",
            "last tag byte flipped",
            flip(&first, first.len() - 1),
        );
        add(
            "record.too_short",
            "a record body of 15 bytes, shorter than a tag",
            frame(0x17, &[0x5a; 15]),
        );
        let mut replayed = first.clone();
        replayed.extend_from_slice(&first);
        add(
            "record.replayed",
            "the first record after the confirmation (seq 1) delivered twice",
            replayed,
        );
        add(
            "record.reordered",
            "the second record after the confirmation (seq 2) delivered first",
            second,
        );
        let reflected = unhex(&s.steps.last().unwrap().records[0].record);
        add(
            "record.reflected",
            "the server's own first record (server-to-client keys) sent back to it",
            reflected,
        );
        add(
            "record.inner.unknown_content_type",
            "a record sealed correctly with content type 0x08 (undefined)",
            sealed(1, &[0x68, 0x69, 0x08]),
        );
        add(
            "record.inner.no_content_type",
            "a record sealed correctly whose inner plaintext is all zeros",
            sealed(1, &[0u8; 4]),
        );
        add(
            "record.inner.empty_continuation",
            "an empty message_continues (0x02) record",
            sealed(1, &[0x02]),
        );
        add(
            "record.key_update.payload",
            "a key_update whose payload is 0x02",
            sealed(1, &[0x02, 0x03]),
        );
        let mut ping = vec![0x70; 65];
        ping.push(0x04);
        add(
            "record.ping.too_long",
            "a ping with a 65-byte payload (the limit is 64)",
            sealed(1, &ping),
        );
        add(
            "record.alert.payload",
            "an alert record with a 2-byte payload",
            sealed(1, &[0x00, 0x00, 0x06]),
        );
        add(
            "record.alert.fatal",
            "an alert record carrying bad_record_mac (20): the receiver fails and sends nothing",
            sealed(1, &[20, 0x06]),
        );
        let mut after_close = sealed(1, &[0x00, 0x06]);
        after_close.extend(sealed(2, &[0x61, 0x01]));
        add(
            "record.after_close_notify",
            "a message record (seq 2) after close_notify (seq 1)",
            after_close,
        );
        add(
            "record.confirm.repeated",
            "a second key confirmation record (content type 0x07) after the first",
            sealed(1, &[0x07]),
        );
        add(
            "record.cleartext_alert",
            "a cleartext alert frame (0x15) after the handshake",
            vec![0x15, 0x00, 0x01, 40],
        );
    }
}

/// Inputs that break two rules at once: the spec says which check comes
/// first (PROTOCOL.md sections 3, 4.3, 4.4, 4.5, 4.6, 7).
fn two_rule_cases(files: &VectorFiles, cases: &mut Cases) {
    let nk = find(&files.handshake.vectors, "nk-aes-256-gcm", |v| &v.name);
    let base = format!("handshake.json#{}", nk.name);
    let ch = unhex(&nk.client_hello);
    cases.add(
        &base,
        "server",
        "two_rules.magic_and_version",
        "magic changed to \"lx\" and version to 2: the magic is checked first",
        set(&set(&ch, 4, b'x'), 5, 2),
    );
    cases.add(
        &base,
        "server",
        "two_rules.version_and_structure",
        "version 2 and the suite list emptied: the version is checked before the structure",
        rebody(&set(&ch, 5, 2), |b| {
            let n = usize::from(b[5]);
            b[5] = 0;
            b.drain(6..6 + n);
        }),
    );
    // Extension checks run in order: an out-of-order type is found before
    // the type's "not allowed here".
    let mut unordered = vec![0x00, 0x10, 0x00, 0x00];
    unordered.extend_from_slice(&[0x00, 0x03, 0x00, 0x01, 0x01]);
    cases.add(
        &base,
        "server",
        "two_rules.extension_order_then_misplaced",
        "Noise message 1 re-encrypted with extensions 0x0010 (unknown) then 0x0003 \
         (early_data_status, not allowed in a ClientHello, and out of order): the order \
         is checked first",
        client_hello_with_payload(nk, &unordered),
    );
    // A short message 2 whose ephemeral key is also a low-order point.
    let mut short = vec![0u8; 40];
    short[0] = 1; // the point of order 1 (u = 1)
    let mut base_client = |place: &str, description: &str, input: Vec<u8>| {
        cases.add(&base, "client", place, description, input)
    };
    base_client(
        "two_rules.short_message_2_low_order",
        "a 40-byte ServerHello (shorter than 48) whose ephemeral key is a low-order point: \
         the length is checked before any Diffie-Hellman",
        frame(0x02, &short),
    );
    base_client(
        "alert.empty",
        "a cleartext alert frame of length 0 (no code)",
        vec![0x15, 0x00, 0x00],
    );
    base_client(
        "retry.body_length",
        "a Retry whose cookie_len says 2 but carries 3 bytes of cookie",
        frame(0x03, &[0x02, 0x02, 0xcc, 0xcc, 0xcc]),
    );
    let retry = find(&files.retry.vectors, "nk-retry-chacha20-poly1305", |v| {
        &v.name
    });
    let mut twice = unhex(&retry.retry);
    twice.extend(frame(0x03, &[0x02, 65]));
    cases.add(
        &format!("retry.json#{}", retry.name),
        "client",
        "two_rules.second_retry_malformed",
        "the Retry, then a second Retry whose body is malformed (cookie_len 65, no cookie): \
         a second Retry is refused before its body is read",
        twice,
    );
    // A close_notify between the fragments of a message.
    for suite in Suite::ALL {
        let s = find(
            &files.records.streams,
            &format!("{}/padding-none", suite_slug(suite)),
            |s| &s.name,
        );
        let sealed = |seq: u64, inner: &[u8]| seal_record(suite, &s.client_to_server, seq, inner);
        let mut input = sealed(1, &[0x61, 0x02]);
        input.extend(sealed(2, &[0x00, 0x06]));
        cases.add(
            &format!("records.json#{}", s.name),
            "server",
            "record.close_notify_inside_message",
            "a message_continues fragment (seq 1), then close_notify (seq 2) before the \
             message ends: a close must not cut a message silently",
            input,
        );
    }
}

fn generate_negative(files: &VectorFiles) -> NegativeFile {
    let mut cases = Cases { cases: Vec::new() };
    handshake_cases(files, &mut cases);
    two_rule_cases(files, &mut cases);
    early_data_and_cookie_cases(files, &mut cases);
    record_cases(files, &mut cases);
    NegativeFile {
        description: "lwsec v1 negative cases: tampered or invalid input, the side that \
                      receives it, the error it must fail with and the alert it sends. See \
                      spec/VECTORS.md."
            .to_string(),
        cases: cases
            .cases
            .iter()
            .map(|c| compute_negative(files, c))
            .collect(),
    }
}

/// Generates every vector file from the named seeds.
pub(crate) fn generate_all() -> VectorFiles {
    let mut files = VectorFiles {
        handshake: generate_handshakes(),
        records: generate_records(),
        retry: generate_retries(),
        early_data: generate_early_data(),
        negative: NegativeFile {
            description: String::new(),
            cases: Vec::new(),
        },
    };
    files.negative = generate_negative(&files);
    files
}

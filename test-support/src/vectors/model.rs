//! The vector files' data model: one serde struct per file and per entry,
//! field for field as `spec/VECTORS.md` describes them. Serializing a
//! [`VectorFiles`] gives the committed bytes ([`VectorFiles::render`]).

use serde::{Deserialize, Serialize};

use super::FILES;

/// A traffic secret with the record key and IV derived from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficKeys {
    /// The traffic secret (32 bytes).
    pub secret: String,
    /// The AEAD key (32 bytes).
    pub key: String,
    /// The IV (12 bytes).
    pub iv: String,
}

/// An exporter call and its output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exporter {
    /// The label (hex).
    pub label: String,
    /// The context (hex).
    pub context: String,
    /// The number of bytes exported.
    pub length: usize,
    /// The exported bytes.
    pub output: String,
}

/// The suites and static keys of a handshake's two sides: the fields that
/// handshake, Retry and early-data vectors share, written inline in each
/// (`#[serde(flatten)]`). The suites and private keys are inputs; the
/// public keys and the key id are outputs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parties {
    /// Suite codes the client offers, most preferred first.
    pub client_suites: Vec<u8>,
    /// Suite codes the server accepts.
    pub server_suites: Vec<u8>,
    /// The server's static private key.
    pub server_static_private: String,
    /// Its public key.
    pub server_static_public: String,
    /// The server key id sent in the ClientHello.
    pub server_key_id: String,
    /// The client's static private key (IK only).
    pub client_static_private: Option<String>,
    /// Its public key (IK only).
    pub client_static_public: Option<String>,
}

/// `test-vectors/handshake.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeFile {
    /// What the file holds.
    pub description: String,
    /// One vector per pattern and suite.
    pub vectors: Vec<HandshakeVector>,
}

/// One complete handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeVector {
    /// Unique name, e.g. `nk-aes-256-gcm`.
    pub name: String,
    /// `NK` or `IK`.
    pub pattern: String,
    /// The negotiated suite (`AES-256-GCM` or `ChaCha20-Poly1305`).
    pub suite: String,
    /// The Noise protocol name.
    pub noise_protocol: String,
    /// The suites and static keys of both sides.
    #[serde(flatten)]
    pub parties: Parties,
    /// The client's ephemeral private key (the client RNG's only output).
    pub client_ephemeral_private: String,
    /// Its public key.
    pub client_ephemeral_public: String,
    /// The server's ephemeral private key (the server RNG's only output).
    pub server_ephemeral_private: String,
    /// Its public key.
    pub server_ephemeral_public: String,
    /// The Noise prologue: `"lwsec/1 prologue" || ClientHello header`.
    pub prologue: String,
    /// The ClientHello frame.
    pub client_hello: String,
    /// The server keys the server announces in its ServerHello (the
    /// `server_keys` extension), in order; null when it announces none.
    pub announced_server_keys: Option<Vec<String>>,
    /// The ServerHello frame.
    pub server_hello: String,
    /// The client's key confirmation: its first record (content type
    /// `confirm`, empty payload, sequence number 0).
    pub client_confirm: String,
    /// The final Noise handshake hash.
    pub handshake_hash: String,
    /// Client-to-server traffic secret, key and IV.
    pub client_to_server: TrafficKeys,
    /// Server-to-client traffic secret, key and IV.
    pub server_to_client: TrafficKeys,
    /// An exporter output (the same on both sides).
    pub exporter: Exporter,
}

/// `test-vectors/retry.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryFile {
    /// What the file holds.
    pub description: String,
    /// One vector per pattern.
    pub vectors: Vec<RetryVector>,
}

/// A handshake in which the server answers the first ClientHello with a Retry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryVector {
    /// Unique name, e.g. `nk-retry-chacha20-poly1305`.
    pub name: String,
    /// `NK` or `IK`.
    pub pattern: String,
    /// The suite finally negotiated.
    pub suite: String,
    /// The suites and static keys of both sides.
    #[serde(flatten)]
    pub parties: Parties,
    /// Whether the server demands a Retry cookie.
    pub demand_cookie: bool,
    /// The client's address as the server sees it (cookie flows only).
    pub peer_address: Option<String>,
    /// The server's cookie secret (cookie flows only).
    pub cookie_secret: Option<String>,
    /// The client's ephemeral private key in the first ClientHello.
    pub client_ephemeral_private_1: String,
    /// The client's ephemeral private key in the second ClientHello.
    pub client_ephemeral_private_2: String,
    /// The server's ephemeral private key.
    pub server_ephemeral_private: String,
    /// The first ClientHello frame.
    pub client_hello_1: String,
    /// The server's Retry frame.
    pub retry: String,
    /// The second ClientHello frame (its header echoes the Retry).
    pub client_hello_2: String,
    /// The prologue of the second (completed) handshake.
    pub prologue_2: String,
    /// The ServerHello frame.
    pub server_hello: String,
    /// The client's key confirmation record.
    pub client_confirm: String,
    /// The final Noise handshake hash.
    pub handshake_hash: String,
    /// Client-to-server traffic secret, key and IV.
    pub client_to_server: TrafficKeys,
    /// Server-to-client traffic secret, key and IV.
    pub server_to_client: TrafficKeys,
}

/// `test-vectors/early_data.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyDataFile {
    /// What the file holds.
    pub description: String,
    /// The flows.
    pub vectors: Vec<EarlyDataVector>,
}

/// A handshake whose first flight carries early data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyDataVector {
    /// Unique name, e.g. `nk-aes-256-gcm-accepted`.
    pub name: String,
    /// `accepted`, `no_guard`, `replayed` or `stale`.
    pub scenario: String,
    /// `NK` or `IK`.
    pub pattern: String,
    /// The negotiated suite.
    pub suite: String,
    /// The Noise protocol name.
    pub noise_protocol: String,
    /// The suites and static keys of both sides.
    #[serde(flatten)]
    pub parties: Parties,
    /// The client's ephemeral private key.
    pub client_ephemeral_private: String,
    /// Its public key (the flight's identity in the replay guard).
    pub client_ephemeral_public: String,
    /// The server's ephemeral private key.
    pub server_ephemeral_private: String,
    /// Its public key.
    pub server_ephemeral_public: String,
    /// The server's anti-replay window in milliseconds (null: no guard).
    pub window_ms: Option<u64>,
    /// `replayed` only: the ephemeral private key of the first server, which
    /// shares the guard and accepts the same ClientHello first.
    pub first_server_ephemeral_private: Option<String>,
    /// The client's clock when it builds the ClientHello (milliseconds).
    pub client_time: u64,
    /// The server's clock when it receives the ClientHello (milliseconds).
    pub server_time: u64,
    /// The early data.
    pub early_data: String,
    /// The Noise prologue.
    pub prologue: String,
    /// The plaintext payload of Noise message 1: `timestamp` and `early_data`.
    pub client_hello_payload: String,
    /// The ClientHello frame.
    pub client_hello: String,
    /// The plaintext payload of Noise message 2: `early_data_status`.
    pub server_hello_payload: String,
    /// The ServerHello frame.
    pub server_hello: String,
    /// The client's key confirmation record.
    pub client_confirm: String,
    /// The `early_data_status` value: 1 accepted, 0 rejected.
    pub early_data_status: u8,
    /// The early data the server delivers (null when rejected).
    pub server_early_data: Option<String>,
    /// The client's event: `EarlyDataAccepted` or `EarlyDataRejected`.
    pub client_event: String,
    /// The final Noise handshake hash.
    pub handshake_hash: String,
    /// Client-to-server traffic secret, key and IV.
    pub client_to_server: TrafficKeys,
    /// Server-to-client traffic secret, key and IV.
    pub server_to_client: TrafficKeys,
}

/// `test-vectors/records.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsFile {
    /// What the file holds.
    pub description: String,
    /// Record streams.
    pub streams: Vec<RecordStream>,
}

/// A padding policy as written in the vectors.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaddingSpec {
    /// `none`, `multiple_of` or `buckets`.
    pub policy: String,
    /// The multiple (one entry) or the bucket sizes; empty for `none`.
    pub sizes: Vec<u16>,
}

/// An established connection and the records both sides exchange on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordStream {
    /// Unique name, e.g. `aes-256-gcm/padding-none`.
    pub name: String,
    /// The suite.
    pub suite: String,
    /// The padding policy both sides use.
    pub padding: PaddingSpec,
    /// Noise `Split()` output: the initiator-to-responder key.
    pub k1: String,
    /// Noise `Split()` output: the responder-to-initiator key.
    pub k2: String,
    /// The handshake hash.
    pub handshake_hash: String,
    /// Initial client-to-server keys.
    pub client_to_server: TrafficKeys,
    /// Initial server-to-client keys.
    pub server_to_client: TrafficKeys,
    /// What the sides did, in order.
    pub steps: Vec<RecordStep>,
}

/// One command and the records it produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordStep {
    /// `client` or `server`.
    pub sender: String,
    /// `confirm` (the client's key confirmation, always the first step),
    /// `send_message`, `update_keys`, `update_keys_request_peer`, `ping`,
    /// `close`, or `automatic` (records the sender produced on its own in
    /// answer to the previous step: a pong or a key update).
    pub command: String,
    /// The records, in order.
    pub records: Vec<Record>,
}

/// One protected record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The sequence number under the current traffic secret.
    pub seq: u64,
    /// The content type.
    pub content_type: u8,
    /// The payload.
    pub payload: String,
    /// The number of zero padding bytes after the content type.
    pub padding_len: usize,
    /// The record as sent: header, ciphertext and tag.
    pub record: String,
    /// For a key_update record: the sender's keys for the records after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_keys: Option<TrafficKeys>,
}

/// `test-vectors/resumption.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumptionFile {
    /// What the file holds.
    pub description: String,
    /// The flows: a full handshake that ends with a ticket, then a second
    /// connection that resumes with it (or is refused).
    pub vectors: Vec<ResumptionVector>,
}

/// A ticket as a server issues it and a client receives it: the ticket
/// record, its payload and the sealed ticket taken apart (spec 4.11).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedTicket {
    /// The ticket record as sent: the server's first record (server-to-client
    /// keys, sequence number 0), content type `ticket`, no padding.
    pub record: String,
    /// Its payload: `lifetime (4) || ticket`.
    pub payload: String,
    /// The lifetime in seconds.
    pub lifetime: u32,
    /// The sealed ticket: `key_id || nonce || ciphertext || tag`.
    pub ticket: String,
    /// The ticket key id (4 bytes).
    pub key_id: String,
    /// The nonce (12 bytes, the server RNG's).
    pub nonce: String,
    /// The ticket's AEAD key `k = HKDF-Expand-Label(ticket_secret, "ticket", "", 32)`.
    pub aead_key: String,
    /// The ticket's plaintext.
    pub plaintext: String,
    /// `issued_at` in the plaintext (the server's clock, ms).
    pub issued_at: u64,
    /// `authenticated_at` in the plaintext (the last full handshake, ms).
    pub authenticated_at: u64,
    /// When the client stops using the ticket: its clock when the record
    /// arrived plus the lifetime (ms).
    pub expires: u64,
}

/// A completed handshake of a resumption flow, the server's ticket record
/// included: a full `NK`/`IK` handshake, or a resumed `NNpsk0` one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketedHandshake {
    /// The Noise protocol name.
    pub noise_protocol: String,
    /// Whether this handshake resumed with a ticket (`NNpsk0`).
    pub resumed: bool,
    /// The client's ephemeral private key.
    pub client_ephemeral_private: String,
    /// Its public key.
    pub client_ephemeral_public: String,
    /// The server's ephemeral private key (the server RNG's first 32 bytes).
    pub server_ephemeral_private: String,
    /// Its public key.
    pub server_ephemeral_public: String,
    /// The nonce of the ticket the server issues (the server RNG's next 12 bytes).
    pub ticket_nonce: String,
    /// The Noise prologue: `"lwsec/1 prologue" || ClientHello header`.
    pub prologue: String,
    /// The plaintext payload of Noise message 1.
    pub client_hello_payload: String,
    /// The ClientHello frame.
    pub client_hello: String,
    /// The plaintext payload of Noise message 2.
    pub server_hello_payload: String,
    /// The ServerHello frame.
    pub server_hello: String,
    /// The client's key confirmation record.
    pub client_confirm: String,
    /// The final Noise handshake hash.
    pub handshake_hash: String,
    /// Client-to-server traffic secret, key and IV.
    pub client_to_server: TrafficKeys,
    /// Server-to-client traffic secret, key and IV.
    pub server_to_client: TrafficKeys,
    /// The exporter secret.
    pub exporter_secret: String,
    /// `HKDF-Expand-Label(exporter_secret, "resumption", "", 32)`: the psk of
    /// the ticket this handshake ends with.
    pub resumption_secret: String,
    /// The ticket the server issues once the client's confirmation arrived.
    pub ticket: IssuedTicket,
}

/// A resumption ClientHello the server refused (ResumeRefused).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedFlight {
    /// The client's ephemeral private key in it (the client RNG's first 32 bytes).
    pub client_ephemeral_private: String,
    /// Its public key.
    pub client_ephemeral_public: String,
    /// Its prologue.
    pub prologue: String,
    /// The resumption ClientHello frame.
    pub client_hello: String,
    /// The server's ResumeRefused frame.
    pub resume_refused: String,
}

/// A full handshake that leaves the client with a ticket, and a second
/// connection that resumes with it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumptionVector {
    /// Unique name, e.g. `ik-aes-256-gcm-resumed`, `nk-aes-256-gcm-refused`.
    pub name: String,
    /// `resumed`, `refused` or `early_data`.
    pub scenario: String,
    /// The pattern of the full handshake (`NK` or `IK`).
    pub pattern: String,
    /// The suite of both connections.
    pub suite: String,
    /// The suites and static keys of both sides.
    #[serde(flatten)]
    pub parties: Parties,
    /// The ticket secret of the server of the first connection.
    pub ticket_secret: String,
    /// The ticket secret of the server of the second connection (the same
    /// fleet, or another one when the ticket is refused).
    pub second_ticket_secret: String,
    /// The ticket lifetime both servers give (seconds).
    pub ticket_lifetime: u32,
    /// The application identity the server attaches when it accepts the
    /// client of a full handshake (hex); null: none.
    pub identity: Option<String>,
    /// The time of the first connection (both sides, ms).
    pub first_time: u64,
    /// The time of the second connection (both sides, ms).
    pub second_time: u64,
    /// The early data of the resumption flight (null: none).
    pub early_data: Option<String>,
    /// The second server's anti-replay window (ms); null: no early data accepted.
    pub window_ms: Option<u64>,
    /// The full handshake of the first connection and its ticket.
    pub first: TicketedHandshake,
    /// `refused` only: the resumption flight the second server refused.
    pub refused_flight: Option<RefusedFlight>,
    /// The handshake that completes the second connection: resumed, or the
    /// full handshake after a refusal.
    pub second: TicketedHandshake,
    /// Early data only: the `early_data_status` value (1 accepted).
    pub early_data_status: Option<u8>,
    /// Early data only: what the second server delivers (null: nothing).
    pub server_early_data: Option<String>,
    /// Early data only: the client's event, `EarlyDataAccepted` or
    /// `EarlyDataRejected`.
    pub client_event: Option<String>,
}

/// `test-vectors/negative.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NegativeFile {
    /// What the file holds.
    pub description: String,
    /// The cases.
    pub cases: Vec<NegativeCase>,
}

/// Invalid input fed to one side, and how that side must fail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NegativeCase {
    /// Unique name.
    pub name: String,
    /// The place that was tampered with.
    pub place: String,
    /// What was done to it.
    pub description: String,
    /// The vector that sets up the receiver: `file.json#name`.
    pub base: String,
    /// `client`, `server` or `server-rejecting`.
    pub receiver: String,
    /// The receiver's clock when it gets the input (milliseconds); absent:
    /// the fixed time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_time: Option<u64>,
    /// The peer address the receiver sees, replacing the base's (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_peer_address: Option<String>,
    /// The bytes fed to the receiver.
    pub input: String,
    /// The `lwsec::Error` variant the receiver fails with.
    pub error: String,
    /// The alert code the receiver sends, if any.
    pub alert: Option<u8>,
    /// The alert's name, if any.
    pub alert_name: Option<String>,
    /// Every byte the receiver queued in answer to the input.
    pub output: String,
}

/// All six files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorFiles {
    /// `handshake.json`.
    pub handshake: HandshakeFile,
    /// `records.json`.
    pub records: RecordsFile,
    /// `retry.json`.
    pub retry: RetryFile,
    /// `early_data.json`.
    pub early_data: EarlyDataFile,
    /// `resumption.json`.
    pub resumption: ResumptionFile,
    /// `negative.json`.
    pub negative: NegativeFile,
}

impl VectorFiles {
    /// The files' contents as written: 2-space indented JSON and a newline.
    pub fn render(&self) -> [(&'static str, String); 6] {
        fn json<T: Serialize>(value: &T) -> String {
            let mut s = serde_json::to_string_pretty(value).unwrap();
            s.push('\n');
            s
        }
        let [handshake, records, retry, early_data, resumption, negative] = FILES;
        [
            (handshake, json(&self.handshake)),
            (records, json(&self.records)),
            (retry, json(&self.retry)),
            (early_data, json(&self.early_data)),
            (resumption, json(&self.resumption)),
            (negative, json(&self.negative)),
        ]
    }

    /// Parses the files' contents (in [`FILES`] order).
    pub fn parse(contents: &[String; 6]) -> Self {
        Self {
            handshake: serde_json::from_str(&contents[0]).unwrap(),
            records: serde_json::from_str(&contents[1]).unwrap(),
            retry: serde_json::from_str(&contents[2]).unwrap(),
            early_data: serde_json::from_str(&contents[3]).unwrap(),
            resumption: serde_json::from_str(&contents[4]).unwrap(),
            negative: serde_json::from_str(&contents[5]).unwrap(),
        }
    }
}

//! Seed inputs for the fuzz targets, built from real handshakes and records.

use std::sync::Arc;

use lwsec::{Connection, Padding, Pattern, ServerConfig, Suite};

use lwsec_test_support::honest;
use lwsec_test_support::peers::{self, NOW};

/// One seed file: name and contents.
pub type Seed = (String, Vec<u8>);

/// All seeds, by target.
pub fn all() -> Vec<(&'static str, Vec<Seed>)> {
    vec![
        ("server_handshake", server_handshake()),
        ("client_response", client_response()),
        ("established_records", established_records()),
        ("message_reassembly", message_reassembly()),
        ("wire_parsers", wire_parsers()),
        ("honest_peers", honest_peers()),
        ("diff_snow_handshake", diff_snow_handshake()),
        ("diff_records", diff_records()),
        #[cfg(feature = "ffi")]
        ("c_api", c_api()),
    ]
}

/// A deterministic byte string for unstructured seeds.
fn noise_bytes(seed: usize, len: usize) -> Vec<u8> {
    let mut x = (seed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Runs a handshake with the targets' fixed configs; returns the client's
/// and the server's bytes (handshake then the honest stream of each).
fn transcript(pattern: Pattern, suites: &[Suite], server_suites: &[Suite]) -> (Vec<u8>, Vec<u8>) {
    let mut server_cfg = (*peers::server_config(b"fuzz")).clone();
    server_cfg.suites = server_suites.to_vec();
    let server_cfg: Arc<ServerConfig> = Arc::new(server_cfg);
    let mut client =
        Connection::client(peers::client_config(pattern, suites, b"fuzz"), NOW).unwrap();
    let mut server = Connection::server(server_cfg, NOW).unwrap();
    let (mut c_bytes, mut s_bytes) = handshake_and_streams(&mut client, &mut server);
    client.close().unwrap();
    server.close().unwrap();
    c_bytes.extend_from_slice(client.pending_output());
    s_bytes.extend_from_slice(server.pending_output());
    (c_bytes, s_bytes)
}

/// Runs the handshake between `client` and `server`, then each side's
/// honest stream; returns the bytes each side sent.
fn handshake_and_streams(client: &mut Connection, server: &mut Connection) -> (Vec<u8>, Vec<u8>) {
    let (mut c_bytes, mut s_bytes) = (Vec::new(), Vec::new());
    while client.is_handshaking() || !peers::server_is_established(server) {
        let out = client.pending_output().to_vec();
        c_bytes.extend_from_slice(&out);
        client.consume_output(out.len());
        server.handle_input(&out, NOW).unwrap();
        peers::server_after_input(server, NOW).unwrap();
        let out = server.pending_output().to_vec();
        s_bytes.extend_from_slice(&out);
        server.consume_output(out.len());
        client.handle_input(&out, NOW).unwrap();
    }
    c_bytes.extend(honest::honest_stream(client));
    s_bytes.extend(honest::honest_stream(server));
    (c_bytes, s_bytes)
}

fn with_control(control: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![control];
    v.extend_from_slice(bytes);
    v
}

const AES_FIRST: [Suite; 2] = [Suite::Aes256Gcm, Suite::ChaCha20Poly1305];
const CHACHA_FIRST: [Suite; 2] = [Suite::ChaCha20Poly1305, Suite::Aes256Gcm];

fn server_handshake() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for (p, pattern) in [Pattern::Nk, Pattern::Ik].into_iter().enumerate() {
        for (s, suites) in [AES_FIRST, CHACHA_FIRST].iter().enumerate() {
            let (c, _) = transcript(pattern, suites, &Suite::ALL);
            let hello_len = 3 + usize::from(u16::from_be_bytes([c[1], c[2]]));
            seeds.push((format!("full-{p}{s}"), with_control(255, &c)));
            seeds.push((format!("hello-{p}{s}"), with_control(0, &c[..hello_len])));
            seeds.push((
                format!("hello-bytewise-{p}{s}"),
                with_control(0, &c[..hello_len + 40]),
            ));
            seeds.push((
                format!("truncated-{p}{s}"),
                with_control(7, &c[..hello_len - 5]),
            ));
        }
    }
    seeds.push(("alert".into(), vec![0, 0x15, 0, 1, 40]));
    seeds.push(("empty-hello".into(), vec![0, 0x01, 0, 0]));
    // Resumption (spec 4.11): a resumed client's whole stream, its flight
    // alone, and a flight whose ticket no key opens (the server answers
    // ResumeRefused and waits for a full ClientHello).
    for (p, pattern) in [Pattern::Nk, Pattern::Ik].into_iter().enumerate() {
        let (c, _) = resumed_transcript(pattern);
        let hello_len = 3 + usize::from(u16::from_be_bytes([c[1], c[2]]));
        seeds.push((format!("resumed-{p}"), with_control(255, &c)));
        seeds.push((
            format!("resumed-hello-{p}"),
            with_control(0, &c[..hello_len]),
        ));
        let mut refused = c[..hello_len].to_vec();
        // The ticket's key id sits right after the header's fixed part.
        let key_id_at = 3 + 6 + 2 + 8 + 2 + 2;
        refused[key_id_at] ^= 0xff;
        seeds.push((
            format!("resumed-unknown-key-{p}"),
            with_control(0, &refused),
        ));
    }
    seeds
}

/// A ticket from a full handshake with the targets' fixed configs, then a
/// resumed connection with it: the resumed client's and server's bytes.
fn resumed_transcript(pattern: Pattern) -> (Vec<u8>, Vec<u8>) {
    let server_cfg = peers::server_config(b"fuzz");
    let client_cfg = peers::client_config(pattern, &AES_FIRST, b"fuzz");
    let mut client = Connection::client(client_cfg.clone(), NOW).unwrap();
    let mut server = Connection::server(server_cfg.clone(), NOW).unwrap();
    peers::handshake(&mut client, &mut server);
    peers::shuttle(&mut server, &mut client).unwrap();
    let ticket = std::iter::from_fn(|| client.poll_event())
        .find_map(|e| match e {
            lwsec::Event::ResumptionTicket(t) => Some(t),
            _ => None,
        })
        .expect("the fuzz servers issue tickets");
    let mut client = Connection::resume(client_cfg, ticket, NOW).unwrap();
    let mut server = Connection::server(server_cfg, NOW).unwrap();
    let streams = handshake_and_streams(&mut client, &mut server);
    assert!(client.is_resumed() && server.is_resumed());
    streams
}

fn client_response() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for (p, pattern) in [Pattern::Nk, Pattern::Ik].into_iter().enumerate() {
        for (s, suites) in [AES_FIRST, CHACHA_FIRST].iter().enumerate() {
            let control = (p as u8) | ((s as u8) << 1);
            let (_, srv) = transcript(pattern, suites, &Suite::ALL);
            let hello_len = 3 + usize::from(u16::from_be_bytes([srv[1], srv[2]]));
            seeds.push((format!("full-{p}{s}"), with_control(control | 0xfc, &srv)));
            seeds.push((
                format!("hello-{p}{s}"),
                with_control(control, &srv[..hello_len]),
            ));
            // A server that only accepts the client's second suite sends a Retry first.
            let only = [suites[1]];
            let (_, retry) = transcript(pattern, suites, &only);
            seeds.push((
                format!("retry-{p}{s}"),
                with_control(control | 0x40, &retry[..3000]),
            ));
        }
    }
    seeds.push(("alert".into(), vec![0, 0x15, 0, 1, 90]));
    seeds.push(("retry-body".into(), vec![0, 0x03, 0, 4, 2, 2, 7, 7]));
    seeds
}

fn established_records() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for suite_bit in [0u8, 1] {
        for side_bit in [0u8, 2] {
            for (k, padding) in [
                Padding::None,
                Padding::MultipleOf(64),
                Padding::Buckets(vec![32, 256, 4096]),
            ]
            .into_iter()
            .enumerate()
            {
                let (client, server) =
                    peers::split_pair(peers::suite_from(suite_bit == 1), padding);
                // Side bit 0: the server receives the client's stream.
                let mut sender = if side_bit == 0 { client } else { server };
                let mut stream = honest::honest_stream(&mut sender);
                sender.close().unwrap();
                stream.extend_from_slice(sender.pending_output());
                let control = suite_bit | side_bit | ((k as u8) << 2);
                if k == 0 {
                    seeds.push((
                        format!("stream-{suite_bit}{side_bit}"),
                        with_control(control, &stream),
                    ));
                }
                seeds.push((
                    format!("first-records-{suite_bit}{side_bit}{k}"),
                    with_control(control, &stream[..1500]),
                ));
            }
        }
    }
    seeds.push(("huge-length".into(), vec![0, 0x17, 0xff, 0xff]));
    seeds.push(("max-record-header".into(), vec![0, 0x17, 0x40, 0x11]));
    seeds
}

fn message_reassembly() -> Vec<Seed> {
    (0..16)
        .map(|i| (format!("random-{i:02}"), noise_bytes(i, 16 + i * 24)))
        .collect()
}

fn wire_parsers() -> Vec<Seed> {
    let key = peers::server_key();
    let mut seeds = vec![
        (
            "public-key".to_string(),
            with_control(0, key.public_key().to_text().as_bytes()),
        ),
        (
            "secret-key".to_string(),
            with_control(0, key.to_text().as_bytes()),
        ),
        (
            "key-comment".to_string(),
            with_control(
                0,
                format!("# key\n{}\n", key.public_key().to_text()).as_bytes(),
            ),
        ),
        (
            "frames".to_string(),
            vec![2, 0x17, 3, 1, 2, 3, 0x15, 1, 0, 0x01, 2, b'l', b'w'],
        ),
        ("ext-empty".to_string(), vec![3]),
        (
            "ext-two".to_string(),
            vec![3, 0, 1, 0, 2, 7, 7, 0x12, 0x35, 0, 0],
        ),
        ("ext-critical".to_string(), vec![3, 0x80, 1, 0, 0]),
        ("ext-unordered".to_string(), vec![3, 0, 5, 0, 0, 0, 5, 0, 0]),
        ("retry".to_string(), vec![4, 3, 2, 2, 1, 9]),
    ];
    let (c, _) = transcript(Pattern::Ik, &AES_FIRST, &Suite::ALL);
    let hello_len = 3 + usize::from(u16::from_be_bytes([c[1], c[2]]));
    seeds.push((
        "client-hello-body".to_string(),
        with_control(1, &c[3..hello_len]),
    ));
    seeds
}

fn honest_peers() -> Vec<Seed> {
    (0..24)
        .map(|i| (format!("random-{i:02}"), noise_bytes(1000 + i, 32 + i * 40)))
        .collect()
}

/// One `diff_snow_handshake` input; the layout and the flag bits are
/// documented on `Case` in `fuzz/targets/diff_snow_handshake.rs`.
#[derive(Default)]
pub struct HandshakeSeed {
    /// `flags_a`.
    pub a: u8,
    /// `flags_b`.
    pub b: u8,
    /// Index of the low-order point.
    pub point: u8,
    /// The client's clock minus the server's (ms).
    pub offset: i16,
    /// Selects the five keys.
    pub keys: usize,
    /// Early data (needs bit 5 of `a`).
    pub early: Option<Vec<u8>>,
    /// The custom payload (needs bit 4 of `b`).
    pub custom: Option<Vec<u8>>,
    /// Edits `[op, pos_hi, pos_lo, value]`.
    pub edits: Vec<[u8; 4]>,
}

impl HandshakeSeed {
    /// The input bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = vec![self.a, self.b, self.point];
        v.extend_from_slice(&self.offset.to_be_bytes());
        v.extend(noise_bytes(500 + self.keys, 160));
        for part in [&self.early, &self.custom].into_iter().flatten() {
            v.extend_from_slice(&u16::try_from(part.len()).unwrap().to_be_bytes());
            v.extend_from_slice(part);
        }
        v.extend(self.edits.iter().flatten());
        v
    }
}

/// `flags_a` bits of `diff_snow_handshake`.
pub mod hs {
    /// IK (else NK).
    pub const IK: u8 = 0x01;
    /// Client suites: AES only (0), ChaCha only, AES then ChaCha, ChaCha then AES.
    pub const CLIENT_CHACHA: u8 = 1 << 1;
    /// See [`CLIENT_CHACHA`].
    pub const CLIENT_AES_CHACHA: u8 = 2 << 1;
    /// See [`CLIENT_CHACHA`].
    pub const CLIENT_CHACHA_AES: u8 = 3 << 1;
    /// Server suites: both (0), AES only, ChaCha only.
    pub const SERVER_AES: u8 = 1 << 3;
    /// See [`SERVER_AES`].
    pub const SERVER_CHACHA: u8 = 2 << 3;
    /// The client sends early data.
    pub const EARLY: u8 = 0x20;
    /// The server accepts early data.
    pub const SERVER_EARLY: u8 = 0x40;
    /// The server demands a cookie.
    pub const COOKIE: u8 = 0x80;
    /// `flags_b`: edit message 1 or 2.
    pub const EDIT_M1: u8 = 1;
    /// See [`EDIT_M1`].
    pub const EDIT_M2: u8 = 2;
    /// `flags_b`: the snow key replaced by a low-order point.
    pub const LOW_CLIENT_E: u8 = 1 << 2;
    /// See [`LOW_CLIENT_E`].
    pub const LOW_CLIENT_S: u8 = 2 << 2;
    /// See [`LOW_CLIENT_E`].
    pub const LOW_SERVER_E: u8 = 3 << 2;
    /// `flags_b`: snow writes the edited message with the custom payload.
    pub const CUSTOM: u8 = 0x10;
    /// `flags_b`: a custom message 1 has the early_data flag in its header.
    pub const CUSTOM_EARLY_FLAG: u8 = 0x20;
}

/// Named `diff_snow_handshake` seeds, also used by the test that checks
/// what the target does with them.
pub fn diff_snow_handshake_cases() -> Vec<(&'static str, HandshakeSeed)> {
    use hs::*;
    let seed = |a, b| HandshakeSeed {
        a,
        b,
        ..HandshakeSeed::default()
    };
    vec![
        ("honest-nk-aes", seed(0, 0)),
        ("honest-nk-chacha", seed(CLIENT_CHACHA, 0)),
        ("honest-ik-aes", seed(IK | CLIENT_AES_CHACHA, 0)),
        ("honest-ik-chacha", seed(IK | CLIENT_CHACHA_AES, 0)),
        (
            "retry-suite",
            seed(IK | CLIENT_AES_CHACHA | SERVER_CHACHA, 0),
        ),
        ("no-common-suite", seed(CLIENT_CHACHA | SERVER_AES, 0)),
        (
            "early-accepted",
            HandshakeSeed {
                a: IK | CLIENT_AES_CHACHA | EARLY | SERVER_EARLY,
                offset: -1500,
                early: Some(b"GET /messages?since=1767225590000".to_vec()),
                keys: 4,
                ..HandshakeSeed::default()
            },
        ),
        (
            // A retried ClientHello never carries early data.
            "early-dropped-after-cookie",
            HandshakeSeed {
                a: IK | CLIENT_CHACHA_AES | SERVER_AES | EARLY | SERVER_EARLY | COOKIE,
                offset: 1500,
                early: Some(b"GET /messages?since=1767225590000".to_vec()),
                ..HandshakeSeed::default()
            },
        ),
        (
            "early-too-old",
            HandshakeSeed {
                a: EARLY | SERVER_EARLY,
                offset: -12_000,
                early: Some(vec![0x42; 300]),
                keys: 1,
                ..HandshakeSeed::default()
            },
        ),
        (
            "early-no-guard",
            HandshakeSeed {
                a: IK | EARLY,
                early: Some(Vec::new()),
                keys: 2,
                ..HandshakeSeed::default()
            },
        ),
        (
            "m1-bit-flip",
            HandshakeSeed {
                b: EDIT_M1,
                edits: vec![[0, 0, 40, 3]],
                ..HandshakeSeed::default()
            },
        ),
        (
            "m1-header-suite-count",
            HandshakeSeed {
                b: EDIT_M1,
                edits: vec![[1, 0, 5, 0]],
                ..HandshakeSeed::default()
            },
        ),
        (
            "m1-low-order-e",
            HandshakeSeed {
                a: IK,
                b: EDIT_M1,
                edits: vec![[6, 0, 0, 2]],
                ..HandshakeSeed::default()
            },
        ),
        (
            "m2-bit-flip",
            HandshakeSeed {
                a: IK | CLIENT_CHACHA,
                b: EDIT_M2,
                edits: vec![[0, 0, 40, 0]],
                ..HandshakeSeed::default()
            },
        ),
        (
            // Message 1 too short for its keys and tag: decode_error.
            "m1-too-short",
            HandshakeSeed {
                a: IK,
                b: EDIT_M1,
                edits: vec![[2, 0, 90, 0]],
                ..HandshakeSeed::default()
            },
        ),
        (
            // Early data in a ClientHello that echoes a Retry: refused
            // (spec 4.9), the handshake goes on.
            "custom-m1-early-after-cookie",
            HandshakeSeed {
                a: SERVER_EARLY | COOKIE,
                b: EDIT_M1 | CUSTOM | CUSTOM_EARLY_FLAG,
                custom: Some(early_payload(1_767_225_600_000, b"x")),
                keys: 5,
                ..HandshakeSeed::default()
            },
        ),
        (
            "m2-truncated",
            HandshakeSeed {
                b: EDIT_M2,
                edits: vec![[2, 0, 40, 0]],
                keys: 3,
                ..HandshakeSeed::default()
            },
        ),
        (
            "low-order-client-e",
            HandshakeSeed {
                b: LOW_CLIENT_E,
                point: 2,
                ..HandshakeSeed::default()
            },
        ),
        (
            "low-order-client-s",
            HandshakeSeed {
                a: IK,
                b: LOW_CLIENT_S,
                point: 3,
                ..HandshakeSeed::default()
            },
        ),
        (
            "low-order-server-e",
            HandshakeSeed {
                a: IK | CLIENT_CHACHA,
                b: LOW_SERVER_E,
                point: 8,
                ..HandshakeSeed::default()
            },
        ),
        (
            "low-order-near-miss",
            HandshakeSeed {
                b: LOW_SERVER_E,
                point: 14,
                ..HandshakeSeed::default()
            },
        ),
        (
            "custom-m1-critical-extension",
            HandshakeSeed {
                b: EDIT_M1 | CUSTOM,
                custom: Some(vec![0x92, 0x34, 0, 1, 7]),
                ..HandshakeSeed::default()
            },
        ),
        (
            // A ServerHello announcing two server keys (spec 4.4).
            "custom-m2-server-keys",
            HandshakeSeed {
                b: EDIT_M2 | CUSTOM,
                custom: Some([&[0, 4, 0, 64][..], &[0x41; 32], &[0x42; 32]].concat()),
                keys: 6,
                ..HandshakeSeed::default()
            },
        ),
        (
            "custom-m2-status-accepted",
            HandshakeSeed {
                a: IK | EARLY,
                b: EDIT_M2 | CUSTOM,
                early: Some(b"e".to_vec()),
                custom: Some(vec![0, 3, 0, 1, 1]),
                ..HandshakeSeed::default()
            },
        ),
    ]
}

/// A message-1 payload with `timestamp` and `early_data` (spec 4.4).
fn early_payload(timestamp: u64, data: &[u8]) -> Vec<u8> {
    let mut p = vec![0x00, 0x01, 0x00, 0x08];
    p.extend_from_slice(&timestamp.to_be_bytes());
    p.extend_from_slice(&[0x00, 0x02]);
    p.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
    p.extend_from_slice(data);
    p
}

fn diff_snow_handshake() -> Vec<Seed> {
    diff_snow_handshake_cases()
        .into_iter()
        .map(|(name, seed)| (name.to_string(), seed.encode()))
        .collect()
}

/// `diff_records` operations (layout in `fuzz/targets/diff_records.rs`).
pub mod rec {
    /// L sends a message: `len (2)`.
    pub const L_SEND: u8 = 0;
    /// L updates its keys: `request (1)`.
    pub const L_UPDATE: u8 = 1;
    /// L pings: `len (1)`.
    pub const L_PING: u8 = 2;
    /// L closes.
    pub const L_CLOSE: u8 = 3;
    /// The peer sends a message: `len (2), pad (1)`.
    pub const R_MESSAGE: u8 = 4;
    /// The peer updates its keys: `request (1)`.
    pub const R_UPDATE: u8 = 5;
    /// The peer pings (`0`) or pongs (`1`): `which (1), len (1)`.
    pub const R_PING: u8 = 6;
    /// The peer sends an alert: `code (1), form (1)` (form 2: well formed).
    pub const R_ALERT: u8 = 8;
    /// The peer sends an arbitrary inner plaintext: `ct (1), len (2), pad (2), fill (1)`.
    pub const R_RAW: u8 = 9;
    /// A peer record is lost: `len (1)`.
    pub const R_DROP: u8 = 10;
    /// The peer's last record again.
    pub const R_REPLAY: u8 = 11;
    /// A bit of a new peer record flipped: `pos (2), bit (1), len (1)`.
    pub const R_TAMPER: u8 = 12;
    /// Deliver what is in flight in chunks of `1 + c * c`: `c (1)`.
    pub const FLUSH: u8 = 13;
    /// The exporter: `label_len (1), context_len (1), len (2)`.
    pub const EXPORT: u8 = 14;
    /// The peer's stream ends.
    pub const EOF: u8 = 15;
}

fn records_seed(flags: u8, pad_param: u16, buckets: &[u16], keys: usize, ops: &[&[u8]]) -> Vec<u8> {
    let mut v = vec![flags];
    v.extend_from_slice(&pad_param.to_be_bytes());
    for b in buckets {
        v.extend_from_slice(&b.to_be_bytes());
    }
    v.extend(noise_bytes(700 + keys, 96));
    for op in ops {
        v.extend_from_slice(op);
    }
    v
}

fn diff_records() -> Vec<Seed> {
    use rec::*;
    // Both directions: messages (one fragmented), key updates, pings,
    // the exporter, then close_notify both ways.
    let conversation: Vec<&[u8]> = vec![
        &[L_SEND, 0, 5],
        &[L_SEND, 0x4e, 0x20],
        &[R_MESSAGE, 0, 100, 7],
        &[R_MESSAGE, 0x42, 0x68, 0],
        &[R_UPDATE, 1],
        &[FLUSH, 3],
        &[L_UPDATE, 1],
        &[L_PING, 8],
        &[R_PING, 0, 10],
        &[R_PING, 1, 4],
        &[EXPORT, 5, 3, 0, 42],
        &[R_ALERT, 0, 2],
        &[FLUSH, 255],
        &[L_SEND, 0, 1],
        &[L_CLOSE],
        &[EOF],
    ];
    let mut seeds = Vec::new();
    for (i, (flags, pad_param, buckets)) in [
        (0x00, 0, &[][..]),
        (0x03, 0, &[]),
        (0x05, 63, &[]),
        (0x0a, 2, &[32, 256, 4096]),
        (0x81, 0, &[]),
    ]
    .into_iter()
    .enumerate()
    {
        seeds.push((
            format!("conversation-{i}"),
            records_seed(flags, pad_param, buckets, i, &conversation),
        ));
    }
    // Automatic key update after 2 records, both ways.
    seeds.push((
        "auto-key-update".into(),
        records_seed(
            0x20,
            0,
            &[],
            9,
            &[
                &[L_SEND, 0, 1],
                &[L_SEND, 0, 2],
                &[L_SEND, 0, 3],
                &[R_MESSAGE, 0, 9, 0],
                &[R_PING, 0, 1],
                &[R_PING, 0, 2],
                &[FLUSH, 0],
            ],
        ),
    ));
    // Key update requests are coalesced: after L sent a record, a run of
    // two requests is answered once (spec 8).
    seeds.push((
        "coalesced-key-updates".into(),
        records_seed(
            0x80,
            0,
            &[],
            11,
            &[
                &[L_SEND, 0, 1],
                &[R_UPDATE, 1],
                &[R_UPDATE, 1],
                &[R_MESSAGE, 0, 2, 0],
                &[EOF],
            ],
        ),
    ));
    // A server L and the key confirmation (spec 4.10): pad_param bit 15
    // keeps the peer from sending it first.
    let no_confirm = 0x8000;
    for (name, pad_param, ops) in [
        (
            "confirm-missing",
            no_confirm,
            vec![&[R_MESSAGE, 0, 3, 0][..]],
        ),
        (
            "confirm-with-payload",
            no_confirm,
            vec![&[R_RAW, 7, 0, 2, 0, 0, 1][..]],
        ),
        ("confirm-twice", 0, vec![&[R_RAW, 7, 0, 0, 0, 3, 1][..]]),
        (
            "confirm-late",
            no_confirm,
            vec![
                &[L_SEND, 0, 9][..],
                &[R_RAW, 7, 0, 0, 0, 5, 1],
                &[R_MESSAGE, 0, 4, 0],
                &[EOF],
            ],
        ),
    ] {
        seeds.push((name.into(), records_seed(0x82, pad_param, &[], 30, &ops)));
    }
    let failing: [(&str, Vec<&[u8]>); 7] = [
        (
            "tamper",
            vec![&[R_MESSAGE, 0, 3, 0], &[R_TAMPER, 0, 9, 4, 20]],
        ),
        ("replay", vec![&[R_MESSAGE, 0, 3, 0], &[R_REPLAY]]),
        ("drop", vec![&[R_DROP, 4], &[R_MESSAGE, 0, 3, 0]]),
        ("raw-unknown-type", vec![&[R_RAW, 9, 0, 4, 0, 3, 1]]),
        ("raw-all-zero", vec![&[R_RAW, 0, 0, 4, 0, 3, 0]]),
        ("raw-overflow", vec![&[R_RAW, 1, 0x40, 0x10, 0, 40, 1]]),
        (
            "close-inside-message",
            vec![&[R_RAW, 2, 0, 10, 0, 0, 1], &[R_ALERT, 0, 2]],
        ),
    ];
    for (i, (name, ops)) in failing.into_iter().enumerate() {
        seeds.push((name.to_string(), records_seed(0x80, 0, &[], 20 + i, &ops)));
    }
    seeds
}

/// `c_api` operations (layout on `World::step` in `fuzz/targets/c_api.rs`).
#[cfg(feature = "ffi")]
mod capi {
    /// Everything in flight both ways, decisions answered: `i, j, decide`.
    pub fn round_trip(i: u8, j: u8, decide: u8) -> Vec<u8> {
        vec![23, i, j, decide]
    }
    /// Send a message of `len` bytes.
    pub fn send(i: u8, len: u16) -> Vec<u8> {
        let [hi, lo] = len.to_be_bytes();
        vec![7, i, hi, lo, 0, 0]
    }
    /// Receive with a buffer chosen by `sel` (`choose_len`).
    pub fn recv(i: u8, sel: u8) -> Vec<u8> {
        vec![8, i, sel, 0]
    }
    /// A buffer getter: `which` (0 early data, 1 announced keys, 2
    /// identity, 3 peer key, 4 hash, 5 output, 6 last error, 7 take the
    /// resumption ticket, 8 the ticket's identity at the decision point).
    pub fn get(i: u8, which: u8, sel: u8) -> Vec<u8> {
        vec![10, i, which, sel, 0, 0]
    }
    /// A scalar getter: `which` (0 peer alert, 1 suite, 2 pattern, 3
    /// timeout, 4 state, 5 resumed).
    pub fn scalar(i: u8, which: u8) -> Vec<u8> {
        vec![11, i, 0, which]
    }
}

#[cfg(feature = "ffi")]
fn c_api() -> Vec<Seed> {
    use capi::*;
    let seed = |setup: u8, ops: Vec<Vec<u8>>| {
        let mut v = vec![setup];
        v.extend(ops.into_iter().flatten());
        v
    };
    // Resumption through the C API: a full IK handshake, the ticket taken
    // (once exactly, once after a short buffer), set on the client
    // configuration, a new client and server, a resumed handshake.
    let mut resumption = Vec::new();
    for sel in [2u8, 1] {
        resumption.push((
            format!("resumption-{sel}"),
            seed(
                0x21,
                vec![
                    round_trip(0, 1, 0),
                    round_trip(0, 1, 0),
                    vec![4, 0, 0x80],
                    get(0, 7, sel),
                    vec![21, 0, 0, 0, 0, 13],
                    vec![20, 0, 0],
                    vec![20, 1, 0],
                    round_trip(2, 3, 0),
                    round_trip(2, 3, 0),
                    scalar(2, 5),
                    scalar(3, 5),
                    send(2, 40),
                    round_trip(2, 3, 0),
                    recv(3, 2),
                ],
            ),
        ));
    }
    let conversation = |setup: u8| {
        seed(
            setup,
            vec![
                round_trip(0, 1, 0x02),
                vec![4, 0, 0x80],
                send(0, 300),
                send(1, 5),
                send(0, 20_000),
                round_trip(0, 1, 0),
                recv(1, 2),
                recv(1, 1),
                recv(1, 4),
                recv(0, 0),
                get(1, 2, 2),
                get(1, 3, 2),
                get(0, 3, 1),
                get(0, 4, 2),
                get(0, 1, 2),
                vec![12, 0, 1],
                vec![13, 1, 8, 0],
                vec![14, 0, 2, 2, 2, 0],
                vec![14, 1, 0, 1, 4, 0],
                round_trip(0, 1, 0),
                scalar(0, 1),
                scalar(1, 2),
                scalar(1, 4),
                vec![9, 1, 1, 0],
                vec![15, 0],
                send(0, 1),
                round_trip(0, 1, 0),
                vec![16, 1],
                vec![16, 0],
                send(1, 1),
                get(1, 6, 2),
                vec![18, 0],
                vec![19, 0],
            ],
        )
    };
    let mut seeds = vec![
        ("conversation-nk".to_string(), conversation(0)),
        ("conversation-ik-announced".to_string(), conversation(1 | 4)),
        (
            "conversation-retry-cookie".to_string(),
            conversation(8 | 16),
        ),
        (
            "conversation-early-enabled".to_string(),
            conversation(1 | 2),
        ),
    ];
    // The server decides by hand: reads the ClientHello, rejects with an
    // unknown reason, then with NotAuthorized; the client sees the alert.
    seeds.push((
        "reject".into(),
        seed(
            1,
            vec![
                vec![1, 0, 1, 0, 2],
                vec![2, 1, 0, 0x80],
                vec![6, 1, 0],
                scalar(1, 4),
                vec![5, 1, 7, 2, 0],
                vec![5, 1, 3, 2, 0],
                round_trip(1, 0, 0),
                scalar(0, 0),
                get(0, 6, 2),
                send(1, 3),
                vec![5, 1, 0, 2, 0],
            ],
        ),
    ));
    // Calls during the handshake and after closing it.
    seeds.push((
        "close-in-handshake".into(),
        seed(
            0,
            vec![
                send(0, 3),
                vec![12, 0, 0],
                vec![15, 0],
                send(0, 3),
                vec![1, 0, 1, 1, 2],
                vec![2, 1, 3, 0x80],
                vec![15, 1],
                vec![2, 1, 0, 0],
                get(1, 5, 2),
                vec![16, 1],
            ],
        ),
    ));
    // Arbitrary bytes to both sides, and NULL pointers.
    let mut garbage = vec![0u8, 0, 1, 0, 40];
    garbage.extend_from_slice(&noise_bytes(77, 40));
    garbage.extend_from_slice(&[3, 0]);
    garbage.extend_from_slice(&[0, 0, 0, 8, 0x15, 0, 1, 40, 0x17, 0, 1, 0, 1, 15]);
    garbage.extend_from_slice(&[10, 0, 5, 2, 15, 0]);
    garbage.extend_from_slice(&[11, 1, 15, 4]);
    garbage.extend_from_slice(&[16, 0]);
    seeds.push(("garbage".into(), garbage));
    // Configuration setters and key functions.
    let key = peers::server_key();
    let text = key.public_key().to_text();
    let mut keys = vec![0u8];
    keys.extend_from_slice(&[21, 2, 2, 1, 0, 0, 0, 3]);
    keys.extend_from_slice(&[21, 1, 2, 0, 0, 0, 4]);
    keys.extend_from_slice(&[21, 64, 0]);
    keys.extend(std::iter::repeat_n(0x42, 64).take(39));
    keys.extend_from_slice(&[0, 0, 0, 8]);
    keys.extend_from_slice(&[21, 0, 0, 0, 5, 11]);
    keys.extend_from_slice(&[21, 0, 0, 0, 9, 9]);
    keys.extend_from_slice(&[22, text.len() as u8]);
    keys.extend_from_slice(text.as_bytes());
    keys.extend_from_slice(&[1, 2, 0]);
    keys.extend_from_slice(&[22, 0, 3, 2, 0]);
    keys.extend_from_slice(&[22, 0, 4, 1, 0]);
    keys.extend_from_slice(&[20, 1, 2]);
    keys.extend_from_slice(&round_trip(0, 2, 0));
    seeds.push(("config-and-keys".into(), keys));
    seeds.extend(resumption);
    seeds
}

//! Checks lwsec against its own known-answer vectors in `test-vectors/`
//! (format: `spec/VECTORS.md`; generator: `cargo run --example gen_vectors`).
//!
//! Two kinds of check:
//!
//! * **replay**: each committed vector's inputs (keys, ephemeral keys fed
//!   through a replaying RNG, commands, tampered bytes) are run through
//!   `lwsec::Connection`, and every output must equal the committed bytes;
//! * **independent**: the committed bytes are checked without lwsec's
//!   handshake or record code: the Noise messages (and the early-data
//!   extension payloads inside them, and the resumed `NNpsk0` handshakes)
//!   with `snow`, the key schedule (the resumption secret included) with
//!   `hkdf`, Retry cookies with `hmac`, the records with the `aes-gcm` and
//!   `chacha20poly1305` crates and the padding rules of the spec,
//!   resumption tickets opened and sealed again with `aes-gcm` under the
//!   key the spec derives.
//!
//! A last test regenerates every file in memory and requires it to be
//! byte-identical to the committed one.

use hkdf::Hkdf;
use lwsec_test_support::vectors::encoding::{hx, unhex};
use lwsec_test_support::vectors::frames::{client_hello_header_len, split_frames};
use lwsec_test_support::vectors::model::{
    EarlyDataVector, HandshakeVector, IssuedTicket, PaddingSpec, RecordStream, ResumptionVector,
    RetryVector, TicketedHandshake, TrafficKeys, VectorFiles,
};
use lwsec_test_support::vectors::record_aead::open_record;
use lwsec_test_support::vectors::{self, FILES};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The time every vector is generated at (spec/VECTORS.md section 7).
const VECTOR_TIME_MS: u64 = 1_767_225_600_000;

fn vector_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors")
}

fn committed_contents() -> [String; 6] {
    FILES.map(|name| {
        std::fs::read_to_string(vector_dir().join(name)).unwrap_or_else(|e| {
            panic!("cannot read test-vectors/{name} ({e}): run `cargo run --example gen_vectors`")
        })
    })
}

fn committed() -> VectorFiles {
    VectorFiles::parse(&committed_contents())
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        format!("{}... ({} chars)", &s[..120], s.len())
    } else {
        s
    }
}

/// The first place where two JSON values differ, as `path: got X, want Y`.
fn first_difference(path: &str, got: &Value, want: &Value) -> Option<String> {
    match (got, want) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, w) in b {
                let g = a.get(key).unwrap_or(&Value::Null);
                if let Some(d) = first_difference(&format!("{path}.{key}"), g, w) {
                    return Some(d);
                }
            }
            a.keys()
                .find(|k| !b.contains_key(*k))
                .map(|k| format!("{path}.{k}: unexpected field"))
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (g, w)) in a.iter().zip(b).enumerate() {
                if let Some(d) = first_difference(&format!("{path}[{i}]"), g, w) {
                    return Some(d);
                }
            }
            (a.len() != b.len()).then(|| format!("{path}: {} entries, want {}", a.len(), b.len()))
        }
        (Value::String(a), Value::String(b)) if a != b => {
            let at = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
            let window = |s: &str| {
                s.chars()
                    .skip(at.saturating_sub(8))
                    .take(40)
                    .collect::<String>()
            };
            Some(format!(
                "{path}: first difference at character {at} (got {} chars, want {}): got ...{}..., want ...{}...",
                a.len(),
                b.len(),
                window(a),
                window(b)
            ))
        }
        _ => (got != want).then(|| format!("{path}: got {}, want {}", short(got), short(want))),
    }
}

/// Requires `got` (recomputed by lwsec) to equal `want` (committed).
fn require_same<T: Serialize>(what: &str, got: &T, want: &T) {
    let got = serde_json::to_value(got).unwrap();
    let want = serde_json::to_value(want).unwrap();
    if let Some(d) = first_difference(what, &got, &want) {
        panic!("lwsec disagrees with the committed vector at {d}");
    }
}

// ----- independent key schedule (spec/PROTOCOL.md section 5) -----

fn expand_label(secret: &[u8], label: &str, context: &[u8], len: usize) -> Vec<u8> {
    let full = format!("lwsec {label}");
    let mut info = u16::try_from(len).unwrap().to_be_bytes().to_vec();
    info.push(u8::try_from(full.len()).unwrap());
    info.extend_from_slice(full.as_bytes());
    info.push(u8::try_from(context.len()).unwrap());
    info.extend_from_slice(context);
    let mut out = vec![0u8; len];
    Hkdf::<Sha256>::from_prk(secret)
        .unwrap()
        .expand(&info, &mut out)
        .unwrap();
    out
}

fn keys_of(secret: &[u8]) -> TrafficKeys {
    TrafficKeys {
        secret: hx(secret),
        key: hx(&expand_label(secret, "key", &[], 32)),
        iv: hx(&expand_label(secret, "iv", &[], 12)),
    }
}

/// `(c2s, s2c, exporter_secret)` from `Split()` output and the handshake hash.
fn schedule(k1: &[u8], k2: &[u8], h: &[u8]) -> (TrafficKeys, TrafficKeys, Vec<u8>) {
    let ikm = [k1, k2].concat();
    let (master, _) = Hkdf::<Sha256>::extract(Some(h), &ikm);
    (
        keys_of(&expand_label(&master, "c2s traffic", &[], 32)),
        keys_of(&expand_label(&master, "s2c traffic", &[], 32)),
        expand_label(&master, "exporter", &[], 32),
    )
}

fn x25519_public(private: &str) -> String {
    let secret = x25519_dalek::StaticSecret::from(<[u8; 32]>::try_from(unhex(private)).unwrap());
    hx(x25519_dalek::PublicKey::from(&secret).as_bytes())
}

fn key_id(public: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"lwsec key id")
        .chain_update(unhex(public))
        .finalize();
    hx(&digest[..8])
}

/// A `snow` initiator and responder with the given keys and prologue.
fn snow_states(
    protocol: &str,
    prologue: &[u8],
    server_static: &str,
    client_static: Option<&str>,
    client_ephemeral: &str,
    server_ephemeral: &str,
) -> (snow::HandshakeState, snow::HandshakeState) {
    let params: snow::params::NoiseParams = protocol.parse().unwrap();
    let server_public = unhex(&x25519_public(server_static));
    let client_eph = unhex(client_ephemeral);
    let client_priv = client_static.map(unhex);
    let mut builder = snow::Builder::new(params.clone())
        .prologue(prologue)
        .unwrap()
        .remote_public_key(&server_public)
        .unwrap()
        .fixed_ephemeral_key_for_testing_only(&client_eph);
    if let Some(key) = &client_priv {
        builder = builder.local_private_key(key).unwrap();
    }
    let initiator = builder.build_initiator().unwrap();
    let server_priv = unhex(server_static);
    let server_eph = unhex(server_ephemeral);
    let responder = snow::Builder::new(params)
        .prologue(prologue)
        .unwrap()
        .local_private_key(&server_priv)
        .unwrap()
        .fixed_ephemeral_key_for_testing_only(&server_eph)
        .build_responder()
        .unwrap();
    (initiator, responder)
}

/// The Noise payloads of a handshake: empty unless early data is sent.
#[derive(Clone, Copy)]
struct Payloads<'a> {
    message_1: &'a [u8],
    message_2: &'a [u8],
}

const EMPTY_PAYLOADS: Payloads<'static> = Payloads {
    message_1: &[],
    message_2: &[],
};

/// Runs the Noise handshake of a ClientHello / ServerHello pair with `snow`,
/// both sides writing `payloads` and each reading the other's, and returns
/// `(k1, k2, h)`.
#[allow(clippy::too_many_arguments)]
fn snow_handshake(
    protocol: &str,
    prologue: &[u8],
    server_static: &str,
    client_static: Option<&str>,
    client_ephemeral: &str,
    server_ephemeral: &str,
    message_1: &[u8],
    message_2: &[u8],
    payloads: Payloads<'_>,
) -> ([u8; 32], [u8; 32], Vec<u8>) {
    let (mut initiator, mut responder) = snow_states(
        protocol,
        prologue,
        server_static,
        client_static,
        client_ephemeral,
        server_ephemeral,
    );

    let (mut buf, mut payload) = (vec![0u8; 65535], vec![0u8; 65535]);
    let n = initiator
        .write_message(payloads.message_1, &mut buf)
        .unwrap();
    assert_eq!(
        hx(&buf[..n]),
        hx(message_1),
        "Noise message 1 differs from snow's"
    );
    let n = responder.read_message(message_1, &mut payload).unwrap();
    assert_eq!(
        hx(&payload[..n]),
        hx(payloads.message_1),
        "payload of message 1 as snow decrypts it"
    );
    let n = responder
        .write_message(payloads.message_2, &mut buf)
        .unwrap();
    assert_eq!(
        hx(&buf[..n]),
        hx(message_2),
        "Noise message 2 differs from snow's"
    );
    let n = initiator.read_message(message_2, &mut payload).unwrap();
    assert_eq!(
        hx(&payload[..n]),
        hx(payloads.message_2),
        "payload of message 2 as snow decrypts it"
    );
    let h = initiator.get_handshake_hash().to_vec();
    assert_eq!(h, responder.get_handshake_hash());
    let (k1, k2) = initiator.dangerously_get_raw_split();
    (k1, k2, h)
}

/// Checks a ClientHello header field by field and returns its length.
fn check_client_hello_header(
    client_hello: &[u8],
    pattern: &str,
    suite: u8,
    suites: &[u8],
    key_id: &str,
    flags: u8,
    retry: &[u8],
) -> usize {
    assert_eq!(client_hello[0], 0x01, "frame type");
    assert_eq!(
        usize::from(u16::from_be_bytes([client_hello[1], client_hello[2]])),
        client_hello.len() - 3,
        "frame length"
    );
    let body = &client_hello[3..];
    let mut expected = b"lw".to_vec();
    expected.push(1);
    expected.push(if pattern == "NK" { 1 } else { 2 });
    expected.push(suite);
    expected.push(u8::try_from(suites.len()).unwrap());
    expected.extend_from_slice(suites);
    expected.extend(unhex(key_id));
    expected.push(flags);
    expected.push(u8::try_from(retry.len()).unwrap());
    expected.extend_from_slice(retry);
    let len = client_hello_header_len(body);
    assert_eq!(hx(&body[..len]), hx(&expected), "ClientHello header");
    len
}

fn suite_code(name: &str) -> u8 {
    match name {
        "AES-256-GCM" => 1,
        "ChaCha20-Poly1305" => 2,
        other => panic!("unknown suite {other}"),
    }
}

/// The client's key confirmation (spec 4.10): its first record under the
/// client-to-server keys, sequence number 0, content type `confirm` (0x07),
/// empty payload, no padding.
fn check_confirm(suite: &str, c2s: &TrafficKeys, confirm: &str, what: &str) {
    let suite = lwsec::Suite::from_u8(suite_code(suite)).unwrap();
    let record = unhex(confirm);
    assert_eq!(&record[..3], &[0x17, 0x00, 0x11], "{what}: frame header");
    let (content_type, payload, padding) = open_record(suite, c2s, 0, &record);
    assert_eq!((content_type, payload, padding), (7, vec![], 0), "{what}");
}

fn check_handshake_independently(v: &HandshakeVector) {
    let ctx = |what: &str| format!("handshake.json {}: {what}", v.name);
    assert_eq!(
        v.parties.server_static_public,
        x25519_public(&v.parties.server_static_private)
    );
    assert_eq!(
        v.client_ephemeral_public,
        x25519_public(&v.client_ephemeral_private)
    );
    assert_eq!(
        v.server_ephemeral_public,
        x25519_public(&v.server_ephemeral_private)
    );
    assert_eq!(
        v.parties.client_static_public,
        v.parties
            .client_static_private
            .as_deref()
            .map(x25519_public)
    );
    assert_eq!(
        v.parties.server_key_id,
        key_id(&v.parties.server_static_public),
        "{}",
        ctx("key id")
    );

    let ch = unhex(&v.client_hello);
    let suite = suite_code(&v.suite);
    let header_len = check_client_hello_header(
        &ch,
        &v.pattern,
        suite,
        &v.parties.client_suites,
        &v.parties.server_key_id,
        0,
        &[],
    );
    let mut prologue = b"lwsec/1 prologue".to_vec();
    prologue.extend_from_slice(&ch[3..3 + header_len]);
    assert_eq!(v.prologue, hx(&prologue), "{}", ctx("prologue"));
    let message_1 = &ch[3 + header_len..];
    let expected_len = if v.pattern == "NK" { 48 } else { 96 };
    assert_eq!(
        message_1.len(),
        expected_len,
        "{}",
        ctx("Noise message 1 length")
    );
    assert_eq!(hx(&message_1[..32]), v.client_ephemeral_public);
    let sh = unhex(&v.server_hello);
    // The ServerHello payload: empty, or the server_keys extension built
    // here from the spec (section 4.4).
    let mut payload_2 = Vec::new();
    if let Some(keys) = &v.announced_server_keys {
        assert!((1..=8).contains(&keys.len()), "{}", ctx("announced keys"));
        payload_2.extend_from_slice(&[0x00, 0x04]);
        payload_2.extend_from_slice(&u16::try_from(32 * keys.len()).unwrap().to_be_bytes());
        keys.iter().for_each(|k| payload_2.extend(unhex(k)));
    }
    let body_len = u16::try_from(48 + payload_2.len()).unwrap().to_be_bytes();
    assert_eq!(
        &sh[..3],
        &[0x02, body_len[0], body_len[1]],
        "{}",
        ctx("ServerHello frame header")
    );
    assert_eq!(hx(&sh[3..35]), v.server_ephemeral_public);

    let (k1, k2, h) = snow_handshake(
        &v.noise_protocol,
        &prologue,
        &v.parties.server_static_private,
        v.parties.client_static_private.as_deref(),
        &v.client_ephemeral_private,
        &v.server_ephemeral_private,
        message_1,
        &sh[3..],
        Payloads {
            message_1: &[],
            message_2: &payload_2,
        },
    );
    assert_eq!(v.handshake_hash, hx(&h), "{}", ctx("handshake hash"));
    let (c2s, s2c, exporter_secret) = schedule(&k1, &k2, &h);
    assert_eq!(v.client_to_server, c2s, "{}", ctx("client_to_server"));
    check_confirm(&v.suite, &c2s, &v.client_confirm, &ctx("client_confirm"));
    assert_eq!(v.server_to_client, s2c, "{}", ctx("server_to_client"));
    let context_hash = Sha256::digest(unhex(&v.exporter.context));
    let label = String::from_utf8(unhex(&v.exporter.label)).unwrap();
    let exported = expand_label(&exporter_secret, &label, &context_hash, v.exporter.length);
    assert_eq!(v.exporter.output, hx(&exported), "{}", ctx("exporter"));
}

// ----- handshakes -----

#[test]
fn handshake_vectors_replay_byte_for_byte() {
    let files = committed();
    assert_eq!(files.handshake.vectors.len(), 5);
    for v in &files.handshake.vectors {
        let got = vectors::compute_handshake(v);
        require_same(&format!("handshake.json {}", v.name), &got, v);
    }
}

#[test]
fn handshake_vectors_agree_with_snow_and_the_spec_key_schedule() {
    for v in &committed().handshake.vectors {
        check_handshake_independently(v);
    }
}

// ----- retry -----

#[test]
fn retry_vectors_replay_byte_for_byte() {
    let files = committed();
    assert_eq!(files.retry.vectors.len(), 5);
    for v in &files.retry.vectors {
        let got = vectors::compute_retry(v);
        require_same(&format!("retry.json {}", v.name), &got, v);
    }
}

/// Checks a Retry frame: the selected suite and, in a cookie flow, the
/// cookie `timestamp || HMAC-SHA-256(secret, "lwsec cookie v1" || timestamp
/// || address)[0..16]` recomputed with the `hmac` crate.
fn check_retry_frame(v: &RetryVector, retry: &[u8]) {
    use hmac::{Hmac, Mac};
    assert_eq!(retry[0], 0x03, "{}: Retry frame type", v.name);
    assert_eq!(
        usize::from(u16::from_be_bytes([retry[1], retry[2]])),
        retry.len() - 3
    );
    assert_eq!(retry[3], suite_code(&v.suite), "{}: Retry suite", v.name);
    let cookie = &retry[5..];
    assert_eq!(
        usize::from(retry[4]),
        cookie.len(),
        "{}: cookie_len",
        v.name
    );
    if !v.demand_cookie {
        assert!(cookie.is_empty(), "{}: unexpected cookie", v.name);
        assert_eq!((&v.peer_address, &v.cookie_secret), (&None, &None));
        return;
    }
    assert_eq!(cookie.len(), 24, "{}: cookie length", v.name);
    let (timestamp, tag) = cookie.split_at(8);
    assert_eq!(
        timestamp,
        VECTOR_TIME_MS.to_be_bytes(),
        "{}: cookie timestamp",
        v.name
    );
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&unhex(v.cookie_secret.as_ref().unwrap())).unwrap();
    mac.update(b"lwsec cookie v1");
    mac.update(timestamp);
    mac.update(&unhex(v.peer_address.as_ref().unwrap()));
    let full = mac.finalize().into_bytes();
    assert_eq!(hx(tag), hx(&full[..16]), "{}: cookie MAC", v.name);
}

#[test]
fn retry_vectors_agree_with_snow_and_the_spec() {
    let files = committed();
    for v in &files.retry.vectors {
        let ch1 = unhex(&v.client_hello_1);
        check_client_hello_header(
            &ch1,
            &v.pattern,
            v.parties.client_suites[0],
            &v.parties.client_suites,
            &v.parties.server_key_id,
            0,
            &[],
        );
        let retry = unhex(&v.retry);
        check_retry_frame(v, &retry);
        let ch2 = unhex(&v.client_hello_2);
        let header_len = check_client_hello_header(
            &ch2,
            &v.pattern,
            suite_code(&v.suite),
            &v.parties.client_suites,
            &v.parties.server_key_id,
            0,
            &retry[3..],
        );
        let mut prologue = b"lwsec/1 prologue".to_vec();
        prologue.extend_from_slice(&ch2[3..3 + header_len]);
        assert_eq!(v.prologue_2, hx(&prologue));
        let protocol = format!(
            "Noise_{}_25519_{}_SHA256",
            v.pattern,
            if v.suite == "AES-256-GCM" {
                "AESGCM"
            } else {
                "ChaChaPoly"
            }
        );
        let (k1, k2, h) = snow_handshake(
            &protocol,
            &prologue,
            &v.parties.server_static_private,
            v.parties.client_static_private.as_deref(),
            &v.client_ephemeral_private_2,
            &v.server_ephemeral_private,
            &ch2[3 + header_len..],
            &unhex(&v.server_hello)[3..],
            EMPTY_PAYLOADS,
        );
        assert_eq!(v.handshake_hash, hx(&h));
        let (c2s, s2c, _) = schedule(&k1, &k2, &h);
        assert_eq!(v.client_to_server, c2s);
        check_confirm(&v.suite, &c2s, &v.client_confirm, &v.name);
        assert_eq!(v.server_to_client, s2c);
    }
    let names: Vec<_> = files.retry.vectors.iter().map(|v| &v.name[..]).collect();
    for name in [
        "nk-retry-chacha20-poly1305",
        "ik-retry-chacha20-poly1305",
        "nk-cookie-aes-256-gcm",
        "ik-cookie-aes-256-gcm",
        "nk-cookie-retry-chacha20-poly1305",
    ] {
        assert!(names.contains(&name), "retry.json has no {name}");
    }
}

// ----- early data -----

#[test]
fn early_data_vectors_replay_byte_for_byte() {
    let files = committed();
    assert_eq!(files.early_data.vectors.len(), 10);
    for v in &files.early_data.vectors {
        let got = vectors::compute_early_data(v);
        require_same(&format!("early_data.json {}", v.name), &got, v);
    }
}

/// The extension list of message 1 (spec 4.4), built by hand.
fn early_data_extensions(timestamp: u64, data: &[u8]) -> Vec<u8> {
    let mut p = vec![0x00, 0x01, 0x00, 0x08];
    p.extend_from_slice(&timestamp.to_be_bytes());
    p.extend_from_slice(&[0x00, 0x02]);
    p.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
    p.extend_from_slice(data);
    p
}

fn check_early_data_independently(v: &EarlyDataVector) {
    let ctx = |what: &str| format!("early_data.json {}: {what}", v.name);
    assert_eq!(
        v.client_ephemeral_public,
        x25519_public(&v.client_ephemeral_private)
    );
    assert_eq!(
        v.server_ephemeral_public,
        x25519_public(&v.server_ephemeral_private)
    );
    assert_eq!(
        v.parties.server_key_id,
        key_id(&x25519_public(&v.parties.server_static_private))
    );
    let ch = unhex(&v.client_hello);
    // The header has flag bit 0 set: the early data flag.
    let header_len = check_client_hello_header(
        &ch,
        &v.pattern,
        suite_code(&v.suite),
        &v.parties.client_suites,
        &v.parties.server_key_id,
        0x01,
        &[],
    );
    let mut prologue = b"lwsec/1 prologue".to_vec();
    prologue.extend_from_slice(&ch[3..3 + header_len]);
    assert_eq!(v.prologue, hx(&prologue), "{}", ctx("prologue"));
    let data = unhex(&v.early_data);
    let payload_1 = early_data_extensions(v.client_time, &data);
    assert_eq!(
        v.client_hello_payload,
        hx(&payload_1),
        "{}",
        ctx("payload 1")
    );
    let message_1 = &ch[3 + header_len..];
    let static_len = if v.pattern == "NK" { 0 } else { 48 };
    assert_eq!(
        message_1.len(),
        32 + static_len + payload_1.len() + 16,
        "{}",
        ctx("Noise message 1 length")
    );
    // The status decided by spec 4.9 from the scenario.
    let expected_status = match v.scenario.as_str() {
        "accepted" => 1,
        "no_guard" | "replayed" | "stale" => 0,
        other => panic!("unknown scenario {other}"),
    };
    assert_eq!(v.early_data_status, expected_status, "{}", ctx("status"));
    assert_eq!(v.window_ms.is_none(), v.scenario == "no_guard");
    let within = v
        .window_ms
        .is_some_and(|w| v.client_time + w >= v.server_time && v.client_time <= v.server_time + w);
    assert_eq!(within, v.scenario != "no_guard" && v.scenario != "stale");
    let payload_2 = [0x00, 0x03, 0x00, 0x01, v.early_data_status];
    assert_eq!(
        v.server_hello_payload,
        hx(&payload_2),
        "{}",
        ctx("payload 2")
    );
    let sh = unhex(&v.server_hello);
    assert_eq!(
        &sh[..3],
        &[0x02, 0x00, 53],
        "{}",
        ctx("ServerHello frame header")
    );
    let (k1, k2, h) = snow_handshake(
        &v.noise_protocol,
        &prologue,
        &v.parties.server_static_private,
        v.parties.client_static_private.as_deref(),
        &v.client_ephemeral_private,
        &v.server_ephemeral_private,
        message_1,
        &sh[3..],
        Payloads {
            message_1: &payload_1,
            message_2: &payload_2,
        },
    );
    assert_eq!(v.handshake_hash, hx(&h), "{}", ctx("handshake hash"));
    let (c2s, s2c, _) = schedule(&k1, &k2, &h);
    assert_eq!(v.client_to_server, c2s, "{}", ctx("client_to_server"));
    check_confirm(&v.suite, &c2s, &v.client_confirm, &ctx("client_confirm"));
    assert_eq!(v.server_to_client, s2c, "{}", ctx("server_to_client"));
    let (delivered, event) = if expected_status == 1 {
        (Some(v.early_data.clone()), "EarlyDataAccepted")
    } else {
        (None, "EarlyDataRejected")
    };
    assert_eq!(v.server_early_data, delivered, "{}", ctx("delivered data"));
    assert_eq!(v.client_event, event, "{}", ctx("client event"));
}

#[test]
fn early_data_vectors_agree_with_snow_and_the_spec() {
    let files = committed();
    for v in &files.early_data.vectors {
        check_early_data_independently(v);
    }
    let names: Vec<_> = files
        .early_data
        .vectors
        .iter()
        .map(|v| &v.name[..])
        .collect();
    for pattern in ["nk", "ik"] {
        for suite in ["aes-256-gcm", "chacha20-poly1305"] {
            assert!(names.contains(&format!("{pattern}-{suite}-accepted").as_str()));
        }
        for scenario in ["no-guard", "replayed", "stale"] {
            assert!(names.contains(&format!("{pattern}-aes-256-gcm-{scenario}").as_str()));
        }
    }
}

// ----- resumption -----

#[test]
fn resumption_vectors_replay_byte_for_byte() {
    let files = committed();
    assert_eq!(files.resumption.vectors.len(), 8);
    for v in &files.resumption.vectors {
        let got = vectors::compute_resumption(v);
        require_same(&format!("resumption.json {}", v.name), &got, v);
    }
}

/// `SHA-256("lwsec ticket key id" || ticket_secret)[0..4]` (spec 4.11).
fn ticket_key_id(secret: &str) -> Vec<u8> {
    Sha256::new()
        .chain_update(b"lwsec ticket key id")
        .chain_update(unhex(secret))
        .finalize()[..4]
        .to_vec()
}

/// A ticket's plaintext, built field by field from spec 4.11.
struct TicketPlaintext<'a> {
    issued_at: u64,
    lifetime: u32,
    authenticated_at: u64,
    pattern: &'a str,
    psk: &'a [u8],
    device: Option<&'a str>,
    identity: Option<&'a str>,
}

impl TicketPlaintext<'_> {
    fn encode(&self) -> Vec<u8> {
        let mut p = self.issued_at.to_be_bytes().to_vec();
        p.extend_from_slice(&self.lifetime.to_be_bytes());
        p.extend_from_slice(&self.authenticated_at.to_be_bytes());
        p.push(if self.pattern == "NK" { 0x01 } else { 0x02 });
        p.extend_from_slice(self.psk);
        let device = self.device.map(unhex).unwrap_or_default();
        p.push(u8::try_from(device.len()).unwrap());
        p.extend(device);
        let identity = self.identity.map(unhex);
        p.push(u8::from(identity.is_some()));
        let identity = identity.unwrap_or_default();
        p.extend_from_slice(&u16::try_from(identity.len()).unwrap().to_be_bytes());
        p.extend(identity);
        p
    }
}

/// Checks a ticket record and its ticket with the AEAD crates and `hkdf`,
/// from spec 4.11: the record is the server's first (seq 0) under `s2c`,
/// the ticket opens under `secret`, its plaintext is `plaintext`, and
/// sealing `plaintext` again gives the ticket.
fn check_ticket(
    what: &str,
    suite: &str,
    s2c: &TrafficKeys,
    t: &IssuedTicket,
    secret: &str,
    plaintext: &TicketPlaintext<'_>,
    received_at: u64,
) {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let suite = lwsec::Suite::from_u8(suite_code(suite)).unwrap();
    let record = unhex(&t.record);
    let (content_type, payload, padding) = open_record(suite, s2c, 0, &record);
    assert_eq!((content_type, padding), (0x08, 0), "{what}: ticket record");
    assert_eq!(hx(&payload), t.payload, "{what}: record payload");
    assert_eq!(payload[..4], t.lifetime.to_be_bytes(), "{what}: lifetime");
    assert_eq!(t.lifetime, plaintext.lifetime, "{what}: lifetime");
    assert!(
        (1..=604_800).contains(&t.lifetime),
        "{what}: lifetime range"
    );
    let ticket = &payload[4..];
    assert_eq!(hx(ticket), t.ticket, "{what}: ticket");
    assert!((1..=1024).contains(&ticket.len()), "{what}: ticket length");
    assert_eq!(ticket[..4], ticket_key_id(secret), "{what}: key id");
    assert_eq!(hx(&ticket[..4]), t.key_id, "{what}: key id");
    let nonce = &ticket[4..16];
    assert_eq!(hx(nonce), t.nonce, "{what}: nonce");
    let k = expand_label(&unhex(secret), "ticket", b"", 32);
    assert_eq!(hx(&k), t.aead_key, "{what}: AEAD key k");
    let aead = aes_gcm::Aes256Gcm::new_from_slice(&k).unwrap();
    let opened = aead
        .decrypt(
            nonce.into(),
            Payload {
                msg: &ticket[16..],
                aad: &ticket[..16],
            },
        )
        .unwrap_or_else(|_| panic!("{what}: the ticket does not open"));
    assert_eq!(hx(&opened), t.plaintext, "{what}: plaintext");
    let expected = plaintext.encode();
    assert_eq!(hx(&expected), t.plaintext, "{what}: plaintext fields");
    let sealed = aead
        .encrypt(
            nonce.into(),
            Payload {
                msg: &expected,
                aad: &ticket[..16],
            },
        )
        .unwrap();
    assert_eq!(hx(&sealed), hx(&ticket[16..]), "{what}: sealing again");
    assert_eq!(t.issued_at, plaintext.issued_at, "{what}: issued_at");
    assert_eq!(
        t.authenticated_at, plaintext.authenticated_at,
        "{what}: authenticated_at"
    );
    assert_eq!(
        t.expires,
        received_at + 1000 * u64::from(t.lifetime),
        "{what}: expiry"
    );
}

/// A resumption ClientHello header (spec 4.1, 4.11), built by hand.
fn resumption_header(suite: u8, suites: &[u8], key_id: &str, flags: u8, ticket: &[u8]) -> Vec<u8> {
    let mut h = b"lw".to_vec();
    h.extend_from_slice(&[0x01, 0x03, suite, u8::try_from(suites.len()).unwrap()]);
    h.extend_from_slice(suites);
    h.extend(unhex(key_id));
    h.extend_from_slice(&[flags, 0x00]);
    h.extend_from_slice(&u16::try_from(ticket.len()).unwrap().to_be_bytes());
    h.extend_from_slice(ticket);
    h
}

/// A `snow` NNpsk0 initiator with the resumption flight's keys.
fn snow_psk_initiator(
    protocol: &str,
    prologue: &[u8],
    psk: &[u8; 32],
    ephemeral: &str,
) -> snow::HandshakeState {
    let params: snow::params::NoiseParams = protocol.parse().unwrap();
    let ephemeral = unhex(ephemeral);
    snow::Builder::new(params)
        .prologue(prologue)
        .unwrap()
        .psk(0, psk)
        .unwrap()
        .fixed_ephemeral_key_for_testing_only(&ephemeral)
        .build_initiator()
        .unwrap()
}

/// Runs a resumed (`NNpsk0`) handshake with `snow` on both sides and
/// returns `(k1, k2, h)`; both messages must equal snow's.
fn snow_psk_handshake(
    protocol: &str,
    prologue: &[u8],
    psk: &[u8; 32],
    leg: &TicketedHandshake,
    message_1: &[u8],
    message_2: &[u8],
    payloads: Payloads<'_>,
) -> ([u8; 32], [u8; 32], Vec<u8>) {
    let mut initiator = snow_psk_initiator(protocol, prologue, psk, &leg.client_ephemeral_private);
    let params: snow::params::NoiseParams = protocol.parse().unwrap();
    let server_ephemeral = unhex(&leg.server_ephemeral_private);
    let mut responder = snow::Builder::new(params)
        .prologue(prologue)
        .unwrap()
        .psk(0, psk)
        .unwrap()
        .fixed_ephemeral_key_for_testing_only(&server_ephemeral)
        .build_responder()
        .unwrap();
    let (mut buf, mut payload) = (vec![0u8; 65535], vec![0u8; 65535]);
    let n = initiator
        .write_message(payloads.message_1, &mut buf)
        .unwrap();
    assert_eq!(
        hx(&buf[..n]),
        hx(message_1),
        "NNpsk0 message 1 differs from snow's"
    );
    let n = responder.read_message(message_1, &mut payload).unwrap();
    assert_eq!(&payload[..n], payloads.message_1, "payload of message 1");
    let n = responder
        .write_message(payloads.message_2, &mut buf)
        .unwrap();
    assert_eq!(
        hx(&buf[..n]),
        hx(message_2),
        "NNpsk0 message 2 differs from snow's"
    );
    let n = initiator.read_message(message_2, &mut payload).unwrap();
    assert_eq!(&payload[..n], payloads.message_2, "payload of message 2");
    let h = initiator.get_handshake_hash().to_vec();
    assert_eq!(h, responder.get_handshake_hash());
    let (k1, k2) = initiator.dangerously_get_raw_split();
    (k1, k2, h)
}

/// The Noise cipher name of a suite.
fn noise_cipher(suite: &str) -> &'static str {
    if suite == "AES-256-GCM" {
        "AESGCM"
    } else {
        "ChaChaPoly"
    }
}

/// Checks the key schedule of a completed leg from `snow`'s `Split()`:
/// traffic keys, confirmation, exporter and resumption secrets. Returns the
/// resumption secret, derived here from the spec.
fn check_leg_keys(
    what: &str,
    suite: &str,
    leg: &TicketedHandshake,
    split: ([u8; 32], [u8; 32], Vec<u8>),
) -> [u8; 32] {
    let (k1, k2, h) = split;
    assert_eq!(leg.handshake_hash, hx(&h), "{what}: handshake hash");
    let (c2s, s2c, exporter_secret) = schedule(&k1, &k2, &h);
    assert_eq!(leg.client_to_server, c2s, "{what}: client_to_server");
    assert_eq!(leg.server_to_client, s2c, "{what}: server_to_client");
    check_confirm(
        suite,
        &c2s,
        &leg.client_confirm,
        &format!("{what}: client_confirm"),
    );
    assert_eq!(
        leg.exporter_secret,
        hx(&exporter_secret),
        "{what}: exporter secret"
    );
    let resumption_secret = expand_label(&exporter_secret, "resumption", &[], 32);
    assert_eq!(
        leg.resumption_secret,
        hx(&resumption_secret),
        "{what}: resumption secret"
    );
    resumption_secret.try_into().unwrap()
}

/// Checks a full (`NK`/`IK`) leg: header, prologue, Noise messages with
/// `snow`, keys. Returns its resumption secret.
fn check_full_leg(what: &str, v: &ResumptionVector, leg: &TicketedHandshake) -> [u8; 32] {
    assert!(!leg.resumed, "{what}");
    assert_eq!(
        leg.noise_protocol,
        format!(
            "Noise_{}_25519_{}_SHA256",
            v.pattern,
            noise_cipher(&v.suite)
        )
    );
    assert_eq!(
        leg.client_ephemeral_public,
        x25519_public(&leg.client_ephemeral_private)
    );
    assert_eq!(
        leg.server_ephemeral_public,
        x25519_public(&leg.server_ephemeral_private)
    );
    let ch = unhex(&leg.client_hello);
    let header_len = check_client_hello_header(
        &ch,
        &v.pattern,
        suite_code(&v.suite),
        &v.parties.client_suites,
        &v.parties.server_key_id,
        0,
        &[],
    );
    let mut prologue = b"lwsec/1 prologue".to_vec();
    prologue.extend_from_slice(&ch[3..3 + header_len]);
    assert_eq!(leg.prologue, hx(&prologue), "{what}: prologue");
    assert_eq!(
        (&leg.client_hello_payload[..], &leg.server_hello_payload[..]),
        ("", "")
    );
    let split = snow_handshake(
        &leg.noise_protocol,
        &prologue,
        &v.parties.server_static_private,
        v.parties.client_static_private.as_deref(),
        &leg.client_ephemeral_private,
        &leg.server_ephemeral_private,
        &ch[3 + header_len..],
        &unhex(&leg.server_hello)[3..],
        EMPTY_PAYLOADS,
    );
    check_leg_keys(what, &v.suite, leg, split)
}

/// The plaintext of a ticket issued at `issued_at` on a connection whose
/// last full handshake was at `authenticated_at`.
fn plaintext_of<'a>(
    v: &'a ResumptionVector,
    psk: &'a [u8],
    issued_at: u64,
    authenticated_at: u64,
) -> TicketPlaintext<'a> {
    TicketPlaintext {
        issued_at,
        lifetime: v.ticket_lifetime,
        authenticated_at,
        pattern: &v.pattern,
        psk,
        device: v.parties.client_static_public.as_deref(),
        identity: v.identity.as_deref(),
    }
}

fn check_resumption_independently(v: &ResumptionVector) {
    let ctx = |what: &str| format!("resumption.json {}: {what}", v.name);
    assert_eq!(
        v.parties.server_key_id,
        key_id(&x25519_public(&v.parties.server_static_private))
    );
    assert_eq!(
        v.parties.client_static_public,
        v.parties
            .client_static_private
            .as_deref()
            .map(x25519_public)
    );
    assert_eq!(v.first_time, VECTOR_TIME_MS, "{}", ctx("first time"));
    assert!(v.second_time > v.first_time);
    assert_eq!(
        v.identity.is_some(),
        v.pattern == "IK",
        "{}",
        ctx("identity")
    );

    // The first connection: a full handshake, then its ticket.
    let psk_1 = check_full_leg(&ctx("first"), v, &v.first);
    let first_plain = plaintext_of(v, &psk_1, v.first_time, v.first_time);
    check_ticket(
        &ctx("first ticket"),
        &v.suite,
        &v.first.server_to_client,
        &v.first.ticket,
        &v.ticket_secret,
        &first_plain,
        v.first_time,
    );
    let ticket = unhex(&v.first.ticket.ticket);
    let suite = suite_code(&v.suite);
    let resumed_protocol = format!("Noise_NNpsk0_25519_{}_SHA256", noise_cipher(&v.suite));
    let flags = u8::from(v.early_data.is_some());

    // The second connection: its first flight resumes with the ticket.
    let refused = v.scenario == "refused";
    assert_eq!(v.refused_flight.is_some(), refused, "{}", ctx("scenario"));
    assert_eq!(
        v.second_ticket_secret == v.ticket_secret,
        !refused,
        "{}",
        ctx("second server's ticket key")
    );
    assert_ne!(
        ticket_key_id(&v.second_ticket_secret) == ticket[..4],
        refused,
        "{}",
        ctx("a refused ticket's key is not held")
    );
    let header = resumption_header(
        suite,
        &v.parties.client_suites,
        &v.parties.server_key_id,
        flags,
        &ticket,
    );
    let mut prologue = b"lwsec/1 prologue".to_vec();
    prologue.extend_from_slice(&header);
    let first_flight = v
        .refused_flight
        .as_ref()
        .map_or(&v.second.client_hello, |r| &r.client_hello);
    let ch = unhex(first_flight);
    assert_eq!(ch[0], 0x01, "{}", ctx("frame type"));
    assert_eq!(
        usize::from(u16::from_be_bytes([ch[1], ch[2]])),
        ch.len() - 3
    );
    assert_eq!(
        hx(&ch[3..3 + header.len()]),
        hx(&header),
        "{}",
        ctx("resumption header")
    );
    let message_1 = &ch[3 + header.len()..];

    let psk_2 = if let Some(r) = &v.refused_flight {
        assert_eq!(r.prologue, hx(&prologue), "{}", ctx("refused prologue"));
        assert_eq!(
            r.client_ephemeral_public,
            x25519_public(&r.client_ephemeral_private)
        );
        let mut initiator = snow_psk_initiator(
            &resumed_protocol,
            &prologue,
            &psk_1,
            &r.client_ephemeral_private,
        );
        let mut buf = vec![0u8; 1024];
        let n = initiator.write_message(&[], &mut buf).unwrap();
        assert_eq!(
            hx(&buf[..n]),
            hx(message_1),
            "{}",
            ctx("refused message 1 (snow)")
        );
        assert_eq!(r.resume_refused, "040000", "{}", ctx("ResumeRefused frame"));
        // Then a full handshake on the same connection.
        check_full_leg(&ctx("second (full)"), v, &v.second)
    } else {
        let leg = &v.second;
        assert!(leg.resumed, "{}", ctx("resumed"));
        assert_eq!(leg.noise_protocol, resumed_protocol);
        assert_eq!(
            leg.client_ephemeral_public,
            x25519_public(&leg.client_ephemeral_private)
        );
        assert_eq!(
            leg.server_ephemeral_public,
            x25519_public(&leg.server_ephemeral_private)
        );
        assert_eq!(leg.prologue, hx(&prologue), "{}", ctx("resumed prologue"));
        let payload_1 = v.early_data.as_ref().map_or(Vec::new(), |d| {
            early_data_extensions(v.second_time, &unhex(d))
        });
        assert_eq!(
            leg.client_hello_payload,
            hx(&payload_1),
            "{}",
            ctx("payload 1")
        );
        assert_eq!(
            message_1.len(),
            32 + payload_1.len() + 16,
            "{}",
            ctx("message 1 length")
        );
        assert_eq!(hx(&message_1[..32]), leg.client_ephemeral_public);
        // Early data: accepted (fresh, within the window) by spec 4.9.
        let payload_2 = match &v.early_data {
            Some(data) => {
                // Sent and received at the same time: within any window.
                assert!(v.window_ms.is_some(), "{}", ctx("window"));
                assert_eq!(v.early_data_status, Some(1), "{}", ctx("status"));
                assert_eq!(
                    v.server_early_data.as_ref(),
                    Some(data),
                    "{}",
                    ctx("delivered")
                );
                assert_eq!(v.client_event.as_deref(), Some("EarlyDataAccepted"));
                vec![0x00, 0x03, 0x00, 0x01, 0x01]
            }
            None => {
                assert_eq!(
                    (v.early_data_status, &v.server_early_data, &v.client_event),
                    (None, &None, &None)
                );
                Vec::new()
            }
        };
        assert_eq!(
            leg.server_hello_payload,
            hx(&payload_2),
            "{}",
            ctx("payload 2")
        );
        let sh = unhex(&leg.server_hello);
        let len = u16::try_from(48 + payload_2.len()).unwrap().to_be_bytes();
        assert_eq!(
            &sh[..3],
            &[0x02, len[0], len[1]],
            "{}",
            ctx("ServerHello header")
        );
        let split = snow_psk_handshake(
            &resumed_protocol,
            &prologue,
            &psk_1,
            leg,
            message_1,
            &sh[3..],
            Payloads {
                message_1: &payload_1,
                message_2: &payload_2,
            },
        );
        check_leg_keys(&ctx("second (resumed)"), &v.suite, leg, split)
    };
    // The second server's ticket: a resumed session keeps the time of the
    // last full handshake; a refused one ran a full handshake now.
    let authenticated_at = if refused { v.second_time } else { v.first_time };
    check_ticket(
        &ctx("second ticket"),
        &v.suite,
        &v.second.server_to_client,
        &v.second.ticket,
        &v.second_ticket_secret,
        &plaintext_of(v, &psk_2, v.second_time, authenticated_at),
        v.second_time,
    );
    assert_ne!(v.second.ticket.ticket, v.first.ticket.ticket);
}

#[test]
fn resumption_vectors_agree_with_snow_aes_gcm_and_the_spec() {
    let files = committed();
    for v in &files.resumption.vectors {
        check_resumption_independently(v);
    }
    let names: Vec<_> = files
        .resumption
        .vectors
        .iter()
        .map(|v| &v.name[..])
        .collect();
    for pattern in ["nk", "ik"] {
        for suite in ["aes-256-gcm", "chacha20-poly1305"] {
            assert!(names.contains(&format!("{pattern}-{suite}-resumed").as_str()));
        }
        for scenario in ["refused", "early-data"] {
            assert!(names.contains(&format!("{pattern}-aes-256-gcm-{scenario}").as_str()));
        }
    }
}

// ----- records -----

#[test]
fn record_vectors_replay_byte_for_byte() {
    let files = committed();
    assert_eq!(files.records.streams.len(), 12);
    for s in &files.records.streams {
        let got = vectors::compute_stream(s);
        require_same(&format!("records.json {}", s.name), &got, s);
    }
}

/// The padded inner plaintext length for `n` = payload + 1 (spec 6.3).
fn padded_len(padding: &PaddingSpec, n: usize) -> usize {
    let padded = match padding.policy.as_str() {
        "none" => n,
        "multiple_of" => n.div_ceil(usize::from(padding.sizes[0])) * usize::from(padding.sizes[0]),
        "buckets" => padding
            .sizes
            .iter()
            .map(|s| usize::from(*s))
            .find(|s| *s >= n)
            .unwrap_or(16385),
        other => panic!("unknown padding policy {other}"),
    };
    padded.min(16385)
}

fn check_stream_independently(s: &RecordStream) {
    let suite = lwsec::Suite::from_u8(suite_code(&s.suite)).unwrap();
    let (c2s, s2c, _) = schedule(&unhex(&s.k1), &unhex(&s.k2), &unhex(&s.handshake_hash));
    assert_eq!(s.client_to_server, c2s, "{}: client_to_server", s.name);
    assert_eq!(s.server_to_client, s2c, "{}: server_to_client", s.name);
    // Each direction: current keys and next sequence number.
    let mut keys = [(c2s, 0u64), (s2c, 0u64)];
    for step in &s.steps {
        let dir = &mut keys[usize::from(step.sender == "server")];
        for r in &step.records {
            let what = format!("{} {} record seq {}", s.name, step.sender, r.seq);
            assert_eq!(r.seq, dir.1, "{what}: sequence number");
            let record = unhex(&r.record);
            let (content_type, payload, padding_len) = open_record(suite, &dir.0, dir.1, &record);
            assert_eq!(content_type, r.content_type, "{what}: content type");
            assert_eq!(hx(&payload), r.payload, "{what}: payload");
            assert_eq!(padding_len, r.padding_len, "{what}: padding");
            assert_eq!(
                payload.len() + 1 + padding_len,
                padded_len(&s.padding, payload.len() + 1),
                "{what}: padding policy {:?}",
                s.padding
            );
            assert_eq!(record.len(), 3 + payload.len() + 1 + padding_len + 16);
            dir.1 += 1;
            if content_type == 3 {
                let next = keys_of(&expand_label(&unhex(&dir.0.secret), "traffic upd", &[], 32));
                assert_eq!(r.next_keys.as_ref(), Some(&next), "{what}: next keys");
                *dir = (next, 0);
            } else {
                assert_eq!(r.next_keys, None);
            }
        }
    }
}

#[test]
fn record_vectors_open_with_the_spec_keys_and_padding() {
    for s in &committed().records.streams {
        check_stream_independently(s);
    }
}

// ----- negative cases -----

#[test]
fn negative_vectors_fail_with_the_named_error() {
    let files = committed();
    for c in &files.negative.cases {
        let got = vectors::compute_negative(&files, c);
        require_same(&format!("negative.json {}", c.name), &got, c);
    }
}

#[test]
fn negative_vector_alerts_are_well_formed() {
    let files = committed();
    for c in &files.negative.cases {
        let mut frames = split_frames(&unhex(&c.output));
        // A server that read the ClientHello and waits for the key
        // confirmation has sent its ServerHello first.
        let confirming = c.place.starts_with("client_confirm.");
        if confirming {
            let v = files
                .handshake
                .vectors
                .iter()
                .find(|v| c.base.ends_with(&v.name))
                .unwrap();
            assert_eq!(hx(&frames.remove(0)), v.server_hello, "{}", c.name);
        }
        let Some(alert) = c.alert else {
            assert!(frames.is_empty(), "{}: output without an alert", c.name);
            continue;
        };
        let last = frames.pop().unwrap();
        if let Some(v) = c
            .base
            .strip_prefix("resumption.json#")
            .filter(|_| c.place.starts_with("ticket_record."))
        {
            // On the established resumed connection: a protected alert, the
            // receiver's record after its confirmation (client) or after
            // its ServerHello and ticket record (server).
            let v = files
                .resumption
                .vectors
                .iter()
                .find(|r| r.name == v)
                .unwrap();
            let suite = lwsec::Suite::from_u8(suite_code(&v.suite)).unwrap();
            let (keys, before) = if c.receiver == "client" {
                (&v.second.client_to_server, vec![&v.second.client_confirm])
            } else {
                (
                    &v.second.server_to_client,
                    vec![&v.second.server_hello, &v.second.ticket.record],
                )
            };
            let before: Vec<_> = before.into_iter().map(|f| unhex(f)).collect();
            assert_eq!(frames, before, "{}: output before the alert", c.name);
            let (content_type, payload, _) = open_record(suite, keys, 1, &last);
            assert_eq!((content_type, payload), (6, vec![alert]), "{}", c.name);
        } else if confirming {
            // A protected alert: the server's first record.
            let v = files
                .handshake
                .vectors
                .iter()
                .find(|v| c.base.ends_with(&v.name))
                .unwrap();
            let suite = lwsec::Suite::from_u8(suite_code(&v.suite)).unwrap();
            let (content_type, payload, _) = open_record(suite, &v.server_to_client, 0, &last);
            assert_eq!((content_type, payload), (6, vec![alert]), "{}", c.name);
        } else if c.base.starts_with("records.json#") {
            // A protected alert: the server's first record.
            let stream = &files
                .records
                .streams
                .iter()
                .find(|s| c.base.ends_with(&s.name))
                .unwrap();
            let suite = lwsec::Suite::from_u8(suite_code(&stream.suite)).unwrap();
            let (content_type, payload, _) = open_record(suite, &stream.server_to_client, 0, &last);
            assert_eq!((content_type, payload), (6, vec![alert]), "{}", c.name);
        } else {
            assert_eq!(
                last,
                [0x15, 0x00, 0x01, alert],
                "{}: cleartext alert",
                c.name
            );
        }
        assert_eq!(
            lwsec::AlertCode::from_u8(alert).to_string(),
            format!("{} ({alert})", c.alert_name.as_deref().unwrap()),
            "{}",
            c.name
        );
    }
}

/// The keys of a negative case's base handshake (handshake.json or
/// early_data.json) and the payload its client sent in message 1.
struct BaseHandshake {
    protocol: String,
    server_static: String,
    client_static: Option<String>,
    client_ephemeral: String,
    server_ephemeral: String,
    client_hello: Vec<u8>,
    payload_1: Vec<u8>,
}

fn base_handshake(files: &VectorFiles, base: &str) -> BaseHandshake {
    let (file, name) = base.split_once('#').unwrap();
    if file == "handshake.json" {
        let v = files.handshake.vectors.iter().find(|v| v.name == name);
        let v = v.unwrap();
        return BaseHandshake {
            protocol: v.noise_protocol.clone(),
            server_static: v.parties.server_static_private.clone(),
            client_static: v.parties.client_static_private.clone(),
            client_ephemeral: v.client_ephemeral_private.clone(),
            server_ephemeral: v.server_ephemeral_private.clone(),
            client_hello: unhex(&v.client_hello),
            payload_1: Vec::new(),
        };
    }
    assert_eq!(file, "early_data.json");
    let v = files.early_data.vectors.iter().find(|v| v.name == name);
    let v = v.unwrap();
    BaseHandshake {
        protocol: v.noise_protocol.clone(),
        server_static: v.parties.server_static_private.clone(),
        client_static: v.parties.client_static_private.clone(),
        client_ephemeral: v.client_ephemeral_private.clone(),
        server_ephemeral: v.server_ephemeral_private.clone(),
        client_hello: unhex(&v.client_hello),
        payload_1: unhex(&v.client_hello_payload),
    }
}

/// `(prologue, header flags, Noise message 1)` of a ClientHello frame.
fn split_client_hello(ch: &[u8]) -> (Vec<u8>, u8, &[u8]) {
    let header_len = client_hello_header_len(&ch[3..]);
    let mut prologue = b"lwsec/1 prologue".to_vec();
    prologue.extend_from_slice(&ch[3..3 + header_len]);
    let flags = ch[3 + 6 + usize::from(ch[3 + 5]) + 8];
    (prologue, flags, &ch[3 + header_len..])
}

/// The early-data and cookie negative inputs are what their descriptions
/// say, checked without lwsec: `snow` decrypts each re-encrypted Noise
/// message under the prologue of its own header, and `hmac` shows each
/// cookie fails one rule of PROTOCOL.md section 4.5 and only that one.
#[test]
fn early_data_and_cookie_negative_inputs_are_what_they_claim() {
    let files = committed();
    let mut checked = 0;
    for c in &files.negative.cases {
        let input = unhex(&c.input);
        let ctx = &c.name;
        let mut payload = vec![0u8; 65535];
        if let Some(what) = c.place.strip_prefix("client_hello.early_data.") {
            let b = base_handshake(&files, &c.base);
            let (prologue, flags, message_1) = split_client_hello(&input);
            let (_, mut responder) = snow_states(
                &b.protocol,
                &prologue,
                &b.server_static,
                b.client_static.as_deref(),
                &b.client_ephemeral,
                &b.server_ephemeral,
            );
            let n = responder.read_message(message_1, &mut payload).unwrap();
            let p = &payload[..n];
            let ts = VECTOR_TIME_MS.to_be_bytes();
            let timestamp_ext = [&[0, 1, 0, 8][..], &ts].concat();
            match what {
                "flag_without_extension" => {
                    assert_eq!((flags, p), (1, &timestamp_ext[..]), "{ctx}");
                }
                "flag_without_timestamp" => {
                    assert_eq!((flags, &p[..2]), (1, &[0, 2][..]), "{ctx}");
                    assert_eq!(usize::from(u16::from_be_bytes([p[2], p[3]])), p.len() - 4);
                }
                "extension_without_flag" => {
                    assert_eq!(flags, 0, "{ctx}");
                    assert_eq!((&p[..12], &p[12..14]), (&timestamp_ext[..], &[0, 2][..]));
                }
                "timestamp_length" => {
                    assert_eq!((flags, &p[..4]), (1, &[0, 1, 0, 7][..]), "{ctx}");
                    assert_eq!(&p[11..13], &[0, 2], "{ctx}");
                }
                "too_long" => {
                    assert_eq!(flags, 1, "{ctx}");
                    assert_eq!(&p[..12], &timestamp_ext[..], "{ctx}");
                    assert_eq!(&p[12..16], &[0, 2, 0x20, 0x01], "{ctx}: 8193 bytes");
                    assert_eq!(p.len(), 16 + 8193, "{ctx}");
                }
                other => panic!("{ctx}: unchecked place {other}"),
            }
            checked += 1;
        } else if let Some(what) = c.place.strip_prefix("server_hello.early_data_status.") {
            let b = base_handshake(&files, &c.base);
            let (prologue, _, message_1) = split_client_hello(&b.client_hello);
            let (mut initiator, _) = snow_states(
                &b.protocol,
                &prologue,
                &b.server_static,
                b.client_static.as_deref(),
                &b.client_ephemeral,
                &b.server_ephemeral,
            );
            let n = initiator.write_message(&b.payload_1, &mut payload).unwrap();
            assert_eq!(hx(&payload[..n]), hx(message_1), "{ctx}: base message 1");
            assert_eq!(input[0], 0x02, "{ctx}: a ServerHello");
            let n = initiator.read_message(&input[3..], &mut payload).unwrap();
            let p = &payload[..n];
            let (sent_early_data, expected): (bool, &[u8]) = match what {
                "unsolicited" => (false, &[0, 3, 0, 1, 1]),
                "missing" => (true, &[]),
                "value" => (true, &[0, 3, 0, 1, 2]),
                other => panic!("{ctx}: unchecked place {other}"),
            };
            assert_eq!(!b.payload_1.is_empty(), sent_early_data, "{ctx}");
            assert_eq!(p, expected, "{ctx}: payload of message 2");
            checked += 1;
        } else if let Some(what) = c.place.strip_prefix("client_hello.retry_echo.cookie_") {
            use hmac::{Hmac, Mac};
            let name = c.base.strip_prefix("retry.json#").unwrap();
            let v = files.retry.vectors.iter().find(|v| v.name == name).unwrap();
            assert!(v.demand_cookie, "{ctx}");
            let header_len = client_hello_header_len(&input[3..]);
            let body = &input[3..3 + header_len];
            let retry_len = usize::from(body[6 + usize::from(body[5]) + 9]);
            let echo = &body[header_len - retry_len..];
            assert_eq!(usize::from(echo[1]), echo.len() - 2, "{ctx}: cookie_len");
            let cookie = &echo[2..];
            let now = c.receiver_time.unwrap_or(VECTOR_TIME_MS);
            let address = c.receiver_peer_address.as_ref().or(v.peer_address.as_ref());
            let (length_ok, mac_ok, fresh, not_future) = if cookie.len() == 24 {
                let (ts, tag) = cookie.split_at(8);
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&unhex(
                    v.cookie_secret.as_ref().unwrap(),
                ))
                .unwrap();
                mac.update(b"lwsec cookie v1");
                mac.update(ts);
                mac.update(&unhex(address.unwrap()));
                let ts = u64::from_be_bytes(ts.try_into().unwrap());
                let mac_ok = mac.verify_truncated_left(tag).is_ok();
                (true, mac_ok, now <= ts + 30_000, ts <= now + 5_000)
            } else {
                (cookie.is_empty(), false, false, false)
            };
            let expected = match what {
                "forged" | "timestamp" | "other_address" => (true, false, true, true),
                "expired" => (true, true, false, true),
                "future" => (true, true, true, false),
                "length" | "missing" => (what == "missing", false, false, false),
                other => panic!("{ctx}: unchecked place {other}"),
            };
            assert_eq!((length_ok, mac_ok, fresh, not_future), expected, "{ctx}");
            checked += 1;
        }
    }
    assert_eq!(checked, 15, "early-data and cookie negative cases checked");
}

// ----- coverage and freshness -----

#[test]
fn vector_files_cover_the_required_cases() {
    let files = committed();
    let names: Vec<&str> = files
        .handshake
        .vectors
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    for pattern in ["nk", "ik"] {
        for suite in ["aes-256-gcm", "chacha20-poly1305"] {
            assert!(names.contains(&format!("{pattern}-{suite}").as_str()));
        }
    }
    for suite in ["aes-256-gcm", "chacha20-poly1305"] {
        let records: Vec<_> = files
            .records
            .streams
            .iter()
            .filter(|s| s.name.starts_with(suite))
            .flat_map(|s| s.steps.iter().flat_map(|st| &st.records))
            .collect();
        for size in [0, 1, 16384] {
            assert!(
                records
                    .iter()
                    .any(|r| r.payload.len() == 2 * size && r.content_type == 1)
            );
        }
        for content_type in 1..=6 {
            assert!(records.iter().any(|r| r.content_type == content_type));
        }
        let policies: Vec<_> = files
            .records
            .streams
            .iter()
            .filter(|s| s.name.starts_with(suite))
            .map(|s| s.padding.policy.as_str())
            .collect();
        for policy in ["none", "multiple_of", "buckets"] {
            assert!(policies.contains(&policy), "{suite}: no {policy} stream");
        }
    }
    let places: Vec<&str> = files
        .negative
        .cases
        .iter()
        .map(|c| c.place.as_str())
        .collect();
    for place in [
        "client_hello.header.suite_list",
        "client_hello.key_id",
        "client_hello.version",
        "client_hello.noise.ephemeral",
        "client_hello.noise.payload_tag",
        "server_hello.noise.ephemeral",
        "server_hello.noise.payload_tag",
        "record.header.type",
        "record.header.length",
        "record.ciphertext",
        "record.tag",
        "record.replayed",
        "record.reordered",
        "retry.suite_not_offered",
        "retry.second",
        "client_hello.noise.payload.critical_extension",
        "client_hello.noise.static.rejected",
        "record.inner.unknown_content_type",
        "record.after_close_notify",
        "client_hello.early_data.flag_without_extension",
        "client_hello.early_data.extension_without_flag",
        "client_hello.early_data.too_long",
        "server_hello.early_data_status.unsolicited",
        "server_hello.early_data_status.missing",
        "client_hello.retry_echo.cookie_forged",
        "client_hello.retry_echo.cookie_other_address",
        "client_hello.retry_echo.cookie_expired",
        "client_hello.retry_echo.cookie_missing",
        "client_hello.ticket_len.zero",
        "client_hello.ticket_len.too_long",
        "client_hello.resume.noise.ephemeral",
        "client_hello.resume.noise.payload_tag",
        "ticket_record.second",
        "ticket_record.short",
        "ticket_record.lifetime_zero",
        "ticket_record.to_server",
        "resume_refused.second",
        "resume_refused.not_resuming",
    ] {
        assert!(places.contains(&place), "no negative case for {place}");
    }
    let mut unique: Vec<&str> = files
        .negative
        .cases
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        files.negative.cases.len(),
        "duplicate case names"
    );
}

#[test]
fn vector_files_match_the_generator() {
    let committed = committed_contents();
    let generated = vectors::generate_all().render();
    for ((name, fresh), old) in generated.iter().zip(&committed) {
        assert!(
            fresh == old,
            "test-vectors/{name} differs from what the generator writes: \
             run `cargo run --example gen_vectors` and review the diff"
        );
    }
}

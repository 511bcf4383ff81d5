//! Third-party Noise conformance: every plain `NK` / `IK` handshake with
//! `25519` and `SHA256` in the cacophony (Haskell), snow (Rust) and noise-c
//! (C) vector files, run through lwsec's `HandshakeState` and `CipherState`
//! as initiator and as responder. Files: `test-vectors/third_party/noise/`.

use crate::crypto::{CryptoProvider, providers};
use serde_json::Value;

use crate::crypto::dh::{PublicKey, StaticKeyPair};
use crate::noise::{CipherState, HandshakeState, Initialize, LocalKey};
use crate::suite::{Pattern, Suite, noise_protocol_name};
use crate::vector_files::{self, array, bytes};

fn load(file: &str) -> Value {
    vector_files::load(&format!("noise/{file}"))
}

fn key32(v: &Value, field: &str) -> [u8; 32] {
    array(v, field)
}

/// The protocol name: `protocol_name` (cacophony, snow) or `name` (noise-c).
fn protocol_name(v: &Value) -> &str {
    v.get("protocol_name")
        .or_else(|| v.get("name"))
        .and_then(Value::as_str)
        .unwrap()
}

/// Parses the names lwsec supports; `None` for anything else (PSK variants).
fn parse_name(name: &str) -> Option<(Pattern, Suite)> {
    let pattern = match name.split('_').nth(1)? {
        "NK" => Pattern::Nk,
        "IK" => Pattern::Ik,
        _ => return None,
    };
    for suite in Suite::ALL {
        if noise_protocol_name(pattern, suite) == name {
            return Some((pattern, suite));
        }
    }
    None
}

/// Runs one vector end to end with every provider and panics on the first
/// mismatch.
fn run_vector(v: &Value, pattern: Pattern, suite: Suite) {
    for p in providers() {
        run_vector_with(p, v, pattern, suite);
    }
}

fn run_vector_with(p: &'static CryptoProvider, v: &Value, pattern: Pattern, suite: Suite) {
    let name = protocol_name(v);
    let init_prologue = bytes(v, "init_prologue");
    let resp_prologue = bytes(v, "resp_prologue");
    let init_static = match pattern {
        Pattern::Ik => Some(StaticKeyPair::from_private_bytes(key32(v, "init_static"))),
        Pattern::Nk => None,
    };
    assert!(v.get("init_static").is_none() || pattern == Pattern::Ik);
    let resp_static = StaticKeyPair::from_private_bytes(key32(v, "resp_static"));
    let remote_static = PublicKey::from_bytes(key32(v, "init_remote_static"));
    assert_eq!(
        resp_static.public_key(),
        remote_static,
        "{name}: init_remote_static is not resp_static's public key"
    );

    let mut initiator = HandshakeState::initialize(Initialize {
        provider: p,
        pattern: pattern.into(),
        suite,
        initiator: true,
        prologue: &[&init_prologue],
        s: init_static.clone(),
        e: Some(LocalKey::Pair(StaticKeyPair::from_private_bytes(key32(
            v,
            "init_ephemeral",
        )))),
        rs: Some(remote_static),
        psk: None,
    })
    .unwrap();
    let mut responder = HandshakeState::initialize(Initialize {
        provider: p,
        pattern: pattern.into(),
        suite,
        initiator: false,
        prologue: &[&resp_prologue],
        s: Some(resp_static),
        e: Some(LocalKey::Pair(StaticKeyPair::from_private_bytes(key32(
            v,
            "resp_ephemeral",
        )))),
        rs: None,
        psk: None,
    })
    .unwrap();

    let messages = v["messages"].as_array().unwrap();
    assert!(messages.len() >= 3, "{name}: needs handshake and transport");

    // Handshake: message 0 initiator -> responder, message 1 back.
    for (i, m) in messages.iter().take(2).enumerate() {
        let payload = bytes(m, "payload");
        let ciphertext = bytes(m, "ciphertext");
        let (writer, reader) = if i == 0 {
            (&mut initiator, &mut responder)
        } else {
            (&mut responder, &mut initiator)
        };
        let mut written = Vec::new();
        writer.write_message(&payload, &mut written).unwrap();
        assert_eq!(
            hex::encode(&written),
            hex::encode(&ciphertext),
            "{name}: handshake message {i} written"
        );
        let mut message = ciphertext.clone();
        let read = reader.read_message(&mut message).unwrap();
        assert_eq!(read, payload, "{name}: handshake message {i} read");
    }
    assert!(initiator.is_finished() && responder.is_finished());
    if pattern == Pattern::Ik {
        assert_eq!(
            responder.remote_static(),
            init_static.as_ref().map(StaticKeyPair::public_key),
            "{name}: responder learnt the initiator's static key"
        );
    }

    let (i_k1, i_k2, i_h) = initiator.split().unwrap();
    let (r_k1, r_k2, r_h) = responder.split().unwrap();
    assert_eq!(i_h, r_h, "{name}: both sides' handshake hash");
    assert_eq!(*i_k1, *r_k1);
    assert_eq!(*i_k2, *r_k2);
    if let Some(expected) = v.get("handshake_hash") {
        assert_eq!(
            hex::encode(i_h),
            expected.as_str().unwrap(),
            "{name}: handshake_hash"
        );
    }

    // Transport: initiator -> responder with k1, responder -> initiator with k2.
    let cipher = |k: &[u8; 32]| {
        let mut c = CipherState::empty(p, suite);
        c.initialize_key(k).unwrap();
        c
    };
    let (mut i_send, mut i_recv) = (cipher(&i_k1), cipher(&i_k2));
    let (mut r_send, mut r_recv) = (cipher(&r_k2), cipher(&r_k1));
    for (i, m) in messages.iter().enumerate().skip(2) {
        let payload = bytes(m, "payload");
        let ciphertext = bytes(m, "ciphertext");
        let (send, recv) = if i % 2 == 0 {
            (&mut i_send, &mut r_recv)
        } else {
            (&mut r_send, &mut i_recv)
        };
        let mut buf = payload.clone();
        send.encrypt_with_ad(&[], &mut buf, 0).unwrap();
        assert_eq!(
            hex::encode(&buf),
            hex::encode(&ciphertext),
            "{name}: transport message {i} written"
        );
        let plain = recv.decrypt_with_ad(&[], &ciphertext).unwrap();
        assert_eq!(
            plain.as_slice(),
            payload,
            "{name}: transport message {i} read"
        );
    }
}

/// Runs every supported entry of `file`; returns (run, skipped) and checks
/// that each skipped entry is a PSK variant.
fn run_file(file: &str) -> (usize, usize) {
    let doc = load(file);
    let (mut run, mut skipped) = (0, 0);
    for v in doc["vectors"].as_array().unwrap() {
        let name = protocol_name(v);
        match parse_name(name) {
            Some((pattern, suite)) => {
                run_vector(v, pattern, suite);
                run += 1;
            }
            None => {
                assert!(name.contains("psk"), "{file}: unexpected entry {name}");
                skipped += 1;
            }
        }
    }
    (run, skipped)
}

#[test]
fn cacophony_nk_ik_vectors_match() {
    // NK and IK with both ciphers; 8 PSK entries skipped.
    assert_eq!(run_file("cacophony_nk_ik_25519_sha256.json"), (4, 8));
}

#[test]
fn snow_nk_ik_vectors_match() {
    // NK and IK with both ciphers; the 2 IKpsk0+psk2 entries skipped.
    assert_eq!(run_file("snow_nk_ik_25519_sha256.json"), (4, 2));
}

#[test]
fn noise_c_nk_ik_vectors_match() {
    // NK and IK with both ciphers; no PSK entries in this file.
    assert_eq!(run_file("noise-c_nk_ik_25519_sha256.json"), (4, 0));
}

#[test]
fn a_corrupted_vector_is_caught() {
    // The runner itself must be able to fail: one flipped ciphertext bit in a
    // handshake message or a transport message must make it panic.
    let doc = load("noise-c_nk_ik_25519_sha256.json");
    let original = doc["vectors"][0].clone();
    let (pattern, suite) = parse_name(protocol_name(&original)).unwrap();
    for index in [0usize, 1, 2, 5] {
        let mut v = original.clone();
        let mut ct = bytes(&v["messages"][index], "ciphertext");
        let last = ct.len() - 1;
        ct[last] ^= 1;
        v["messages"][index]["ciphertext"] = Value::String(hex::encode(ct));
        let result = std::panic::catch_unwind(|| run_vector(&v, pattern, suite));
        assert!(result.is_err(), "flipped bit in message {index} not caught");
    }
    let mut v = original.clone();
    v["handshake_hash"] = Value::String("00".repeat(32));
    assert!(std::panic::catch_unwind(|| run_vector(&v, pattern, suite)).is_err());
    run_vector(&original, pattern, suite);
}

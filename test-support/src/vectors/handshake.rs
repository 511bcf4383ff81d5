//! `handshake.json`: complete handshakes, NK and IK with each suite, and a
//! server that announces its next keys.

use std::sync::Arc;

use lwsec::{Connection, Event, Pattern, Suite, noise_protocol_name};

use super::FIXED_TIME;
use super::connections::{
    client_config, decide, deliver, finished_secrets, server_config, take_output,
};
use super::encoding::{hx, parse_pattern, parse_suite, suite_name, suite_slug, unhex, unhex32};
use super::frames::prologue_of;
use super::keys::{public_of, seeded, with_public_keys};
use super::model::{Exporter, HandshakeFile, HandshakeVector, Parties};

/// The client of `v`; it has not sent anything yet.
pub(super) fn handshake_client(v: &HandshakeVector) -> Connection {
    let config = client_config(
        parse_pattern(&v.pattern),
        &v.parties,
        &unhex(&v.client_ephemeral_private),
    );
    Connection::client(config, FIXED_TIME).unwrap()
}

/// The server of `v`, announcing `v`'s server keys if it has any.
pub(super) fn handshake_server(v: &HandshakeVector) -> Connection {
    let mut config = server_config(&v.parties, &unhex(&v.server_ephemeral_private));
    if let Some(keys) = &v.announced_server_keys {
        let keys = keys
            .iter()
            .map(|k| lwsec::PublicKey::from_bytes(unhex32(k)));
        config.announce_server_keys(keys.collect()).unwrap();
    }
    Connection::server(Arc::new(config), FIXED_TIME).unwrap()
}

/// Runs the handshake described by the inputs of `v` and returns `v` with
/// every output filled in.
pub fn compute_handshake(v: &HandshakeVector) -> HandshakeVector {
    let pattern = parse_pattern(&v.pattern);
    let mut out = v.clone();
    out.noise_protocol = noise_protocol_name(pattern, parse_suite(&v.suite));
    out.parties = with_public_keys(&v.parties);
    out.client_ephemeral_public = public_of(&v.client_ephemeral_private);
    out.server_ephemeral_public = public_of(&v.server_ephemeral_private);

    let mut client = handshake_client(v);
    let mut server = handshake_server(v);
    let client_hello = take_output(&mut client);
    deliver(&mut server, &client_hello);
    decide(&mut server, None, FIXED_TIME);
    let server_hello = take_output(&mut server);
    deliver(&mut client, &server_hello);
    assert_eq!(client.suite(), Some(parse_suite(&v.suite)));
    assert_eq!(client.pattern(), Some(pattern));
    let expected_peer = out
        .parties
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

/// `handshake.json`.
pub(super) fn generate() -> HandshakeFile {
    let mut vectors = Vec::new();
    for pattern in [Pattern::Nk, Pattern::Ik] {
        for suite in Suite::ALL {
            let name = format!(
                "{}-{}",
                pattern.noise_name().to_lowercase(),
                suite_slug(suite)
            );
            let seed = |role: &str| hx(&seeded(&format!("handshake/{name}/{role}"), 32));
            let inputs = HandshakeVector {
                name: name.clone(),
                pattern: pattern.noise_name().to_string(),
                suite: suite_name(suite),
                parties: Parties {
                    client_suites: suites_preferring(suite),
                    server_suites: Suite::ALL.iter().map(|s| s.to_u8()).collect(),
                    server_static_private: seed("server-static"),
                    client_static_private: (pattern == Pattern::Ik).then(|| seed("client-static")),
                    ..Parties::default()
                },
                client_ephemeral_private: seed("client-ephemeral"),
                server_ephemeral_private: seed("server-ephemeral"),
                exporter: exporter_inputs(),
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
        announced_server_keys: Some(vec![
            public_of(&seed("next-server-static")),
            public_of(&server_static_private),
        ]),
        parties: Parties {
            client_suites: vec![1, 2],
            server_suites: vec![1, 2],
            server_static_private,
            ..Parties::default()
        },
        client_ephemeral_private: seed("client-ephemeral"),
        server_ephemeral_private: seed("server-ephemeral"),
        exporter: exporter_inputs(),
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

/// The suite codes of a client that prefers `suite` and offers the others
/// after it, in their usual order.
pub(super) fn suites_preferring(suite: Suite) -> Vec<u8> {
    let mut codes = vec![suite.to_u8()];
    codes.extend(
        Suite::ALL
            .iter()
            .map(|s| s.to_u8())
            .filter(|c| *c != suite.to_u8()),
    );
    codes
}

/// The exporter call of every handshake vector (its output not computed).
fn exporter_inputs() -> Exporter {
    Exporter {
        label: hx(b"lwsec vectors"),
        context: hx(b"conversation 42"),
        length: 32,
        output: String::new(),
    }
}

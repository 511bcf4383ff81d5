//! `early_data.json`: handshakes whose first flight carries early data,
//! accepted, or rejected by a server without a replay guard, as a replay,
//! or outside the time window.

use std::sync::Arc;
use std::time::Duration;

use lwsec::{Connection, Event, Pattern, Suite, Time, noise_protocol_name};

use super::connections::{
    client_config, decide, finished_secrets, server_config, strike_register, take_output,
};
use super::encoding::{hx, parse_pattern, parse_suite, suite_name, suite_slug, unhex};
use super::frames::prologue_of;
use super::handshake::suites_preferring;
use super::keys::{public_of, seeded, with_public_keys};
use super::model::{EarlyDataFile, EarlyDataVector, Parties};
use super::{EARLY_DATA, EARLY_DATA_WINDOW_MS, FIXED_TIME};

/// The extension list of a first flight with early data (spec 4.4):
/// `timestamp` then `early_data`.
pub(super) fn early_data_payload(timestamp: u64, data: &[u8]) -> Vec<u8> {
    let mut p = vec![0x00, 0x01, 0x00, 0x08];
    p.extend_from_slice(&timestamp.to_be_bytes());
    p.extend_from_slice(&[0x00, 0x02]);
    p.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
    p.extend_from_slice(data);
    p
}

/// The client of an early-data flow; it has not sent anything yet.
pub(super) fn early_data_client(v: &EarlyDataVector) -> Connection {
    let config = client_config(
        parse_pattern(&v.pattern),
        &v.parties,
        &unhex(&v.client_ephemeral_private),
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
pub(super) fn early_data_server(v: &EarlyDataVector, ephemeral: &str) -> Connection {
    let mut config = server_config(&v.parties, &unhex(ephemeral));
    if let Some(window) = v.window_ms {
        config.enable_replayable_early_data(Duration::from_millis(window));
    }
    Connection::server(Arc::new(config), Time::from_millis(v.server_time)).unwrap()
}

/// Runs the early-data flow described by the inputs of `v`.
pub fn compute_early_data(v: &EarlyDataVector) -> EarlyDataVector {
    let pattern = parse_pattern(&v.pattern);
    let mut out = v.clone();
    out.noise_protocol = noise_protocol_name(pattern, parse_suite(&v.suite));
    out.parties = with_public_keys(&v.parties);
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

/// `early_data.json`.
pub(super) fn generate() -> EarlyDataFile {
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
                let inputs = EarlyDataVector {
                    name: name.clone(),
                    scenario: scenario.replace('-', "_"),
                    pattern: pattern.noise_name().to_string(),
                    suite: suite_name(suite),
                    parties: Parties {
                        client_suites: suites_preferring(suite),
                        server_suites: Suite::ALL.iter().map(|s| s.to_u8()).collect(),
                        server_static_private: seed("server-static"),
                        client_static_private: (pattern == Pattern::Ik)
                            .then(|| seed("client-static")),
                        ..Parties::default()
                    },
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

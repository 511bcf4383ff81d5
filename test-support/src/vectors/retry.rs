//! `retry.json`: handshakes in which the server answers the first
//! ClientHello with a Retry, to change the suite, to demand a cookie, or
//! both.

use std::sync::Arc;

use lwsec::{Connection, Pattern, ServerOptions, Suite};

use super::connections::{
    client_config, decide, deliver, finished_secrets, server_config, take_output,
};
use super::encoding::{hx, parse_pattern, parse_suite, suite_name, unhex, unhex32};
use super::frames::prologue_of;
use super::keys::{seeded, with_public_keys};
use super::model::{Parties, RetryFile, RetryVector};
use super::{FIXED_TIME, PEER_ADDRESS};

/// The client of a Retry flow; its RNG yields both ephemeral keys.
pub(super) fn retry_client(v: &RetryVector) -> Connection {
    let mut rng = unhex(&v.client_ephemeral_private_1);
    rng.extend(unhex(&v.client_ephemeral_private_2));
    let config = client_config(parse_pattern(&v.pattern), &v.parties, &rng);
    Connection::client(config, FIXED_TIME).unwrap()
}

/// The server of a Retry flow: it accepts `server_suites` and, in a cookie
/// flow, demands a cookie from `peer_address` (or `peer_address_override`).
pub(super) fn retry_server(v: &RetryVector, peer_address_override: Option<&str>) -> Connection {
    let mut config = server_config(&v.parties, &unhex(&v.server_ephemeral_private));
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
pub fn compute_retry(v: &RetryVector) -> RetryVector {
    let mut out = v.clone();
    out.parties = with_public_keys(&v.parties);

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

/// `retry.json`.
pub(super) fn generate() -> RetryFile {
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
                parties: Parties {
                    client_suites: both.clone(),
                    server_suites: server_suites.clone(),
                    server_static_private: seed("server-static"),
                    client_static_private: (pattern == Pattern::Ik).then(|| seed("client-static")),
                    ..Parties::default()
                },
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

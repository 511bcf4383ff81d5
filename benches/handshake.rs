//! Handshake cost: full lwsec NK and IK handshakes (client and server in one
//! process) and the server side alone, against the X25519 floor (the exact
//! key generations and DH operations the Noise pattern needs, with the same
//! primitives the provider wraps), snow on the same pattern and suite, and
//! rustls (TLS 1.3, X25519, ECDSA P-256, ring and aws-lc-rs providers), all
//! in the same run. The `cookie` group compares a stateless Retry with a
//! full server-side handshake. The `garbage` group measures what a flight
//! whose message 1 does not decrypt costs the server (issue 12, item 6):
//! one DH now that the server's ephemeral key is generated only after
//! message 1 decrypts, against the key generation and DH it cost before.
//! The `resumed` group measures the server side of a resumed handshake
//! (ticket opened, `NNpsk0`, one key generation and one DH) against a full
//! IK one (issue 16's resumption targets).
//!
//! `cargo bench -p lwsec-bench --bench handshake -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented `fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, criterion_group, criterion_main};
use lwsec::{Acceptance, ClientConfig, Connection, Pattern, ServerConfig, ServerOptions, Suite};

mod common;
use common::{
    Bench, CLIENT_SECRET, NOW, PATTERNS, SERVER_SECRET, SUITES, X25519Floor, bench_config,
    floor_ops, lwsec_configs, lwsec_first_flight, lwsec_server, provider_server_key,
    provider_x25519, providers, rustls_bases, rustls_configs, rustls_first_flight,
    rustls_handshake, rustls_provider, rustls_server, snow_handshake_states, snow_pair,
    snow_params,
};

/// A full lwsec handshake between fresh connections.
fn lwsec_handshake(client_cfg: &Arc<ClientConfig>, server_cfg: &Arc<ServerConfig>) {
    let mut client = Connection::client(client_cfg.clone(), NOW).unwrap();
    let mut server = Connection::server(server_cfg.clone(), NOW).unwrap();
    let n = server.handle_input(client.pending_output(), NOW).unwrap();
    client.consume_output(n);
    server.accept_client(Acceptance::new(), NOW).unwrap();
    let n = client.handle_input(server.pending_output(), NOW).unwrap();
    server.consume_output(n);
    // The client's key confirmation record.
    let n = server.handle_input(client.pending_output(), NOW).unwrap();
    client.consume_output(n);
    assert!(client.is_established() && server.is_established());
    black_box((client, server));
}

fn server_public() -> [u8; 32] {
    *x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(SERVER_SECRET)).as_bytes()
}

fn full(c: &mut Bench) {
    let mut g = c.benchmark_group("handshake/full");
    let server_public = server_public();
    let client_public =
        *x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(CLIENT_SECRET)).as_bytes();
    for (pattern, pname) in PATTERNS {
        let (keygens, dhs) = floor_ops(pattern);
        for provider in providers() {
            let prov = provider.name;
            let floor = X25519Floor::new(provider);
            let server_key = provider_server_key(provider);
            g.bench_function(
                BenchmarkId::new(format!("x25519-floor-{prov}"), pname),
                |b| b.iter(|| floor.run(2 * keygens, 2 * dhs)),
            );
            let id = BenchmarkId::new(format!("x25519-via-provider-{prov}"), pname);
            g.bench_function(id, |b| {
                b.iter(|| {
                    provider_x25519(
                        provider,
                        server_key.as_ref(),
                        &client_public,
                        2 * keygens,
                        2 * dhs,
                    )
                })
            });
            for (suite, sname) in SUITES {
                let (ccfg, scfg) = lwsec_configs(provider, pattern, suite);
                let id = BenchmarkId::new(format!("lwsec-{prov}-{pname}"), sname);
                g.bench_function(id, |b| b.iter(|| lwsec_handshake(&ccfg, &scfg)));
            }
        }
        for (suite, sname) in SUITES {
            g.bench_function(BenchmarkId::new(format!("snow-{pname}"), sname), |b| {
                b.iter(|| {
                    black_box(snow_pair(
                        pattern,
                        suite,
                        &SERVER_SECRET,
                        &server_public,
                        &CLIENT_SECRET,
                    ))
                })
            });
        }
    }
    let mut buf = Vec::with_capacity(8192);
    for (rname, base) in rustls_bases() {
        for (suite, sname) in SUITES {
            let (ccfg, scfg) = rustls_configs(rustls_provider(base.clone(), suite));
            let id = BenchmarkId::new(format!("rustls-{rname}-tls13"), sname);
            g.bench_function(id, |b| {
                b.iter(|| black_box(rustls_handshake(&ccfg, &scfg, &mut buf)))
            });
        }
    }
    g.finish();
}

fn server(c: &mut Bench) {
    let mut g = c.benchmark_group("handshake/server");
    let server_public = server_public();
    let client_public =
        *x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(CLIENT_SECRET)).as_bytes();
    let options = ServerOptions::default();
    for (pattern, pname) in PATTERNS {
        let (keygens, dhs) = floor_ops(pattern);
        for provider in providers() {
            let prov = provider.name;
            let floor = X25519Floor::new(provider);
            let server_key = provider_server_key(provider);
            g.bench_function(
                BenchmarkId::new(format!("x25519-floor-{prov}"), pname),
                |b| b.iter(|| floor.run(keygens, dhs)),
            );
            let id = BenchmarkId::new(format!("x25519-via-provider-{prov}"), pname);
            g.bench_function(id, |b| {
                b.iter(|| {
                    provider_x25519(provider, server_key.as_ref(), &client_public, keygens, dhs)
                })
            });
            for (suite, sname) in SUITES {
                let (hello, scfg) = lwsec_first_flight(provider, pattern, suite);
                let id = BenchmarkId::new(format!("lwsec-{prov}-{pname}"), sname);
                g.bench_function(id, |b| b.iter(|| lwsec_server(&scfg, &options, &hello)));
            }
        }
        for (suite, sname) in SUITES {
            let (mut i, _) = snow_handshake_states(
                pattern,
                suite,
                &SERVER_SECRET,
                &server_public,
                &CLIENT_SECRET,
            );
            let mut m1 = [0u8; 256];
            let n = i.write_message(&[], &mut m1).unwrap();
            let m1 = m1[..n].to_vec();
            let params = snow_params(pattern, suite);
            g.bench_function(BenchmarkId::new(format!("snow-{pname}"), sname), |b| {
                let mut payload = [0u8; 64];
                let mut m2 = [0u8; 256];
                b.iter(|| {
                    let mut r = snow::Builder::new(params.clone())
                        .local_private_key(&SERVER_SECRET)
                        .unwrap()
                        .build_responder()
                        .unwrap();
                    r.read_message(&m1, &mut payload).unwrap();
                    let n = r.write_message(&[], &mut m2).unwrap();
                    black_box(&m2[..n]);
                    black_box(r.into_transport_mode().unwrap())
                })
            });
        }
    }
    let mut out = Vec::with_capacity(8192);
    for (rname, base) in rustls_bases() {
        for (suite, sname) in SUITES {
            let (ccfg, scfg) = rustls_configs(rustls_provider(base.clone(), suite));
            let hello = rustls_first_flight(&ccfg);
            let id = BenchmarkId::new(format!("rustls-{rname}-tls13"), sname);
            g.bench_function(id, |b| b.iter(|| rustls_server(&scfg, &hello, &mut out)));
        }
    }
    g.finish();
}

/// Issue 7: what a spoofed first flight costs a server that demands a
/// cookie (a stateless Retry, no DH) against a full server-side handshake.
/// A first flight whose message 1 does not decrypt (a garbage flight an
/// attacker sends, or echoes a cookie with): the server's work to refuse it,
/// against one DH (what it must do: `es` before the AEAD can be checked)
/// and one key generation plus one DH (what it did before the fix).
fn garbage(c: &mut Bench) {
    let mut g = c.benchmark_group("handshake/garbage");
    for provider in providers() {
        let prov = provider.name;
        let (ccfg, scfg) = lwsec_configs(provider, Pattern::Nk, Suite::Aes256Gcm);
        let client = Connection::client(ccfg, NOW).unwrap();
        let mut garbage = client.pending_output().to_vec();
        let last = garbage.len() - 1;
        garbage[last] ^= 1; // message 1's tag
        let plain = ServerOptions::default();
        let refuse = |flight: &[u8]| {
            let mut s = Connection::server_with_options(scfg.clone(), NOW, plain.clone()).unwrap();
            let err = s.handle_input(flight, NOW).unwrap_err();
            black_box((err, s.pending_output().len()))
        };
        assert_eq!(refuse(&garbage).0, lwsec::Error::HandshakeDecrypt);
        let floor = X25519Floor::new(provider);
        g.bench_function(BenchmarkId::new("server-refuses-NK", prov), |b| {
            b.iter(|| refuse(&garbage))
        });
        g.bench_function(BenchmarkId::new("floor-1dh", prov), |b| {
            b.iter(|| floor.run(0, 1))
        });
        g.bench_function(BenchmarkId::new("before-fix-1keygen-1dh", prov), |b| {
            b.iter(|| floor.run(1, 1))
        });
    }
    g.finish();
}

fn cookie(c: &mut Bench) {
    let mut g = c.benchmark_group("handshake/cookie");
    for provider in providers() {
        let prov = provider.name;
        let (ccfg, scfg) = lwsec_configs(provider, Pattern::Nk, Suite::Aes256Gcm);
        let demand =
            ServerOptions::for_peer_address(&b"203.0.113.7:50412"[..]).with_cookie_demanded(true);
        let plain = ServerOptions::default();

        let mut client = Connection::client(ccfg, NOW).unwrap();
        let hello = client.pending_output().to_vec();
        client.consume_output(hello.len());
        // The Retry, and the client's second ClientHello carrying the cookie.
        let mut server =
            Connection::server_with_options(scfg.clone(), NOW, demand.clone()).unwrap();
        server.handle_input(&hello, NOW).unwrap();
        client.handle_input(server.pending_output(), NOW).unwrap();
        let retried = client.pending_output().to_vec();
        assert!(retried.len() > hello.len());
        let first_byte = |options: &ServerOptions, flight: &[u8]| {
            let mut s =
                Connection::server_with_options(scfg.clone(), NOW, options.clone()).unwrap();
            s.handle_input(flight, NOW).unwrap();
            if s.client_hello().is_some() {
                s.accept_client(Acceptance::new(), NOW).unwrap();
            }
            s.pending_output()[0]
        };
        assert_eq!(first_byte(&demand, &hello), 0x03, "Retry");
        assert_eq!(first_byte(&plain, &hello), 0x02, "ServerHello");
        assert_eq!(first_byte(&demand, &retried), 0x02, "ServerHello");

        g.bench_function(BenchmarkId::new("retry-spoofed-NK", prov), |b| {
            b.iter(|| lwsec_server(&scfg, &demand, &hello))
        });
        g.bench_function(BenchmarkId::new("full-server-NK", prov), |b| {
            b.iter(|| lwsec_server(&scfg, &plain, &hello))
        });
        g.bench_function(BenchmarkId::new("full-server-with-cookie-NK", prov), |b| {
            b.iter(|| lwsec_server(&scfg, &demand, &retried))
        });
    }
    g.finish();
}

/// A server-side handshake through the key confirmation, timed on the
/// server's calls only (the client's work is outside the clock): the
/// ClientHello, the decision, the ServerHello, the confirmation (and the
/// ticket the server seals then). Returns the server's time.
fn server_side(client: &mut Connection, server_cfg: &Arc<ServerConfig>) -> std::time::Duration {
    let hello = client.pending_output().to_vec();
    client.consume_output(hello.len());
    let start = std::time::Instant::now();
    let mut server = Connection::server(server_cfg.clone(), NOW).unwrap();
    server.handle_input(&hello, NOW).unwrap();
    server.accept_client(Acceptance::new(), NOW).unwrap();
    let reply = server.pending_output().to_vec();
    server.consume_output(reply.len());
    let mut took = start.elapsed();
    client.handle_input(&reply, NOW).unwrap();
    let confirm = client.pending_output().to_vec();
    client.consume_output(confirm.len());
    let start = std::time::Instant::now();
    server.handle_input(&confirm, NOW).unwrap();
    black_box(server.pending_output());
    took += start.elapsed();
    assert!(server.is_established());
    black_box(server);
    took
}

/// Issue 16: a resumed server handshake (NNpsk0: open the ticket, one key
/// generation, one DH, seal the next ticket) against a full IK one (one key
/// generation, four DH, seal a ticket) on the same server, with the X25519
/// floors of both.
fn resumed(c: &mut Bench) {
    let mut g = c.benchmark_group("handshake/resumed");
    for provider in providers() {
        let prov = provider.name;
        let (ccfg, scfg) = lwsec_configs(provider, Pattern::Ik, Suite::Aes256Gcm);
        let mut scfg = (*scfg).clone();
        scfg.enable_resumption(Arc::new(lwsec::TicketKeyring::new(lwsec::TicketKeys::new(
            [9; 32],
        ))));
        let scfg = Arc::new(scfg);
        // A ticket from one full handshake (the server does not enforce one
        // use: every iteration resumes with it).
        let mut client = Connection::client(ccfg.clone(), NOW).unwrap();
        server_side(&mut client, &scfg);
        let ticket = loop {
            let mut server = Connection::server(scfg.clone(), NOW).unwrap();
            let mut c2 = Connection::client(ccfg.clone(), NOW).unwrap();
            let n = server.handle_input(c2.pending_output(), NOW).unwrap();
            c2.consume_output(n);
            server.accept_client(Acceptance::new(), NOW).unwrap();
            let n = c2.handle_input(server.pending_output(), NOW).unwrap();
            server.consume_output(n);
            let n = server.handle_input(c2.pending_output(), NOW).unwrap();
            c2.consume_output(n);
            let n = c2.handle_input(server.pending_output(), NOW).unwrap();
            server.consume_output(n);
            if let Some(t) = std::iter::from_fn(|| c2.poll_event()).find_map(|e| match e {
                lwsec::Event::ResumptionTicket(t) => Some(t),
                _ => None,
            }) {
                break t;
            }
        };
        let floor = X25519Floor::new(provider);
        g.bench_function(BenchmarkId::new("x25519-floor-full-IK", prov), |b| {
            b.iter(|| floor.run(1, 4))
        });
        g.bench_function(BenchmarkId::new("x25519-floor-resumed", prov), |b| {
            b.iter(|| floor.run(1, 1))
        });
        g.bench_function(BenchmarkId::new("lwsec-server-full-IK", prov), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        server_side(&mut Connection::client(ccfg.clone(), NOW).unwrap(), &scfg)
                    })
                    .sum()
            })
        });
        g.bench_function(BenchmarkId::new("lwsec-server-resumed", prov), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let mut client =
                            Connection::resume(ccfg.clone(), ticket.clone(), NOW).unwrap();
                        let took = server_side(&mut client, &scfg);
                        assert!(client.is_resumed());
                        took
                    })
                    .sum()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = bench_config();
    targets = full, server, cookie, garbage, resumed
}
criterion_main!(benches);

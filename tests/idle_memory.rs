//! Memory held by idle connections and heap allocations per message,
//! measured with a counting global allocator (this file is its own test
//! binary, and its tests run one at a time behind a lock).

use std::alloc::System;
use std::sync::{Arc, Mutex};

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

use lwsec::rng::DeterministicRandom;
use lwsec::{ClientConfig, Connection, ServerConfig, StaticKeyPair, Suite, Time};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Tests in this binary measure global counters: run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const NOW: Time = Time::from_millis(1_000);

fn configs(
    suite: Suite,
    provider: &'static lwsec::crypto::CryptoProvider,
) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let server_key = StaticKeyPair::from_private_bytes([1; 32]);
    let mut c = ClientConfig::ik(
        server_key.public_key(),
        StaticKeyPair::from_private_bytes([2; 32]),
    );
    c.suites = vec![suite];
    c.provider = provider;
    c.rng = Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        b"c",
    ));
    let mut s = ServerConfig::new(server_key);
    s.provider = provider;
    s.rng = Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        b"s",
    ));
    (Arc::new(c), Arc::new(s))
}

fn deliver(from: &mut Connection, to: &mut Connection) {
    while from.wants_write() {
        let n = to.handle_input(from.pending_output(), NOW).unwrap();
        from.consume_output(n);
    }
}

fn established(c: &Arc<ClientConfig>, s: &Arc<ServerConfig>) -> (Connection, Connection) {
    let mut client = Connection::client(c.clone(), NOW).unwrap();
    let mut server = Connection::server(s.clone(), NOW).unwrap();
    deliver(&mut client, &mut server);
    deliver(&mut server, &mut client);
    while client.poll_event().is_some() {}
    while server.poll_event().is_some() {}
    (client, server)
}

#[test]
fn idle_memory_per_connection_is_at_most_2_kib() {
    let _serial = SERIAL.lock().unwrap();
    const PAIRS: usize = 50;
    for provider in lwsec::crypto::providers() {
        for suite in Suite::ALL {
            let (c, s) = configs(suite, provider);
            let mut pairs = Vec::with_capacity(PAIRS);
            let message = vec![0x5a; 16 * 1024];
            let region = Region::new(GLOBAL);
            for _ in 0..PAIRS {
                let (mut client, mut server) = established(&c, &s);
                client.send_message(&message).unwrap();
                deliver(&mut client, &mut server);
                assert_eq!(server.recv_message().unwrap().len(), message.len());
                server.send_message(&message).unwrap();
                deliver(&mut server, &mut client);
                assert_eq!(client.recv_message().unwrap().len(), message.len());
                client.release_idle_memory();
                server.release_idle_memory();
                pairs.push((client, server));
            }
            let change = region.change();
            // Reallocation growth is included in `bytes_allocated`.
            let heap = change
                .bytes_allocated
                .saturating_sub(change.bytes_deallocated);
            let per_side = heap / (2 * PAIRS) + std::mem::size_of::<Connection>();
            println!(
                "idle_memory {} {suite}: {per_side} bytes per side ({} heap + {} struct)",
                provider.name,
                heap / (2 * PAIRS),
                std::mem::size_of::<Connection>()
            );
            assert!(
                per_side <= 2048,
                "{} {suite}: {per_side} bytes per idle side",
                provider.name
            );
            // The connections still work after releasing their memory.
            let (client, server) = pairs.last_mut().unwrap();
            client.send_message(b"wake up").unwrap();
            deliver(client, server);
            assert_eq!(server.recv_message().as_deref(), Some(&b"wake up"[..]));
        }
    }
}

#[test]
fn alloc_free_steady_state_for_single_record_messages() {
    let _serial = SERIAL.lock().unwrap();
    for provider in lwsec::crypto::providers() {
        for suite in Suite::ALL {
            let (c, s) = configs(suite, provider);
            let (mut client, mut server) = established(&c, &s);
            let mut wire = Vec::with_capacity(32 * 1024);
            let mut received = 0usize;
            let mut round = |client: &mut Connection, server: &mut Connection, size: usize| {
                let message = [7u8; 16 * 1024];
                client.send_message(&message[..size]).unwrap();
                wire.clear();
                wire.extend_from_slice(client.pending_output());
                client.consume_output(wire.len());
                let used = server.handle_input(&wire, NOW).unwrap();
                assert_eq!(used, wire.len());
                let got = server.recv_message().unwrap();
                assert_eq!(got.len(), size);
                received += got.len();
            };
            // Warm up: buffers grow to their working size.
            for size in [64, 1024, 16 * 1024, 64] {
                round(&mut client, &mut server, size);
            }
            let region = Region::new(GLOBAL);
            for _ in 0..100 {
                for size in [1, 64, 1024, 16 * 1024] {
                    round(&mut client, &mut server, size);
                }
            }
            let change = region.change();
            let allocations = change.allocations + change.reallocations;
            assert_eq!(
                allocations, 0,
                "{} {suite}: allocations in 400 messages",
                provider.name
            );
            assert!(received > 400);
        }
    }
}

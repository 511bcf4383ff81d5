//! Memory held by idle connections and heap allocations per message,
//! measured with a counting global allocator.
//!
//! The counters are per thread: the test harness (and any other test
//! thread) may allocate while a measurement runs, and only the measuring
//! thread's own allocations are the connection's.

// A global allocator needs `unsafe impl GlobalAlloc`; it only forwards to
// `System` and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use lwsec::rng::DeterministicRandom;
use lwsec::{ClientConfig, Connection, ServerConfig, StaticKeyPair, Suite, Time};

struct PerThreadCounting;

thread_local! {
    // `const` initialisers without destructors: reading them never
    // allocates, so the allocator may use them.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn count(allocations: usize, grown: usize, shrunk: usize) {
    // `try_with` fails only while the thread is being torn down.
    let _ = ALLOCATIONS.try_with(|a| a.set(a.get().wrapping_add(allocations)));
    let _ = LIVE_BYTES.try_with(|b| {
        b.set(
            b.get()
                .wrapping_add(grown as isize)
                .wrapping_sub(shrunk as isize),
        )
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments,
// which upholds the `GlobalAlloc` contract; the counters are only bookkeeping.
unsafe impl GlobalAlloc for PerThreadCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged from our caller.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(1, layout.size(), 0);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged from our caller.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(1, layout.size(), 0);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged from our caller.
        unsafe { System.dealloc(ptr, layout) };
        count(0, 0, layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged from our caller.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(1, new_size, layout.size());
        }
        p
    }
}

#[global_allocator]
static GLOBAL: PerThreadCounting = PerThreadCounting;

/// What this thread allocated since the region began.
struct Region {
    allocations: usize,
    live_bytes: isize,
}

impl Region {
    fn new() -> Self {
        Region {
            allocations: ALLOCATIONS.with(Cell::get),
            live_bytes: LIVE_BYTES.with(Cell::get),
        }
    }

    /// Allocations and reallocations made by this thread since `new`.
    fn allocations(&self) -> usize {
        ALLOCATIONS.with(Cell::get).wrapping_sub(self.allocations)
    }

    /// Bytes this thread allocated and has not freed since `new`.
    fn live_bytes(&self) -> usize {
        let now = LIVE_BYTES.with(Cell::get);
        usize::try_from(now.wrapping_sub(self.live_bytes)).unwrap_or(0)
    }
}

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
    server.accept_client(lwsec::Acceptance::new(), NOW).unwrap();
    deliver(&mut server, &mut client);
    deliver(&mut client, &mut server); // the key confirmation
    assert!(client.is_established() && server.is_established());
    while client.poll_event().is_some() {}
    while server.poll_event().is_some() {}
    (client, server)
}

#[test]
fn idle_memory_per_connection_is_at_most_2_kib() {
    const PAIRS: usize = 50;
    for provider in lwsec::crypto::providers() {
        for suite in Suite::ALL {
            let (c, s) = configs(suite, provider);
            let mut pairs = Vec::with_capacity(PAIRS);
            let message = vec![0x5a; 16 * 1024];
            let region = Region::new();
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
            let heap = region.live_bytes();
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
            let region = Region::new();
            for _ in 0..100 {
                for size in [1, 64, 1024, 16 * 1024] {
                    round(&mut client, &mut server, size);
                }
            }
            let allocations = region.allocations();
            assert_eq!(
                allocations, 0,
                "{} {suite}: allocations in 400 messages",
                provider.name
            );
            assert!(received > 400);
        }
    }
}

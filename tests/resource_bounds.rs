//! Memory bounds under attack, measured with a counting global allocator.
//!
//! The attacker is an authenticated but malicious peer (it holds the
//! traffic keys, so its records are genuine). Whatever it sends, the
//! receiving connection must not hold more than `max_message_size` plus
//! about one record of buffered data: huge announced lengths are refused
//! before anything is buffered, endless continuation fragments fail at
//! `max_message_size`, and floods of tiny messages, pings or key-update
//! requests make `handle_input` stop consuming until the application
//! takes messages and sends output.
//!
//! Everything measured runs in one `#[test]`, so no other test thread
//! allocates during a measurement.

// A global allocator needs `unsafe impl GlobalAlloc`; it only forwards to
// `System` and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use lwsec::{Connection, Padding, Side, Suite, TransportConfig};

use lwsec_test_support::peers::{self, MAX_MESSAGE, NOW};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(n: usize) {
    let now = CURRENT.fetch_add(n, Ordering::SeqCst) + n;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

fn shrink(n: usize) {
    CURRENT.fetch_sub(n, Ordering::SeqCst);
}

// SAFETY: every method forwards to `System` with the caller's arguments,
// which upholds the `GlobalAlloc` contract; the counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged from our caller.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged from our caller.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged from our caller.
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged from our caller.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            grow(new_size);
            shrink(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns the peak growth of allocated bytes during it.
fn peak_growth<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = CURRENT.load(Ordering::SeqCst);
    START.store(start, Ordering::SeqCst);
    HELD.store(0, Ordering::SeqCst);
    PEAK.store(start, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst).saturating_sub(start))
}

/// What a connection may hold between calls: one maximal message plus one
/// record of buffered input and one of output, plus bookkeeping.
const HELD_BOUND: usize = MAX_MESSAGE + 2 * lwsec::MAX_RECORD_LEN + 8 * 1024;
/// The transient peak inside a call may be higher: growing a buffer by
/// `realloc` briefly holds the old and the new allocation.
const PEAK_BOUND: usize = 2 * HELD_BOUND;

/// Most bytes allocated (above the start of the attack) seen between calls.
static HELD: AtomicUsize = AtomicUsize::new(0);
static START: AtomicUsize = AtomicUsize::new(0);

fn sample_held() {
    let now = CURRENT.load(Ordering::SeqCst);
    HELD.fetch_max(
        now.saturating_sub(START.load(Ordering::SeqCst)),
        Ordering::SeqCst,
    );
}

/// The attacker: an established peer of the victim whose own limits are huge.
fn attacker(suite: Suite) -> Connection {
    padded_attacker(suite, Padding::None)
}

fn padded_attacker(suite: Suite, padding: Padding) -> Connection {
    let mut t = TransportConfig::default();
    t.max_message_size = 64 << 20;
    t.padding = padding;
    Connection::dangerous_from_noise_split(
        lwsec::NoiseSplit::new(
            Side::Client,
            lwsec::Pattern::Nk,
            suite,
            &peers::K1,
            &peers::K2,
            [0x33; 32],
        ),
        t,
        NOW,
    )
    .unwrap()
}

fn victim(suite: Suite) -> Connection {
    peers::split_pair(suite, Padding::None).1
}

fn output(conn: &mut Connection) -> Vec<u8> {
    let out = conn.pending_output().to_vec();
    conn.consume_output(out.len());
    out
}

/// How the victim's application behaves.
#[derive(Clone, Copy, Debug)]
enum App {
    /// Offers 4 KiB reads and takes messages and output after each.
    Polite,
    /// Keeps offering the rest of its buffer without taking anything
    /// until `handle_input` consumes nothing.
    Greedy,
}

/// Feeds `stream` to `victim`; returns (bytes consumed, result).
fn attack(victim: &mut Connection, stream: &[u8], app: App) -> (usize, Result<(), lwsec::Error>) {
    let mut offset = 0;
    while offset < stream.len() {
        let end = match app {
            App::Polite => stream.len().min(offset + 4096),
            App::Greedy => stream.len(),
        };
        let result = victim.handle_input(&stream[offset..end], NOW);
        sample_held();
        match result {
            Ok(0) => match app {
                App::Greedy => return (offset, Ok(())),
                App::Polite => panic!("a polite application is never blocked"),
            },
            Ok(n) => offset += n,
            Err(e) => return (offset, Err(e)),
        }
        if let App::Polite = app {
            while victim.recv_message().is_some() {}
            let n = victim.pending_output().len();
            victim.consume_output(n);
        }
    }
    (offset, Ok(()))
}

struct Case {
    name: &'static str,
    stream: Vec<u8>,
    app: App,
    expect_error: Option<lwsec::Error>,
}

fn cases(suite: Suite) -> Vec<Case> {
    let mut cases = Vec::new();

    let mut huge = vec![0x17, 0xff, 0xff];
    huge.resize(1 << 20, 0);
    cases.push(Case {
        name: "huge announced length",
        stream: huge,
        app: App::Greedy,
        expect_error: Some(lwsec::Error::RecordOverflow),
    });

    let mut a = attacker(suite);
    a.send_message(&vec![7; 1 << 20]).unwrap();
    cases.push(Case {
        name: "endless continuation fragments",
        stream: output(&mut a),
        app: App::Polite,
        expect_error: Some(lwsec::Error::MessageTooLarge { limit: MAX_MESSAGE }),
    });

    for (name, len) in [
        ("many empty messages", 0),
        ("many 1-byte messages", 1),
        ("many 100-byte messages", 100),
    ] {
        let mut a = attacker(suite);
        for _ in 0..5_000 {
            a.send_message(&vec![1; len]).unwrap();
        }
        cases.push(Case {
            name,
            stream: output(&mut a),
            app: App::Greedy,
            expect_error: None,
        });
    }

    // Each 1-byte message in a record padded to 16 KiB: the message must
    // not keep the padded record's buffer alive.
    let mut a = padded_attacker(suite, Padding::MultipleOf(16384));
    for _ in 0..100 {
        a.send_message(&[5]).unwrap();
    }
    cases.push(Case {
        name: "many 1-byte messages padded to 16 KiB",
        stream: output(&mut a),
        app: App::Greedy,
        expect_error: None,
    });

    let mut a = attacker(suite);
    for _ in 0..4 {
        a.send_message(&vec![2; MAX_MESSAGE]).unwrap();
    }
    cases.push(Case {
        name: "many maximal messages",
        stream: output(&mut a),
        app: App::Greedy,
        expect_error: None,
    });

    let mut a = attacker(suite);
    for _ in 0..5_000 {
        a.ping(&[3; 64]).unwrap();
    }
    cases.push(Case {
        name: "ping flood, output never sent",
        stream: output(&mut a),
        app: App::Greedy,
        expect_error: None,
    });

    let mut a = attacker(suite);
    for _ in 0..5_000 {
        a.update_keys(true).unwrap();
    }
    cases.push(Case {
        name: "key update request flood, output never sent",
        stream: output(&mut a),
        app: App::Greedy,
        expect_error: None,
    });

    let mut a = attacker(suite);
    for _ in 0..5_000 {
        a.update_keys(false).unwrap();
    }
    cases.push(Case {
        name: "key update flood, events never polled",
        stream: output(&mut a),
        app: App::Greedy,
        expect_error: None,
    });

    // Unsolicited pongs, padded to 16 KiB: the attacker answers pings from
    // a twin of the victim (same keys).
    let mut a = padded_attacker(suite, Padding::MultipleOf(16384));
    let mut twin = victim(suite);
    for _ in 0..100 {
        twin.ping(&[6; 64]).unwrap();
    }
    let pings = output(&mut twin);
    assert_eq!(a.handle_input(&pings, NOW), Ok(pings.len()));
    cases.push(Case {
        name: "unsolicited padded pong flood, events never polled",
        stream: output(&mut a),
        app: App::Greedy,
        expect_error: None,
    });

    let mut a = attacker(suite);
    a.send_message(&vec![4; 16384]).unwrap();
    cases.push(Case {
        name: "maximal record one byte at a time",
        stream: output(&mut a),
        app: App::Polite,
        expect_error: None,
    });
    cases
}

#[test]
fn attacks_cannot_make_a_connection_hold_unbounded_memory() {
    for suite in Suite::ALL {
        for case in cases(suite) {
            let mut v = victim(suite);
            let stream_len = case.stream.len();
            let ((consumed, result), peak) = peak_growth(|| {
                if case.name.contains("one byte") {
                    let mut result = Ok(());
                    for b in case.stream.chunks(1) {
                        let r = v.handle_input(b, NOW);
                        sample_held();
                        if let Err(e) = r {
                            result = Err(e);
                            break;
                        }
                    }
                    (stream_len, result)
                } else {
                    attack(&mut v, &case.stream, case.app)
                }
            });
            let held = HELD.load(Ordering::SeqCst);
            eprintln!(
                "{suite:?} {}: consumed {consumed} of {stream_len} bytes, {result:?}, \
                 held at most {held} bytes (bound {HELD_BOUND}), transient peak {peak} (bound {PEAK_BOUND})",
                case.name
            );
            assert_eq!(result.err(), case.expect_error, "{}", case.name);
            assert!(
                held <= HELD_BOUND,
                "{suite:?} {}: held {held} > {HELD_BOUND}",
                case.name
            );
            assert!(
                peak <= PEAK_BOUND,
                "{suite:?} {}: peak growth {peak} > {PEAK_BOUND}",
                case.name
            );
            // The victim still works once the application catches up
            // (unless the attack made it fail).
            if v.error().is_none() {
                while v.recv_message().is_some() {}
                let n = v.pending_output().len();
                v.consume_output(n);
                let rest = &case.stream[consumed..];
                let (more, result) = attack(&mut v, rest, App::Polite);
                assert_eq!(result, Ok(()));
                assert_eq!(more, rest.len());
            }
        }
    }
}

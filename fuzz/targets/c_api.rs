//! The C API (`lwsec_*`, feature `ffi`, `include/lwsec.h`) driven through
//! its C signatures, in sequences the input chooses.
//!
//! Every call goes through the `unsafe extern "C"` functions exactly as a C
//! program would make it: handles are raw pointers, buffers are a pointer
//! and a length, out-parameters are pointers. The harness keeps to what the
//! header allows — a buffer pointer is either NULL or points to at least its
//! length of bytes, handles are live or NULL and never used after `_free` —
//! and the input chooses everything else: NULL pointers (with zero or
//! non-zero lengths), buffer lengths (0, one short, exact, one over, small,
//! large), chunk sizes, arbitrary bytes, and the order of calls, including
//! calls on a connection after `lwsec_conn_close` or after it failed.
//!
//! Input layout: one setup byte (bit 0 IK client, bit 1 the server enables
//! early data, bit 2 the server announces keys, bit 3 the server demands a
//! cookie, bit 4 restricted suites, bit 5 the server resumes sessions with
//! a ticket keyring), then operations, one opcode byte and
//! its arguments each (see [`World::step`]). Missing bytes read as zeros.
//!
//! Asserted for every call:
//! * the result is one of the header's codes, never `LWSEC_PANIC`;
//! * a required pointer that is NULL (a buffer of non-zero length, an
//!   out-parameter, a handle) gives `LWSEC_NULL_PARAMETER`;
//! * on failure, out-parameters and output buffers are untouched (they are
//!   pre-filled with sentinels); on success, bytes past `*out_written` are
//!   untouched and the counts are within the buffer;
//! * `LWSEC_BUFFER_TOO_SMALL` consumes nothing (the message, early data or
//!   output is still there, unchanged);
//! * a connection that failed (a code from 100 to 399 other than
//!   `LWSEC_CLOSED`) reports `LWSEC_STATE_FAILED` and returns that same code
//!   from every later action; after `lwsec_conn_close`, sends give
//!   `LWSEC_CLOSED` (or the fatal error);
//! * events, states, suites and patterns are known codes;
//!   `LWSEC_EVENT_CLIENT_HELLO` comes with `LWSEC_STATE_AWAITING_DECISION`
//!   and a readable `lwsec_conn_client_hello`; `consume_output` with an
//!   over-long count is `LWSEC_INVALID_PARAMETER` and consumes nothing;
//!   `take_output` copies exactly the pending bytes;
//! * resumption: `take_ticket` keeps the ticket on `BUFFER_TOO_SMALL` and
//!   hands it out once; a taken ticket set on the client configuration is
//!   accepted, arbitrary bytes are refused with `LWSEC_INVALID_PARAMETER`
//!   (or accepted only if they parse); `is_resumed` answers a boolean.
//!
//! Every handle is freed at the end of the input, so that LeakSanitizer
//! (the target runs under AddressSanitizer) sees any leak inside lwsec.
// The C API is called as C calls it: through raw pointers.
#![allow(unsafe_code, clippy::missing_safety_doc)]

use std::mem::MaybeUninit;
use std::ptr;

use lwsec::ffi::*;

use lwsec_test_support::fuzz_input::Input;
use lwsec_test_support::honest;

const NOW_MS: u64 = 1_767_225_600_000;
/// Most connections alive at once.
const MAX_CONNS: usize = 4;
/// Most operations per input.
const MAX_OPS: usize = 160;
/// Out-parameter sentinels.
const SENT_USIZE: usize = 0xdead_beef_5a5a_a5a5;
const SENT_U64: u64 = 0x5a5a_a5a5_dead_beef;
const SENT_U32: u32 = 0xdead_beef;
const SENT_U8: u8 = 0xa5;
/// Output buffers are filled with this before each call.
const FILL: u8 = 0xa5;

const OK: u32 = lwsec_result::LWSEC_OK as u32;
const NULL: u32 = lwsec_result::LWSEC_NULL_PARAMETER as u32;
const TOO_SMALL: u32 = lwsec_result::LWSEC_BUFFER_TOO_SMALL as u32;
const PANIC: u32 = lwsec_result::LWSEC_PANIC as u32;
const INVALID: u32 = lwsec_result::LWSEC_INVALID_PARAMETER as u32;
const NOT_AVAILABLE: u32 = lwsec_result::LWSEC_NOT_AVAILABLE as u32;
const CLOSED: u32 = lwsec_result::LWSEC_CLOSED as u32;

/// Whether `code` is a connection's fatal error.
fn is_fatal(code: u32) -> bool {
    (100..400).contains(&code) && code != CLOSED
}

/// Checks that `code` is one of the header's codes and not a caught panic.
fn known(what: &str, code: lwsec_result) -> u32 {
    let c = code as u32;
    assert!(
        lwsec_result::ALL.iter().any(|k| *k as u32 == c),
        "{what}: unknown result code {c}"
    );
    assert_ne!(c, PANIC, "{what}: a panic reached the C boundary");
    c
}

/// A buffer the input sized: `len` bytes pre-filled with [`FILL`], passed
/// as NULL when `null`.
struct Buf {
    bytes: Vec<u8>,
    null: bool,
}

impl Buf {
    fn new(len: usize, null: bool) -> Self {
        Self {
            bytes: vec![FILL; len],
            null,
        }
    }

    fn ptr(&mut self) -> *mut u8 {
        if self.null {
            ptr::null_mut()
        } else {
            self.bytes.as_mut_ptr()
        }
    }

    fn len(&self) -> usize {
        self.bytes.len()
    }

    /// A NULL pointer with a non-zero length.
    fn bad(&self) -> bool {
        self.null && !self.bytes.is_empty()
    }

    fn untouched_from(&self, at: usize) -> bool {
        self.bytes
            .get(at..)
            .unwrap_or_default()
            .iter()
            .all(|b| *b == FILL)
    }
}

/// Input bytes: `data`, passed as NULL when `null`.
fn in_ptr(data: &[u8], null: bool) -> *const u8 {
    if null { ptr::null() } else { data.as_ptr() }
}

/// An out-parameter, pre-filled with a sentinel, passed as NULL when `null`.
struct Out<T: Copy> {
    value: T,
    sentinel: T,
    null: bool,
}

impl<T: Copy + PartialEq + std::fmt::Debug> Out<T> {
    fn new(sentinel: T, null: bool) -> Self {
        Self {
            value: sentinel,
            sentinel,
            null,
        }
    }

    fn ptr(&mut self) -> *mut T {
        if self.null {
            ptr::null_mut()
        } else {
            &mut self.value
        }
    }

    fn untouched(&self, what: &str) {
        assert_eq!(
            self.value, self.sentinel,
            "{what}: out-parameter written on failure"
        );
    }
}

/// One connection handle and what the harness knows about it.
struct Slot {
    conn: *mut lwsec_conn,
    server: bool,
    /// The fatal error it failed with.
    fatal: Option<u32>,
    /// `lwsec_conn_close` returned `LWSEC_OK`.
    closed: bool,
    /// Bytes from a peer not yet consumed.
    wire: Vec<u8>,
}

/// Everything an input created.
struct World {
    /// Key pairs: the server's, the client's, a second server key.
    keys: Vec<*mut lwsec_key_pair>,
    client_config: *mut lwsec_client_config,
    server_config: *mut lwsec_server_config,
    conns: Vec<Slot>,
    now: u64,
    outcome: Outcome,
    /// The server's ticket keyring (setup bit 5), or NULL.
    keyring: *mut lwsec_ticket_keyring,
    /// The last ticket a client handed out (`lwsec_conn_take_ticket`).
    ticket: Vec<u8>,
}

/// What an input did, for the tests that check the target itself.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// `LWSEC_EVENT_HANDSHAKE_COMPLETE` events.
    pub handshakes: usize,
    /// Clients accepted and rejected at the decision point.
    pub accepted: usize,
    /// See [`Outcome::accepted`].
    pub rejected: usize,
    /// Messages received with `lwsec_conn_recv_message`.
    pub messages: usize,
    /// Fatal codes connections failed with, in order.
    pub failures: Vec<u32>,
    /// Tickets taken with `lwsec_conn_take_ticket`.
    pub tickets: usize,
    /// `lwsec_conn_is_resumed` answers that were true.
    pub resumed: usize,
}

/// Runs one input.
pub fn run(data: &[u8]) {
    run_outcome(data);
}

/// Runs one input and says what happened.
pub fn run_outcome(data: &[u8]) -> Outcome {
    let mut input = Input::new(data);
    let mut world = World::new(input.u8());
    let mut ops = 0;
    while !input.is_empty() && ops < MAX_OPS {
        world.step(&mut input);
        ops += 1;
    }
    world.finish()
}

/// A length chosen by the input around `exact`: 0, one short, exact, one
/// over, small or large.
fn choose_len(input: &mut Input<'_>, exact: usize) -> usize {
    match input.u8() % 8 {
        0 => 0,
        1 => exact.saturating_sub(1),
        2 | 3 => exact,
        4 => exact + 1,
        5 => usize::from(input.u8()),
        6 => 70_000,
        _ => exact + usize::from(input.u8()),
    }
}

/// NULL is chosen for about one pointer in sixteen.
fn choose_null(input: &mut Input<'_>) -> bool {
    input.u8() % 16 == 15
}

fn key_pair(private: [u8; 32]) -> *mut lwsec_key_pair {
    let mut out: *mut lwsec_key_pair = ptr::null_mut();
    let code = known("key_pair_from_bytes", unsafe {
        lwsec_key_pair_from_bytes(private.as_ptr(), 32, &mut out)
    });
    assert_eq!(code, OK);
    assert!(!out.is_null());
    out
}

fn public_key(key: *const lwsec_key_pair) -> [u8; 32] {
    let mut buf = [0u8; 32];
    let mut written = SENT_USIZE;
    let code = known("key_pair_public_key", unsafe {
        lwsec_key_pair_public_key(key, buf.as_mut_ptr(), 32, &mut written)
    });
    assert_eq!((code, written), (OK, 32));
    buf
}

impl World {
    fn new(setup: u8) -> Self {
        let keys = vec![
            key_pair([0x11; 32]),
            key_pair([0x22; 32]),
            key_pair([0x33; 32]),
        ];
        let server_public = public_key(keys[0]);
        let mut client_config = ptr::null_mut();
        let code = if setup & 1 != 0 {
            known("client_config_new_ik", unsafe {
                lwsec_client_config_new_ik(server_public.as_ptr(), 32, keys[1], &mut client_config)
            })
        } else {
            known("client_config_new_nk", unsafe {
                lwsec_client_config_new_nk(server_public.as_ptr(), 32, &mut client_config)
            })
        };
        assert_eq!(code, OK);
        let mut server_config = ptr::null_mut();
        let code = known("server_config_new", unsafe {
            lwsec_server_config_new(keys[0], &mut server_config)
        });
        assert_eq!(code, OK);
        if setup & 2 != 0 {
            let code = known("enable_early_data", unsafe {
                lwsec_server_config_enable_early_data(server_config, 10_000)
            });
            assert_eq!(code, OK);
        }
        if setup & 4 != 0 {
            let second = public_key(keys[2]);
            let announced = [server_public, second].concat();
            let code = known("announce_server_keys", unsafe {
                lwsec_server_config_announce_server_keys(
                    server_config,
                    announced.as_ptr(),
                    announced.len(),
                )
            });
            assert_eq!(code, OK);
        }
        if setup & 16 != 0 {
            let code = known("set_suites", unsafe {
                lwsec_server_config_set_suites(server_config, [2u8].as_ptr(), 1)
            });
            assert_eq!(code, OK);
        }
        let mut keyring = ptr::null_mut();
        if setup & 32 != 0 {
            let code = known("ticket_keyring_new", unsafe {
                lwsec_ticket_keyring_new([0x44; 32].as_ptr(), 32, ptr::null(), 0, &mut keyring)
            });
            assert_eq!(code, OK);
            let code = known("enable_resumption", unsafe {
                lwsec_server_config_enable_resumption(server_config, keyring)
            });
            assert_eq!(code, OK);
        }
        let mut world = Self {
            keys,
            client_config,
            server_config,
            conns: Vec::new(),
            now: NOW_MS,
            outcome: Outcome::default(),
            keyring,
            ticket: Vec::new(),
        };
        // A client and a server to start with.
        world.new_conn(false, 0);
        world.new_conn(true, if setup & 8 != 0 { 2 } else { 0 });
        world
    }

    /// Creates a connection: client, or server with `options` (0: plain,
    /// 1: with an address, 2: with an address and a demanded cookie).
    fn new_conn(&mut self, server: bool, options: u8) {
        if self.conns.len() >= MAX_CONNS {
            return;
        }
        let mut out: *mut lwsec_conn = ptr::null_mut();
        let code = unsafe {
            if !server {
                known(
                    "conn_new_client",
                    lwsec_conn_new_client(self.client_config, self.now, &mut out),
                )
            } else if options == 0 {
                known(
                    "conn_new_server",
                    lwsec_conn_new_server(self.server_config, self.now, &mut out),
                )
            } else {
                let address = b"198.51.100.7:4433";
                known(
                    "conn_new_server_with_options",
                    lwsec_conn_new_server_with_options(
                        self.server_config,
                        self.now,
                        address.as_ptr(),
                        address.len(),
                        options == 2,
                        &mut out,
                    ),
                )
            }
        };
        if code == OK {
            assert!(!out.is_null());
            self.conns.push(Slot {
                conn: out,
                server,
                fatal: None,
                closed: false,
                wire: Vec::new(),
            });
        } else {
            assert!(out.is_null(), "conn_new: handle written on failure");
        }
    }

    /// The slot the input names, if any connection exists.
    fn pick(&self, input: &mut Input<'_>) -> Option<usize> {
        let n = self.conns.len();
        let b = usize::from(input.u8());
        (n > 0).then(|| b % n)
    }

    /// Records the result of a call on connection `i`: a fatal code is
    /// sticky and the state is then FAILED.
    fn note(&mut self, i: usize, what: &str, code: u32) {
        if !is_fatal(code) {
            return;
        }
        let slot = &mut self.conns[i];
        match slot.fatal {
            Some(f) => assert_eq!(code, f, "{what}: a failed connection changed its error"),
            None => {
                slot.fatal = Some(code);
                self.outcome.failures.push(code);
            }
        }
        assert_eq!(
            self.state(i),
            Some(lwsec_handshake_state::LWSEC_STATE_FAILED as u32),
            "{what}: failed with {code}, state not FAILED"
        );
    }

    /// A connection that failed returns its error from every action.
    fn expect_sticky(&self, i: usize, what: &str, code: u32) {
        if let Some(f) = self.conns[i].fatal {
            assert_eq!(code, f, "{what} after failure {f}");
        }
    }

    fn state(&self, i: usize) -> Option<u32> {
        let mut state = Out::new(SENT_U32, false);
        let code = known("handshake_state", unsafe {
            lwsec_conn_handshake_state(self.conns[i].conn, state.ptr().cast())
        });
        assert_eq!(code, OK, "handshake_state");
        assert!(state.value <= 4, "unknown state {}", state.value);
        Some(state.value)
    }

    /// The pending output of connection `i`, read with
    /// `lwsec_conn_pending_output` (copied at once: the pointer is valid
    /// only until the next call).
    fn pending(&self, i: usize) -> Vec<u8> {
        let mut data: *const u8 = ptr::null();
        let mut len = SENT_USIZE;
        let code = known("pending_output", unsafe {
            lwsec_conn_pending_output(self.conns[i].conn, &mut data, &mut len)
        });
        assert_eq!(code, OK, "pending_output");
        assert_ne!(len, SENT_USIZE);
        if len == 0 {
            return Vec::new();
        }
        assert!(!data.is_null());
        // SAFETY: the API's promise: `len` bytes at `data` until the next call.
        unsafe { std::slice::from_raw_parts(data, len) }.to_vec()
    }

    /// Feeds `bytes` to connection `i` in chunks of `chunk`; returns how
    /// many were consumed.
    fn feed(&mut self, i: usize, bytes: &[u8], chunk: usize, null: bool) -> usize {
        let chunk = chunk.max(1);
        let mut offset = 0;
        while offset < bytes.len() {
            let end = bytes.len().min(offset.saturating_add(chunk));
            let piece = &bytes[offset..end];
            let mut consumed = Out::new(SENT_USIZE, false);
            let code = known("handle_input", unsafe {
                lwsec_conn_handle_input(
                    self.conns[i].conn,
                    in_ptr(piece, null),
                    piece.len(),
                    self.now,
                    consumed.ptr(),
                )
            });
            if null {
                assert_eq!(code, NULL, "handle_input: NULL data");
                consumed.untouched("handle_input");
                return offset;
            }
            self.expect_sticky(i, "handle_input", code);
            self.note(i, "handle_input", code);
            if code != OK {
                consumed.untouched("handle_input");
                return offset;
            }
            assert!(consumed.value <= piece.len(), "consumed more than offered");
            offset += consumed.value;
            if consumed.value == 0 {
                break;
            }
        }
        offset
    }

    /// Polls every event of connection `i`; answers a decision when
    /// `decide` says so.
    fn events(&mut self, i: usize, decide: Option<u8>) {
        for _ in 0..64 {
            let mut event = Out::new(SENT_U32, false);
            let code = known("poll_event", unsafe {
                lwsec_conn_poll_event(self.conns[i].conn, event.ptr().cast())
            });
            assert_eq!(code, OK, "poll_event");
            assert!(event.value <= 10, "unknown event {}", event.value);
            match event.value {
                0 => return,
                1 => self.outcome.handshakes += 1,
                10 => assert!(!self.conns[i].server, "RESUMPTION_TICKET on a server"),
                8 => {
                    assert!(self.conns[i].server, "CLIENT_HELLO on a client");
                    // Unless the decision was made before the event was polled.
                    if self.state(i)
                        == Some(lwsec_handshake_state::LWSEC_STATE_AWAITING_DECISION as u32)
                    {
                        self.client_hello(i, false);
                        if let Some(how) = decide {
                            self.decide(i, how, b"device-7", false);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// `lwsec_conn_client_hello`, with a sentinel-filled struct.
    fn client_hello(&mut self, i: usize, null: bool) {
        let mut info = MaybeUninit::<lwsec_client_hello_info>::uninit();
        let size = std::mem::size_of::<lwsec_client_hello_info>();
        // SAFETY: `info` has room for `size` bytes.
        unsafe { ptr::write_bytes(info.as_mut_ptr().cast::<u8>(), SENT_U8, size) };
        let p = if null {
            ptr::null_mut()
        } else {
            info.as_mut_ptr()
        };
        let code = known("client_hello", unsafe {
            lwsec_conn_client_hello(self.conns[i].conn, p)
        });
        // SAFETY: the bytes were initialised above (sentinels) or by the call.
        let raw = unsafe { std::slice::from_raw_parts(info.as_ptr().cast::<u8>(), size) };
        if code != OK {
            assert!(
                raw.iter().all(|b| *b == SENT_U8),
                "client_hello: written on failure"
            );
            if null {
                assert_eq!(code, NULL);
            } else {
                assert_eq!(code, NOT_AVAILABLE, "client_hello");
                assert_ne!(
                    self.state(i),
                    Some(lwsec_handshake_state::LWSEC_STATE_AWAITING_DECISION as u32),
                    "client_hello: NOT_AVAILABLE while a decision is pending"
                );
            }
            return;
        }
        // SAFETY: written by a successful call.
        let info = unsafe { info.assume_init() };
        assert!(matches!(info.pattern, 1 | 2) && matches!(info.suite, 1 | 2));
        assert_eq!(info.has_client_key, info.pattern == 2);
        if info.early_data_offered {
            assert!(info.early_data_len <= 8192);
        }
        assert_eq!(
            self.state(i),
            Some(lwsec_handshake_state::LWSEC_STATE_AWAITING_DECISION as u32)
        );
    }

    /// Accepts (`how` even) or rejects (odd, with reason `how / 2`).
    fn decide(&mut self, i: usize, how: u8, identity: &[u8], null: bool) {
        let deciding =
            self.state(i) == Some(lwsec_handshake_state::LWSEC_STATE_AWAITING_DECISION as u32);
        if how % 2 == 0 {
            let code = known("accept_client", unsafe {
                lwsec_conn_accept_client(
                    self.conns[i].conn,
                    in_ptr(identity, null),
                    identity.len(),
                    how & 2 != 0,
                    self.now,
                )
            });
            if null && !identity.is_empty() {
                assert_eq!(code, NULL, "accept_client: NULL identity");
                return;
            }
            if identity.len() > 256 {
                assert_eq!(code, INVALID, "accept_client: identity over 256 bytes");
                return;
            }
            self.expect_sticky(i, "accept_client", code);
            self.note(i, "accept_client", code);
            if deciding {
                assert!(code == OK || is_fatal(code), "accept_client: {code}");
                self.outcome.accepted += usize::from(code == OK);
            } else if self.conns[i].fatal.is_none() {
                assert!(
                    code == lwsec_result::LWSEC_HANDSHAKE_NOT_COMPLETE as u32 || code == CLOSED,
                    "accept_client without a decision pending: {code}"
                );
            }
        } else {
            let reason = u32::from(how / 2) % 4;
            let code = known("reject_client", unsafe {
                lwsec_conn_reject_client(self.conns[i].conn, reason)
            });
            if !matches!(reason, 1 | 2) {
                assert_eq!(code, INVALID, "reject_client: unknown reason");
                return;
            }
            // A connection already rejected returns its error (it used to
            // return LWSEC_OK: `c_api_reject_client_twice` in
            // tests/fuzz_corpus.rs).
            self.expect_sticky(i, "reject_client", code);
            self.note(i, "reject_client", code);
            if deciding && code == OK {
                self.outcome.rejected += 1;
                let f = lwsec_result::LWSEC_CLIENT_REJECTED as u32;
                let check = known("reject_client: handle_eof", unsafe {
                    lwsec_conn_handle_eof(self.conns[i].conn)
                });
                assert_eq!(check, f, "a rejected client's connection");
                self.note(i, "reject_client", f);
            }
        }
    }

    /// Moves connection `from`'s output to `to`'s wire: with
    /// `take_output` into buffers of an input-chosen size, or with
    /// `pending_output` / `consume_output`.
    fn transmit(&mut self, from: usize, to: usize, input: &mut Input<'_>) {
        let mode = input.u8();
        for _ in 0..64 {
            let pending = self.pending(from);
            if pending.is_empty() {
                return;
            }
            if mode % 2 == 0 {
                let len = choose_len(input, pending.len()).max(1);
                let mut buf = Buf::new(len, false);
                let mut written = Out::new(SENT_USIZE, false);
                let code = known("take_output", unsafe {
                    lwsec_conn_take_output(
                        self.conns[from].conn,
                        buf.ptr(),
                        buf.len(),
                        written.ptr(),
                    )
                });
                assert_eq!(code, OK, "take_output");
                let n = written.value;
                assert_eq!(n, pending.len().min(len), "take_output count");
                assert!(buf.bytes[..n] == pending[..n], "take_output bytes");
                assert!(buf.untouched_from(n), "take_output wrote past its count");
                self.conns[to].wire.extend_from_slice(&buf.bytes[..n]);
            } else {
                // An over-long count consumes nothing.
                let over = known("consume_output", unsafe {
                    lwsec_conn_consume_output(self.conns[from].conn, pending.len() + 1)
                });
                assert_eq!(over, INVALID, "consume_output past the end");
                assert_eq!(self.pending(from), pending, "consume_output consumed");
                let n = choose_len(input, pending.len()).clamp(1, pending.len());
                let code = known("consume_output", unsafe {
                    lwsec_conn_consume_output(self.conns[from].conn, n)
                });
                assert_eq!(code, OK, "consume_output");
                self.conns[to].wire.extend_from_slice(&pending[..n]);
            }
        }
    }

    /// Delivers connection `i`'s wire in chunks of `chunk`.
    fn deliver(&mut self, i: usize, chunk: usize, decide: Option<u8>) {
        for _ in 0..8 {
            let wire = std::mem::take(&mut self.conns[i].wire);
            let n = self.feed(i, &wire, chunk, false);
            self.conns[i].wire = wire[n..].to_vec();
            self.events(i, decide);
            self.drain_messages(i);
            if n == 0 || self.conns[i].wire.is_empty() {
                return;
            }
        }
    }

    /// Takes every received message with exact buffers.
    fn drain_messages(&mut self, i: usize) {
        for _ in 0..64 {
            let mut len = Out::new(SENT_USIZE, false);
            let code = known("next_message_len", unsafe {
                lwsec_conn_next_message_len(self.conns[i].conn, len.ptr())
            });
            if code != OK {
                len.untouched("next_message_len");
                assert_eq!(code, NOT_AVAILABLE, "next_message_len");
                return;
            }
            self.recv(i, len.value, len.value, false);
        }
    }

    /// `recv_message` into a buffer of `buf_len` bytes when the next
    /// message has `next` bytes.
    fn recv(&mut self, i: usize, next: usize, buf_len: usize, null: bool) {
        let mut buf = Buf::new(buf_len, null);
        let mut written = Out::new(SENT_USIZE, false);
        let code = known("recv_message", unsafe {
            lwsec_conn_recv_message(self.conns[i].conn, buf.ptr(), buf.len(), written.ptr())
        });
        if buf.bad() {
            assert_eq!(code, NULL, "recv_message: NULL buffer");
        }
        if code != OK {
            written.untouched("recv_message");
            assert!(buf.untouched_from(0), "recv_message: written on failure");
            if code == TOO_SMALL {
                assert!(
                    buf_len < next,
                    "recv_message: too small for {next} in {buf_len}"
                );
                let mut again = Out::new(SENT_USIZE, false);
                let c = known("next_message_len", unsafe {
                    lwsec_conn_next_message_len(self.conns[i].conn, again.ptr())
                });
                assert_eq!(
                    (c, again.value),
                    (OK, next),
                    "BUFFER_TOO_SMALL consumed the message"
                );
            }
            return;
        }
        assert_eq!(written.value, next, "recv_message length");
        self.outcome.messages += 1;
        assert!(
            buf.untouched_from(next),
            "recv_message wrote past the message"
        );
    }

    /// A getter with an output buffer: checks the sentinels and returns
    /// the code and the bytes written.
    fn getter(
        &mut self,
        i: usize,
        what: &str,
        f: unsafe extern "C" fn(*mut lwsec_conn, *mut u8, usize, *mut usize) -> lwsec_result,
        len: usize,
        null: bool,
        null_out: bool,
    ) -> (u32, Vec<u8>) {
        let mut buf = Buf::new(len, null);
        let mut written = Out::new(SENT_USIZE, null_out);
        let code = known(what, unsafe {
            f(self.conns[i].conn, buf.ptr(), buf.len(), written.ptr())
        });
        if buf.bad() || null_out {
            assert_eq!(code, NULL, "{what}: NULL pointer");
        }
        self.note(i, what, code);
        if code != OK {
            written.untouched(what);
            assert!(buf.untouched_from(0), "{what}: written on failure");
            return (code, Vec::new());
        }
        let n = written.value;
        assert!(n <= len, "{what}: count {n} over the buffer {len}");
        assert!(buf.untouched_from(n), "{what}: wrote past its count");
        (code, buf.bytes[..n].to_vec())
    }

    /// One operation: `opcode % 24` and its arguments.
    fn step(&mut self, input: &mut Input<'_>) {
        let op = input.u8() % 24;
        // Operations that create or need no connection.
        match op {
            20 => {
                let server = input.u8() & 1 != 0;
                let options = input.u8() % 3;
                self.new_conn(server, options);
                return;
            }
            21 => return self.config_op(input),
            22 => return self.key_op(input),
            _ => {}
        }
        let Some(i) = self.pick(input) else {
            return;
        };
        match op {
            // Arbitrary bytes to a connection, in chunks.
            0 => {
                let len = usize::from(input.u16() % 4096);
                let bytes = input.bytes(len);
                let chunk = usize::from(input.u8()) + 1;
                let null = choose_null(input);
                self.feed(i, &bytes, chunk, null);
            }
            // A connection's output onto another's wire.
            1 => {
                let Some(to) = self.pick(input) else { return };
                self.transmit(i, to, input);
            }
            // The wire delivered in chunks (decisions answered or not).
            2 => {
                let chunk = match input.u8() {
                    0 => usize::MAX,
                    c => usize::from(c),
                };
                let decide = input.u8();
                let decide = (decide & 0x80 == 0).then_some(decide);
                self.deliver(i, chunk, decide);
            }
            // A bit of the wire flipped.
            3 => {
                let at = usize::from(input.u16());
                let bit = input.u8() % 8;
                let wire = &mut self.conns[i].wire;
                if !wire.is_empty() {
                    let at = at % wire.len();
                    wire[at] ^= 1 << bit;
                }
            }
            // Events (and decisions).
            4 => {
                let decide = input.u8();
                self.events(i, (decide & 0x80 == 0).then_some(decide));
            }
            // The decision, explicitly.
            5 => {
                let how = input.u8();
                let len = choose_len(input, 8);
                let identity = honest::honest_message(5, len.min(300));
                let null = choose_null(input);
                self.decide(i, how, &identity, null);
            }
            6 => {
                let null = choose_null(input);
                self.client_hello(i, null);
            }
            // Send a message.
            7 => {
                let len = usize::from(input.u16()) + usize::from(input.u8() & 1) * 60_000;
                let data = honest::honest_message(7, len);
                let null = choose_null(input);
                let code = known("send_message", unsafe {
                    lwsec_conn_send_message(self.conns[i].conn, in_ptr(&data, null), len)
                });
                if null && len > 0 {
                    assert_eq!(code, NULL, "send_message: NULL data");
                    return;
                }
                self.expect_sticky(i, "send_message", code);
                if self.conns[i].closed && self.conns[i].fatal.is_none() {
                    assert_eq!(code, CLOSED, "send_message after close");
                }
                self.note(i, "send_message", code);
            }
            // Receive with a chosen buffer.
            8 => {
                let mut next = Out::new(SENT_USIZE, false);
                let code = known("next_message_len", unsafe {
                    lwsec_conn_next_message_len(self.conns[i].conn, next.ptr())
                });
                let next = if code == OK { next.value } else { 0 };
                let len = choose_len(input, next);
                let null = choose_null(input);
                self.recv(i, next, len, null);
            }
            // Stream view.
            9 => {
                let len = choose_len(input, 100);
                let null = choose_null(input);
                self.getter(i, "read", lwsec_conn_read, len, null, false);
            }
            // Buffer getters.
            10 => {
                let which = input.u8() % 9;
                let (what, f, exact): (
                    &str,
                    unsafe extern "C" fn(
                        *mut lwsec_conn,
                        *mut u8,
                        usize,
                        *mut usize,
                    ) -> lwsec_result,
                    usize,
                ) = match which {
                    0 => ("take_early_data", lwsec_conn_take_early_data, 64),
                    1 => (
                        "announced_server_keys",
                        lwsec_conn_announced_server_keys,
                        64,
                    ),
                    2 => ("peer_identity", lwsec_conn_peer_identity, 8),
                    3 => ("peer_static_key", lwsec_conn_peer_static_key, 32),
                    4 => ("handshake_hash", lwsec_conn_handshake_hash, 32),
                    5 => ("take_output", lwsec_conn_take_output, 64),
                    7 => ("take_ticket", lwsec_conn_take_ticket, 1071),
                    8 => (
                        "client_hello_ticket_identity",
                        lwsec_conn_client_hello_ticket_identity,
                        8,
                    ),
                    _ => ("last_error", last_error, 64),
                };
                let len = choose_len(input, exact);
                let null = choose_null(input);
                let null_out = choose_null(input);
                let (code, data) = self.getter(i, what, f, len, null, null_out);
                if which == 7 {
                    if code == TOO_SMALL {
                        // Nothing taken: the ticket is still there, once.
                        let (again, data) = self.getter(i, what, f, 1071, false, false);
                        assert_eq!(again, OK, "take_ticket after BUFFER_TOO_SMALL");
                        assert!(data.len() > len);
                        self.took_ticket(i, data);
                    } else if code == OK {
                        self.took_ticket(i, data);
                    }
                }
                if code == TOO_SMALL && which == 0 {
                    // Nothing taken: the early data is still there.
                    let (again, data) = self.getter(i, what, f, 8192, false, false);
                    assert_eq!(again, OK, "take_early_data after BUFFER_TOO_SMALL");
                    assert!(data.len() > len);
                }
            }
            // Scalar getters.
            11 => {
                let null = choose_null(input);
                let conn = self.conns[i].conn;
                match input.u8() % 6 {
                    5 => {
                        let mut r = Out::new(SENT_U8, null);
                        let code = known("is_resumed", unsafe {
                            lwsec_conn_is_resumed(conn, r.ptr().cast())
                        });
                        if null {
                            assert_eq!(code, NULL);
                        }
                        if code == OK {
                            assert!(r.value <= 1, "is_resumed: not a bool");
                            self.outcome.resumed += usize::from(r.value);
                        } else {
                            r.untouched("is_resumed");
                        }
                    }
                    0 => {
                        let mut code8 = Out::new(SENT_U8, null);
                        let mut auth = Out::new(SENT_U8, false);
                        let code = known("peer_alert", unsafe {
                            lwsec_conn_peer_alert(conn, code8.ptr(), auth.ptr().cast())
                        });
                        if null {
                            assert_eq!(code, NULL);
                        }
                        if code == OK {
                            assert!(auth.value <= 1, "peer_alert: not a bool");
                            assert_eq!(
                                self.conns[i].fatal,
                                Some(lwsec_result::LWSEC_PEER_ALERT as u32)
                            );
                        } else {
                            code8.untouched("peer_alert");
                            auth.untouched("peer_alert");
                        }
                    }
                    1 => {
                        let mut s = Out::new(SENT_U8, null);
                        let code = known("suite", unsafe { lwsec_conn_suite(conn, s.ptr()) });
                        self.note(i, "suite", code);
                        if code == OK {
                            assert!(matches!(s.value, 1 | 2));
                        } else {
                            s.untouched("suite");
                        }
                    }
                    2 => {
                        let mut p = Out::new(SENT_U8, null);
                        let code = known("pattern", unsafe { lwsec_conn_pattern(conn, p.ptr()) });
                        self.note(i, "pattern", code);
                        if code == OK {
                            assert!(matches!(p.value, 1 | 2));
                        } else {
                            p.untouched("pattern");
                        }
                    }
                    3 => {
                        let mut d = Out::new(SENT_U64, null);
                        let code = known("poll_timeout", unsafe {
                            lwsec_conn_poll_timeout(conn, d.ptr())
                        });
                        if code != OK {
                            d.untouched("poll_timeout");
                        }
                    }
                    _ => {
                        let mut s = Out::new(SENT_U32, null);
                        let code = known("handshake_state", unsafe {
                            lwsec_conn_handshake_state(conn, s.ptr().cast())
                        });
                        if code == OK {
                            assert!(s.value <= 4);
                            if self.conns[i].fatal.is_some() {
                                assert_eq!(
                                    s.value,
                                    lwsec_handshake_state::LWSEC_STATE_FAILED as u32
                                );
                            }
                        } else {
                            s.untouched("handshake_state");
                        }
                    }
                }
            }
            // Key update.
            12 => {
                let request = input.u8() & 1 != 0;
                let code = known("update_keys", unsafe {
                    lwsec_conn_update_keys(self.conns[i].conn, request)
                });
                self.expect_sticky(i, "update_keys", code);
                if self.conns[i].closed && self.conns[i].fatal.is_none() {
                    assert_eq!(code, CLOSED, "update_keys after close");
                }
                self.note(i, "update_keys", code);
            }
            // Ping.
            13 => {
                let len = usize::from(input.u8() % 80);
                let payload = honest::honest_message(13, len);
                let null = choose_null(input);
                let code = known("ping", unsafe {
                    lwsec_conn_ping(self.conns[i].conn, in_ptr(&payload, null), len)
                });
                if null && len > 0 {
                    assert_eq!(code, NULL);
                    return;
                }
                if len > 64 {
                    assert_eq!(code, INVALID, "ping: payload over 64 bytes");
                    return;
                }
                self.expect_sticky(i, "ping", code);
                self.note(i, "ping", code);
            }
            // Exporter with odd lengths.
            14 => {
                let label = honest::honest_message(14, choose_len(input, 12).min(300));
                let context = honest::honest_message(15, choose_len(input, 7).min(300));
                let out_len = choose_len(input, 33).min(9000);
                let nulls = input.u8();
                let mut out = Buf::new(out_len, nulls & 4 != 0 && nulls & 0x70 == 0x70);
                let null_label = nulls & 1 != 0 && nulls & 0x70 == 0x70;
                let null_context = nulls & 2 != 0 && nulls & 0x70 == 0x70;
                let code = known("export_keying_material", unsafe {
                    lwsec_conn_export_keying_material(
                        self.conns[i].conn,
                        in_ptr(&label, null_label),
                        label.len(),
                        in_ptr(&context, null_context),
                        context.len(),
                        out.ptr(),
                        out.len(),
                    )
                });
                if out.bad()
                    || (null_label && !label.is_empty())
                    || (null_context && !context.is_empty())
                {
                    assert_eq!(code, NULL, "export: NULL pointer");
                }
                if code != OK {
                    assert!(out.untouched_from(0), "export: written on failure");
                } else {
                    assert!(!label.is_empty() && label.len() <= 249 && out_len <= 8160);
                }
            }
            // Close.
            15 => {
                let code = known("close", unsafe { lwsec_conn_close(self.conns[i].conn) });
                self.expect_sticky(i, "close", code);
                if code == OK {
                    self.conns[i].closed = true;
                }
                self.note(i, "close", code);
            }
            // End of stream.
            16 => {
                let code = known("handle_eof", unsafe {
                    lwsec_conn_handle_eof(self.conns[i].conn)
                });
                self.expect_sticky(i, "handle_eof", code);
                self.note(i, "handle_eof", code);
            }
            // Timers: time passes.
            17 => {
                self.now += u64::from(input.u16()) * 100;
                let code = known("handle_timeout", unsafe {
                    lwsec_conn_handle_timeout(self.conns[i].conn, self.now)
                });
                self.expect_sticky(i, "handle_timeout", code);
                self.note(i, "handle_timeout", code);
            }
            // Free a connection (its slot is forgotten: never used again).
            18 => {
                let slot = self.conns.swap_remove(i);
                unsafe { lwsec_conn_free(slot.conn) };
            }
            // NULL handles.
            19 => {
                let mut written = Out::new(SENT_USIZE, false);
                let mut buf = [FILL; 8];
                let code = known("take_output(NULL)", unsafe {
                    lwsec_conn_take_output(ptr::null_mut(), buf.as_mut_ptr(), 8, written.ptr())
                });
                assert_eq!(code, NULL);
                written.untouched("take_output(NULL)");
                let code = known("handle_eof(NULL)", unsafe {
                    lwsec_conn_handle_eof(ptr::null_mut())
                });
                assert_eq!(code, NULL);
                unsafe {
                    lwsec_conn_free(ptr::null_mut());
                    lwsec_client_config_free(ptr::null_mut());
                    lwsec_server_config_free(ptr::null_mut());
                    lwsec_key_pair_free(ptr::null_mut());
                }
            }
            // Honest round trip: everything in flight both ways.
            _ => {
                let Some(j) = self.pick(input) else { return };
                let decide = input.u8();
                // Exact buffers (`choose_len` selector 2).
                let exact = [1u8, 2];
                for _ in 0..4 {
                    self.transmit(i, j, &mut Input::new(&exact));
                    self.deliver(j, usize::MAX, Some(decide & 0x7e));
                    self.transmit(j, i, &mut Input::new(&exact));
                    self.deliver(i, usize::MAX, Some(decide & 0x7e));
                }
            }
        }
    }

    /// Configuration setters, on the shared configurations (connections
    /// hold their own reference, so changes affect new connections only).
    fn config_op(&mut self, input: &mut Input<'_>) {
        let len = usize::from(input.u8() % 40);
        let bytes = input.bytes(len);
        let null = choose_null(input);
        let p = in_ptr(&bytes, null);
        let value = input.u16();
        // (name, result, whether the call takes the bytes)
        let (what, code, takes_bytes) = unsafe {
            match input.u8() % 17 {
                12 => (
                    "client set_ticket",
                    lwsec_client_config_set_ticket(self.client_config, p, len),
                    true,
                ),
                13 => (
                    "client set_ticket (taken)",
                    lwsec_client_config_set_ticket(
                        self.client_config,
                        self.ticket.as_ptr(),
                        self.ticket.len(),
                    ),
                    false,
                ),
                14 => (
                    "server set_ticket_lifetime",
                    lwsec_server_config_set_ticket_lifetime(
                        self.server_config,
                        u64::from(value) * 60,
                    ),
                    false,
                ),
                15 => (
                    "server set_resumption_max_age",
                    lwsec_server_config_set_resumption_max_age(
                        self.server_config,
                        u64::from(value) * 60,
                    ),
                    false,
                ),
                16 => (
                    "ticket_keyring_rotate",
                    lwsec_ticket_keyring_rotate(self.keyring, p, len),
                    true,
                ),
                0 => (
                    "client set_suites",
                    lwsec_client_config_set_suites(self.client_config, p, len),
                    true,
                ),
                1 => (
                    "client set_max_message_size",
                    lwsec_client_config_set_max_message_size(
                        self.client_config,
                        usize::from(value),
                    ),
                    false,
                ),
                2 => (
                    "client set_timers",
                    lwsec_client_config_set_timers(
                        self.client_config,
                        u64::from(value),
                        u64::from(value) * 3,
                    ),
                    false,
                ),
                3 => (
                    "server set_suites",
                    lwsec_server_config_set_suites(self.server_config, p, len),
                    true,
                ),
                4 => (
                    "server set_patterns",
                    lwsec_server_config_set_patterns(self.server_config, p, len),
                    true,
                ),
                5 => (
                    "server set_max_message_size",
                    lwsec_server_config_set_max_message_size(
                        self.server_config,
                        usize::from(value),
                    ),
                    false,
                ),
                6 => (
                    "server set_timers",
                    lwsec_server_config_set_timers(
                        self.server_config,
                        u64::from(value),
                        u64::from(value) * 3,
                    ),
                    false,
                ),
                7 => (
                    "enable_early_data",
                    lwsec_server_config_enable_early_data(
                        self.server_config,
                        u64::from(value) * 10,
                    ),
                    false,
                ),
                8 => (
                    "announce_server_keys",
                    lwsec_server_config_announce_server_keys(self.server_config, p, len),
                    true,
                ),
                9 => (
                    "add_key",
                    lwsec_server_config_add_key(self.server_config, self.keys[2]),
                    false,
                ),
                10 => (
                    "retire_key",
                    lwsec_server_config_retire_key(self.server_config, p, len),
                    true,
                ),
                _ => {
                    let key = public_key(self.keys[usize::from(value) % 3]);
                    (
                        "retire_key",
                        lwsec_server_config_retire_key(self.server_config, key.as_ptr(), 32),
                        false,
                    )
                }
            }
        };
        let code = known(what, code);
        if takes_bytes && null && len > 0 {
            assert_eq!(code, NULL, "{what}: NULL with length {len}");
        }
        if what == "client set_ticket (taken)" {
            // A ticket lwsec handed out (or none: clearing) is accepted.
            assert_eq!(code, OK, "{what}");
        }
        if what == "client set_ticket" && !(null && len > 0) && code == OK {
            assert!(
                len == 0 || lwsec::ResumptionTicket::from_bytes(&bytes).is_ok(),
                "{what}: junk accepted"
            );
        }
        if what == "ticket_keyring_rotate" && self.keyring.is_null() {
            assert_eq!(code, NULL, "{what}: NULL keyring");
        }
    }

    /// A ticket taken from connection `i`: a client's, in the stored form.
    fn took_ticket(&mut self, i: usize, data: Vec<u8>) {
        assert!(!self.conns[i].server, "take_ticket: a ticket on a server");
        assert!(
            lwsec::ResumptionTicket::from_bytes(&data).is_ok(),
            "take_ticket: not a stored ticket"
        );
        let mut written = SENT_USIZE;
        let mut buf = [FILL; 1071];
        let code = known("take_ticket again", unsafe {
            lwsec_conn_take_ticket(
                self.conns[i].conn,
                buf.as_mut_ptr(),
                buf.len(),
                &mut written,
            )
        });
        assert_ne!(code, OK, "take_ticket: handed out twice");
        self.ticket = data;
        self.outcome.tickets += 1;
    }

    /// Key pair and key text functions with arbitrary text and buffers.
    fn key_op(&mut self, input: &mut Input<'_>) {
        let len = usize::from(input.u8());
        let mut text = input.bytes(len);
        let which = input.u8() % 5;
        let buf_len = choose_len(input, 80);
        let null = choose_null(input);
        match which {
            0 => {
                let mut out: *mut lwsec_key_pair = ptr::null_mut();
                let code = known("key_pair_from_text", unsafe {
                    lwsec_key_pair_from_text(in_ptr(&text, null), text.len(), &mut out)
                });
                if code == OK {
                    unsafe { lwsec_key_pair_free(out) };
                } else {
                    assert!(out.is_null(), "key_pair_from_text: written on failure");
                }
            }
            1 => {
                let mut buf = Buf::new(buf_len, false);
                let mut written = Out::new(SENT_USIZE, false);
                let code = known("public_key_from_text", unsafe {
                    lwsec_public_key_from_text(
                        in_ptr(&text, null),
                        text.len(),
                        buf.ptr(),
                        buf.len(),
                        written.ptr(),
                    )
                });
                if code == OK {
                    assert_eq!(written.value, 32);
                    // The key's text reads back as the same key.
                    let key = buf.bytes[..32].to_vec();
                    let mut t = Buf::new(80, false);
                    let mut tw = Out::new(SENT_USIZE, false);
                    let c = known("public_key_to_text", unsafe {
                        lwsec_public_key_to_text(key.as_ptr(), 32, t.ptr(), 80, tw.ptr())
                    });
                    assert_eq!(c, OK);
                    let mut back = [0u8; 32];
                    let mut bw = SENT_USIZE;
                    let c = known("public_key_from_text", unsafe {
                        lwsec_public_key_from_text(
                            t.ptr(),
                            tw.value,
                            back.as_mut_ptr(),
                            32,
                            &mut bw,
                        )
                    });
                    assert_eq!((c, &back[..]), (OK, &key[..]), "key text round trip");
                } else {
                    written.untouched("public_key_from_text");
                    assert!(buf.untouched_from(0));
                }
            }
            2 => {
                text.resize(32.min(text.len()), 0);
                let mut buf = Buf::new(buf_len, null);
                let mut written = Out::new(SENT_USIZE, false);
                let code = known("public_key_to_text", unsafe {
                    lwsec_public_key_to_text(
                        text.as_ptr(),
                        text.len(),
                        buf.ptr(),
                        buf.len(),
                        written.ptr(),
                    )
                });
                if code != OK {
                    written.untouched("public_key_to_text");
                    assert!(buf.untouched_from(0));
                } else {
                    assert_eq!(text.len(), 32);
                }
            }
            _ => {
                let key = self.keys[len % 3];
                let f = if which == 3 {
                    lwsec_key_pair_public_key_text
                } else {
                    lwsec_key_pair_private_key_text
                };
                let mut buf = Buf::new(buf_len, null);
                let mut written = Out::new(SENT_USIZE, false);
                let code = known("key_pair_*_text", unsafe {
                    f(key, buf.ptr(), buf.len(), written.ptr())
                });
                if buf.bad() {
                    assert_eq!(code, NULL);
                }
                if code != OK {
                    written.untouched("key_pair_*_text");
                    assert!(buf.untouched_from(0));
                } else {
                    assert!(written.value <= buf_len && buf.untouched_from(written.value));
                }
            }
        }
    }

    /// Frees every handle (connections, configurations, key pairs), so that
    /// LeakSanitizer sees only lwsec's own leaks.
    fn finish(self) -> Outcome {
        for slot in self.conns {
            unsafe { lwsec_conn_free(slot.conn) };
        }
        unsafe {
            lwsec_client_config_free(self.client_config);
            lwsec_server_config_free(self.server_config);
            for key in self.keys {
                lwsec_key_pair_free(key);
            }
            lwsec_ticket_keyring_free(self.keyring);
        }
        self.outcome
    }
}

/// `lwsec_conn_last_error` with the signature of the other getters.
unsafe extern "C" fn last_error(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    unsafe { lwsec_conn_last_error(conn, buf, buf_len, out_written) }
}

//! Connections: bytes in, bytes out, messages, events, state.
//!
//! A connection is driven exactly like the Rust [`Connection`]: feed
//! received bytes with `lwsec_conn_handle_input`, send whatever
//! `lwsec_conn_take_output` / `lwsec_conn_pending_output` returns after
//! every call, and collect events and messages. A connection handle is not
//! thread-safe: use it from one thread at a time (it may move between
//! threads between calls).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use bytes::Bytes;

use crate::config::ServerOptions;
use crate::conn::{Acceptance, Connection, Event, Identity};
use crate::error::{Error, Rejection};
use crate::ffi::boundary::{
    Failure, Out, copy_out, free_handle, guard, handle, handle_mut, input, into_handle, output,
    panic_failure,
};
use crate::ffi::config::{lwsec_client_config, lwsec_server_config};
use crate::ffi::error::lwsec_result;
use crate::ffi::version::{log, log_connection_failure, log_enabled, lwsec_log_level};
use crate::ticket::ResumptionTicket;
use crate::time::Time;

/// One lwsec connection, client or server. Opaque; create it with
/// `lwsec_conn_new_client` or `lwsec_conn_new_server`, free it with
/// `lwsec_conn_free`.
pub struct lwsec_conn {
    conn: Connection,
    last_error: Option<String>,
    /// Early data from the last `LWSEC_EVENT_EARLY_DATA`, until taken.
    early_data: Option<Bytes>,
    /// Keys from the last `LWSEC_EVENT_SERVER_KEYS_ANNOUNCED`.
    announced_keys: Vec<crate::crypto::dh::PublicKey>,
    /// The ticket from the last `LWSEC_EVENT_RESUMPTION_TICKET`, until taken
    /// (a secret: its key is wiped when it is dropped).
    ticket: Option<ResumptionTicket>,
}

/// What `lwsec_conn_poll_event` returns.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum lwsec_event {
    /// No event is pending.
    LWSEC_EVENT_NONE = 0,
    /// The handshake finished: messages can be sent and received.
    LWSEC_EVENT_HANDSHAKE_COMPLETE = 1,
    /// The peer switched to new sending keys.
    LWSEC_EVENT_KEY_UPDATED = 2,
    /// The answer to `lwsec_conn_ping` arrived (its payload is not returned).
    LWSEC_EVENT_PONG = 3,
    /// The peer closed gracefully and will send nothing more. Messages
    /// received before still come out of `lwsec_conn_recv_message`.
    LWSEC_EVENT_PEER_CLOSED = 4,
    /// Server: the client was accepted with early data (0-RTT) that the
    /// application's replay guard judged fresh; take it with
    /// `lwsec_conn_take_early_data`. **Replayable and not forward secret**,
    /// from a client not yet confirmed.
    LWSEC_EVENT_EARLY_DATA = 5,
    /// Client: the server accepted the early data of the first flight.
    LWSEC_EVENT_EARLY_DATA_ACCEPTED = 6,
    /// Client: the early data was not accepted (or not sent, after a
    /// Retry); send it again as a normal message if still needed.
    LWSEC_EVENT_EARLY_DATA_REJECTED = 7,
    /// Server: a client's first flight was read and the connection waits
    /// for the application's decision: read it with
    /// `lwsec_conn_client_hello`, then call `lwsec_conn_accept_client` or
    /// `lwsec_conn_reject_client`. Input is not consumed until then.
    LWSEC_EVENT_CLIENT_HELLO = 8,
    /// Client: the server announced, inside the authenticated handshake, the
    /// server keys to pin from now on (`lwsec_conn_announced_server_keys`).
    /// Store them atomically and connect with the first next time.
    LWSEC_EVENT_SERVER_KEYS_ANNOUNCED = 9,
    /// Client: the server sent a resumption ticket; take it (secret bytes,
    /// for one connection) with `lwsec_conn_take_ticket` and resume with it
    /// next time (`lwsec_client_config_set_ticket`).
    LWSEC_EVENT_RESUMPTION_TICKET = 10,
}

/// What `lwsec_conn_handshake_state` returns.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum lwsec_handshake_state {
    /// The handshake is running.
    LWSEC_STATE_HANDSHAKING = 0,
    /// The handshake completed and the connection has not failed (it may
    /// have been closed by either side).
    LWSEC_STATE_ESTABLISHED = 1,
    /// The connection failed (or was closed during the handshake); see
    /// `lwsec_conn_last_error`.
    LWSEC_STATE_FAILED = 2,
    /// Server: waiting for the application's decision on the client
    /// (`LWSEC_EVENT_CLIENT_HELLO`).
    LWSEC_STATE_AWAITING_DECISION = 3,
    /// Server: the ServerHello was sent; waiting for the client's key
    /// confirmation. Messages may be sent (to the client the first flight
    /// names, not yet authenticated).
    LWSEC_STATE_AWAITING_CONFIRMATION = 4,
}

/// Why a server refuses a client (`lwsec_conn_reject_client`); each reason
/// is sent to the client as an alert.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum lwsec_rejection {
    /// The application does not let this client in: alert `client_rejected`.
    LWSEC_REJECT_NOT_AUTHORIZED = 1,
    /// The decision could not be made (policy store down or too slow); the
    /// server fails closed: alert `internal_error`.
    LWSEC_REJECT_POLICY_UNAVAILABLE = 2,
}

/// What a client's first flight says, from `lwsec_conn_client_hello`.
/// **Nothing here is authenticated as present**: a first flight can be
/// replayed. Fill it by passing a pointer to an instance.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct lwsec_client_hello_info {
    /// The handshake pattern (`lwsec_pattern` code).
    pub pattern: u8,
    /// The suite selected for the connection (`lwsec_suite` code).
    pub suite: u8,
    /// The key id of the server static key the client pinned.
    pub server_key_id: [u8; 8],
    /// IK: whether `client_key` holds the claimed device key.
    pub has_client_key: bool,
    /// IK: the client's static (device) key as message 1 claims it.
    pub client_key: [u8; 32],
    /// Whether this ClientHello answers a Retry.
    pub retry_echoed: bool,
    /// Whether the flight offers early data (the fields below are valid).
    pub early_data_offered: bool,
    /// Length of the offered early data.
    pub early_data_len: usize,
    /// The flight's timestamp (milliseconds since the UNIX epoch).
    pub early_data_timestamp_ms: u64,
    /// The flight's identifier for a replay guard (the client's ephemeral
    /// public key).
    pub early_data_flight_id: [u8; 32],
    /// Whether the connection's own checks passed (early data enabled, no
    /// Retry, timestamp within the window), so the replay guard must be
    /// asked; when false, early data is refused whatever the verdict.
    pub early_data_needs_replay_check: bool,
    /// Whether the client resumes a session with a ticket this server (or
    /// its fleet) issued and could open (`spec/PROTOCOL.md` section 4.11);
    /// the fields below are valid. `pattern` and `client_key` are then
    /// those of the full handshake the ticket descends from (for IK, the
    /// device key the ticket carries).
    pub resumed: bool,
    /// Resumed: when the client last ran a full handshake (milliseconds
    /// since the UNIX epoch, the issuing server's clock). A server may
    /// insist on a fresh full handshake for sensitive clients by rejecting
    /// an old one.
    pub resumption_authenticated_at_ms: u64,
    /// Resumed: whether the ticket carries the application identity given
    /// when its session was accepted (copy it with
    /// `lwsec_conn_client_hello_ticket_identity`). Accepting without an
    /// identity keeps it.
    pub resumption_has_identity: bool,
    /// Resumed: the length of that identity (at most 256 bytes).
    pub resumption_identity_len: usize,
}

/// Runs `body` on a connection inside the panic boundary and records a
/// failure as the connection's last error. `function` is the C function's
/// name, for the log line when the call makes the connection fail.
fn with_conn(
    function: &'static str,
    conn: *mut lwsec_conn,
    body: impl FnOnce(&mut Connection) -> Result<(), Failure>,
) -> lwsec_result {
    with_handle(function, conn, |h| body(&mut h.conn))
}

/// [`with_conn`] for calls that need the whole handle.
fn with_handle(
    function: &'static str,
    conn: *mut lwsec_conn,
    body: impl FnOnce(&mut lwsec_conn) -> Result<(), Failure>,
) -> lwsec_result {
    guard(|| {
        // SAFETY: every caller's contract: `conn` is NULL or a live
        // connection not used by another thread during the call.
        let c = unsafe { handle_mut(conn)? };
        let failed_before = c.conn.error().is_some();
        let result = match catch_unwind(AssertUnwindSafe(|| body(c))) {
            Ok(result) => result,
            Err(payload) => {
                let failure = panic_failure(payload.as_ref());
                log_line(
                    lwsec_log_level::LWSEC_LOG_ERROR,
                    format_args!("{function}: {}", failure.message),
                );
                Err(failure)
            }
        };
        if !failed_before {
            // A close during the handshake (`Error::Closed`) is the
            // application's choice, not a failure: `lwsec_conn_close` says so.
            if let Some(err) = c.conn.error().filter(|e| **e != Error::Closed) {
                log_connection_failure(function, err);
            }
        }
        if let Err(failure) = &result {
            c.last_error = Some(failure.message.clone());
        }
        result
    })
}

/// Passes one line to the log callback if it takes `level` (the line is
/// formatted only then).
fn log_line(level: lwsec_log_level, args: std::fmt::Arguments<'_>) {
    if log_enabled(level) {
        log(level, args);
    }
}

/// The error for a getter that needs an established connection.
fn not_established(conn: &Connection) -> Failure {
    conn.error()
        .cloned()
        .unwrap_or(Error::HandshakeNotComplete)
        .into()
}

fn new_conn(
    function: &'static str,
    result: Result<Connection, Error>,
    out: Out<*mut lwsec_conn>,
) -> Result<(), Failure> {
    let conn = result.inspect_err(|err| log_connection_failure(function, err))?;
    out.set(into_handle(lwsec_conn {
        conn,
        last_error: None,
        early_data: None,
        announced_keys: Vec::new(),
        ticket: None,
    }));
    Ok(())
}

/// Creates a client connection at time `now_ms`. Every `now_ms` in this API
/// is the wall clock in milliseconds since the UNIX epoch
/// (`clock_gettime(CLOCK_REALTIME)`): early-data timestamps and Retry
/// cookies are compared across machines, so keep clocks in sync (NTP). The
/// ClientHello is queued at once: send the output.
///
/// When the configuration holds a resumption ticket
/// (`lwsec_client_config_set_ticket`), the connection resumes with it and
/// **takes it out of the configuration** (a ticket is for one connection;
/// the next connection made from the configuration runs a full handshake
/// unless a new ticket is set). An expired ticket is taken too, and the
/// connection runs a full handshake at once. If the connection cannot be
/// created, the ticket stays in the configuration.
///
/// The connection keeps its own reference to `config`, which may be freed
/// at once. On success `*out_conn` receives a new handle owned by the
/// caller (free with `lwsec_conn_free`). An invalid configuration gives
/// `LWSEC_INVALID_CONFIG`.
///
/// # Safety
///
/// `config` is NULL or a live client configuration; `out_conn` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_new_client(
    config: *const lwsec_client_config,
    now_ms: u64,
    out_conn: *mut *mut lwsec_conn,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (config, out) = unsafe { (handle(config)?, Out::new(out_conn)?) };
        let (inner, now) = (Arc::clone(&config.inner), Time::from_millis(now_ms));
        let result = match config.take_ticket() {
            None => Connection::client(inner, now),
            Some(ticket) => {
                let expired = ticket.is_expired(now);
                let result = Connection::resume(inner, ticket.clone(), now);
                match &result {
                    Ok(_) if expired => log_line(
                        lwsec_log_level::LWSEC_LOG_DEBUG,
                        format_args!("resumption ticket expired: full handshake"),
                    ),
                    Ok(_) => log_line(
                        lwsec_log_level::LWSEC_LOG_DEBUG,
                        format_args!("resuming a session with a ticket"),
                    ),
                    Err(_) => config.restore_ticket(ticket),
                }
                result
            }
        };
        new_conn("lwsec_conn_new_client", result, out)
    })
}

/// Creates a server connection at time `now_ms`; it waits for the
/// ClientHello. The connection keeps its own reference to `config`. On
/// success `*out_conn` receives a new handle owned by the caller.
///
/// # Safety
///
/// `config` is NULL or a live server configuration; `out_conn` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_new_server(
    config: *const lwsec_server_config,
    now_ms: u64,
    out_conn: *mut *mut lwsec_conn,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (config, out) = unsafe { (handle(config)?, Out::new(out_conn)?) };
        new_conn(
            "lwsec_conn_new_server",
            Connection::server(Arc::clone(&config.inner), Time::from_millis(now_ms)),
            out,
        )
    })
}

/// Creates a server connection like `lwsec_conn_new_server`, with what the
/// application knows about the client: `peer_address` (any stable byte
/// encoding of the client's network address, e.g. `"203.0.113.7:50412"`;
/// Retry cookies are bound to it; may be empty) and `demand_cookie`
/// (true under load: answer a ClientHello without a valid cookie with a
/// Retry carrying one, before doing any Diffie-Hellman work). The address
/// is copied. On success `*out_conn` receives a new handle owned by the
/// caller.
///
/// # Safety
///
/// `config` is NULL or a live server configuration; `peer_address` points
/// to `peer_address_len` readable bytes; `out_conn` is NULL or valid for
/// writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_new_server_with_options(
    config: *const lwsec_server_config,
    now_ms: u64,
    peer_address: *const u8,
    peer_address_len: usize,
    demand_cookie: bool,
    out_conn: *mut *mut lwsec_conn,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised all pointers are NULL or valid as documented.
        let (config, address, out) = unsafe {
            (
                handle(config)?,
                input(peer_address, peer_address_len)?,
                Out::new(out_conn)?,
            )
        };
        let options =
            ServerOptions::for_peer_address(address.to_vec()).with_cookie_demanded(demand_cookie);
        new_conn(
            "lwsec_conn_new_server_with_options",
            Connection::server_with_options(
                Arc::clone(&config.inner),
                Time::from_millis(now_ms),
                options,
            ),
            out,
        )
    })
}

/// Feeds `data_len` bytes received from the peer; `*out_consumed` receives
/// how many were consumed (any chunking works, even one byte at a time).
///
/// Fewer than `data_len` are consumed when received messages or unsent
/// output pile up: take the messages, send the output, then offer the rest
/// again. After every call, check events, messages and output. A fatal
/// error (a code from 100 up) kills the connection: later calls return the
/// same error, and the output may still hold one alert to send before
/// closing the socket.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `data` points to `data_len`
/// readable bytes; `out_consumed` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_handle_input(
    conn: *mut lwsec_conn,
    data: *const u8,
    data_len: usize,
    now_ms: u64,
    out_consumed: *mut usize,
) -> lwsec_result {
    with_conn("lwsec_conn_handle_input", conn, |c| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (data, out) = unsafe { (input(data, data_len)?, Out::new(out_consumed)?) };
        out.set(c.handle_input(data, Time::from_millis(now_ms))?);
        Ok(())
    })
}

/// Copies as much pending output (bytes to send to the peer) as fits into
/// `buf` and marks it as sent; `*out_written` receives the count (0 when
/// nothing is pending). Call until it writes 0, or use
/// `lwsec_conn_pending_output` to avoid the copy.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_take_output(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    with_conn("lwsec_conn_take_output", conn, |c| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (buf, out) = unsafe { (output(buf, buf_len)?, Out::new(out_written)?) };
        out.set(c.take_output(buf));
        Ok(())
    })
}

/// Borrows the pending output without copying: `*out_data` and `*out_len`
/// receive a pointer to the bytes to send and their count.
///
/// **Lifetime:** the bytes belong to the connection. The pointer is valid
/// only until the next call of any `lwsec_conn_*` function on this
/// connection (including `lwsec_conn_consume_output` and `lwsec_conn_free`);
/// do not free it. When `*out_len` is 0 the pointer must not be
/// dereferenced. After sending some of the bytes, report the count with
/// `lwsec_conn_consume_output`.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `out_data` and `out_len` are NULL
/// or valid for writing a pointer and a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_pending_output(
    conn: *mut lwsec_conn,
    out_data: *mut *const u8,
    out_len: *mut usize,
) -> lwsec_result {
    with_conn("lwsec_conn_pending_output", conn, |c| {
        // SAFETY: the caller promised both out pointers are NULL or writable.
        let (out_data, out_len) = unsafe { (Out::new(out_data)?, Out::new(out_len)?) };
        let pending = c.pending_output();
        out_data.set(pending.as_ptr());
        out_len.set(pending.len());
        Ok(())
    })
}

/// Marks the first `n` bytes of the pending output as sent (after
/// `lwsec_conn_pending_output`). `n` larger than the pending output gives
/// `LWSEC_INVALID_PARAMETER` and consumes nothing.
///
/// # Safety
///
/// `conn` is NULL or a live connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_consume_output(
    conn: *mut lwsec_conn,
    n: usize,
) -> lwsec_result {
    with_conn("lwsec_conn_consume_output", conn, |c| {
        if n > c.pending_output().len() {
            return Err(lwsec_result::LWSEC_INVALID_PARAMETER.into());
        }
        c.consume_output(n);
        Ok(())
    })
}

/// Queues a message of `data_len` bytes (at most the maximum message size,
/// possibly 0) for sending; the peer receives it whole. Then send the
/// output. Before the handshake completes this gives
/// `LWSEC_HANDSHAKE_NOT_COMPLETE`, after `lwsec_conn_close` `LWSEC_CLOSED`.
/// The bytes are copied.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `data` points to `data_len`
/// readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_send_message(
    conn: *mut lwsec_conn,
    data: *const u8,
    data_len: usize,
) -> lwsec_result {
    with_conn("lwsec_conn_send_message", conn, |c| {
        // SAFETY: the caller promised `data` points to `data_len` readable bytes.
        let data = unsafe { input(data, data_len)? };
        c.send_message(data)?;
        Ok(())
    })
}

/// The length of the next complete received message in `*out_len`, so the
/// caller can size the buffer for `lwsec_conn_recv_message`.
/// `LWSEC_NOT_AVAILABLE` when no complete message is waiting.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `out_len` is NULL or valid for
/// writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_next_message_len(
    conn: *mut lwsec_conn,
    out_len: *mut usize,
) -> lwsec_result {
    with_conn("lwsec_conn_next_message_len", conn, |c| {
        // SAFETY: the caller promised `out_len` is NULL or writable.
        let out = unsafe { Out::new(out_len)? };
        let len = c
            .next_message_len()
            .ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        out.set(len);
        Ok(())
    })
}

/// Takes the next complete received message, copying it into `buf`;
/// `*out_written` receives its length (which may be 0: empty messages
/// exist).
///
/// `LWSEC_NOT_AVAILABLE` when no complete message is waiting.
/// `LWSEC_BUFFER_TOO_SMALL` when `buf_len` is less than the message: nothing
/// is written and the message stays queued (learn its size with
/// `lwsec_conn_next_message_len`; `lwsec_conn_last_error` also says it).
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_recv_message(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    with_conn("lwsec_conn_recv_message", conn, |c| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (buf, out) = unsafe { (output(buf, buf_len)?, Out::new(out_written)?) };
        let len = c
            .next_message_len()
            .ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        if len > buf.len() {
            return Err(Error::WouldExceedBuffer { needed: len }.into());
        }
        let message = c.recv_message().ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        out.set(copy_out(&message, buf)?);
        Ok(())
    })
}

/// Stream view: copies received message bytes into `buf` ignoring message
/// boundaries; `*out_written` receives the count (0 when none are ready).
/// Only complete messages are readable.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_read(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    with_conn("lwsec_conn_read", conn, |c| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (buf, out) = unsafe { (output(buf, buf_len)?, Out::new(out_written)?) };
        out.set(c.read(buf));
        Ok(())
    })
}

/// Takes the next event into `*out_event` (`LWSEC_EVENT_NONE` when there is
/// none). Poll after every `lwsec_conn_handle_input` until it returns
/// `LWSEC_EVENT_NONE`.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `out_event` is NULL or valid for
/// writing an `lwsec_event`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_poll_event(
    conn: *mut lwsec_conn,
    out_event: *mut lwsec_event,
) -> lwsec_result {
    with_handle("lwsec_conn_poll_event", conn, |h| {
        // SAFETY: the caller promised `out_event` is NULL or writable.
        let out = unsafe { Out::new(out_event)? };
        out.set(match h.conn.poll_event() {
            None => lwsec_event::LWSEC_EVENT_NONE,
            Some(Event::ClientHello) => lwsec_event::LWSEC_EVENT_CLIENT_HELLO,
            Some(Event::HandshakeComplete) => {
                if log_enabled(lwsec_log_level::LWSEC_LOG_INFO) {
                    let pattern = h.conn.pattern().map(|p| p.noise_name()).unwrap_or("?");
                    let suite = h.conn.suite().map(|s| s.to_string()).unwrap_or_default();
                    let resumed = if h.conn.is_resumed() { ", resumed" } else { "" };
                    log(
                        lwsec_log_level::LWSEC_LOG_INFO,
                        format_args!("handshake complete: {pattern} {suite}{resumed}"),
                    );
                }
                lwsec_event::LWSEC_EVENT_HANDSHAKE_COMPLETE
            }
            Some(Event::KeyUpdated) => {
                log_line(
                    lwsec_log_level::LWSEC_LOG_DEBUG,
                    format_args!("key updated: the peer switched to new sending keys"),
                );
                lwsec_event::LWSEC_EVENT_KEY_UPDATED
            }
            Some(Event::Pong(_)) => {
                log_line(
                    lwsec_log_level::LWSEC_LOG_DEBUG,
                    format_args!("pong received"),
                );
                lwsec_event::LWSEC_EVENT_PONG
            }
            Some(Event::PeerClosed) => {
                log_line(
                    lwsec_log_level::LWSEC_LOG_INFO,
                    format_args!("peer closed (close_notify)"),
                );
                lwsec_event::LWSEC_EVENT_PEER_CLOSED
            }
            Some(Event::EarlyData(data)) => {
                h.early_data = Some(data);
                lwsec_event::LWSEC_EVENT_EARLY_DATA
            }
            Some(Event::EarlyDataAccepted) => lwsec_event::LWSEC_EVENT_EARLY_DATA_ACCEPTED,
            Some(Event::EarlyDataRejected) => lwsec_event::LWSEC_EVENT_EARLY_DATA_REJECTED,
            Some(Event::ServerKeysAnnounced(keys)) => {
                h.announced_keys = keys;
                lwsec_event::LWSEC_EVENT_SERVER_KEYS_ANNOUNCED
            }
            Some(Event::ResumptionTicket(ticket)) => {
                log_line(
                    lwsec_log_level::LWSEC_LOG_DEBUG,
                    format_args!(
                        "resumption ticket received ({} session, expires at {} ms)",
                        ticket.pattern(),
                        ticket.expires().as_millis()
                    ),
                );
                h.ticket = Some(ticket);
                lwsec_event::LWSEC_EVENT_RESUMPTION_TICKET
            }
        });
        Ok(())
    })
}

/// Server: what the client's first flight says, while the connection waits
/// for a decision (`LWSEC_EVENT_CLIENT_HELLO`, `LWSEC_STATE_AWAITING_DECISION`);
/// `LWSEC_NOT_AVAILABLE` otherwise.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `out_info` is NULL or valid for
/// writing an `lwsec_client_hello_info`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_client_hello(
    conn: *mut lwsec_conn,
    out_info: *mut lwsec_client_hello_info,
) -> lwsec_result {
    with_conn("lwsec_conn_client_hello", conn, |c| {
        // SAFETY: the caller promised `out_info` is NULL or writable.
        let out = unsafe { Out::new(out_info)? };
        let hello = c.client_hello().ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        let mut info = lwsec_client_hello_info {
            pattern: hello.pattern().to_u8(),
            suite: hello.suite().to_u8(),
            server_key_id: hello.server_key_id(),
            retry_echoed: hello.retry_echoed(),
            ..Default::default()
        };
        if let Some(key) = hello.claimed_client_key() {
            info.has_client_key = true;
            info.client_key = *key.as_bytes();
        }
        if let Some(offer) = hello.early_data() {
            info.early_data_offered = true;
            info.early_data_len = offer.len();
            info.early_data_timestamp_ms = offer.timestamp().as_millis();
            info.early_data_flight_id = *offer.flight_id();
            info.early_data_needs_replay_check = offer.needs_replay_check();
        }
        if let Some(resumption) = hello.resumption() {
            info.resumed = true;
            info.resumption_authenticated_at_ms = resumption.authenticated_at().as_millis();
            if let Some(identity) = resumption.identity() {
                info.resumption_has_identity = true;
                info.resumption_identity_len = identity.as_bytes().len();
            }
        }
        out.set(info);
        Ok(())
    })
}

/// Server, at the decision point of a resuming client
/// (`lwsec_client_hello_info.resumed`): copies the application identity the
/// ticket carries (the one given to `lwsec_conn_accept_client` when the
/// ticket's session was accepted; at most 256 bytes) into `buf`.
/// `LWSEC_NOT_AVAILABLE` when no decision is pending, the client does not
/// resume or the ticket carries no identity; `LWSEC_BUFFER_TOO_SMALL`
/// (nothing written) when `buf` is too short. Like the rest of the first
/// flight it may be a replay until the client confirms the handshake.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_client_hello_ticket_identity(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    with_conn("lwsec_conn_client_hello_ticket_identity", conn, |c| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (buf, out) = unsafe { (output(buf, buf_len)?, Out::new(out_written)?) };
        let identity = c
            .client_hello()
            .and_then(|hello| hello.resumption())
            .and_then(|resumption| resumption.identity())
            .ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        out.set(copy_out(identity.as_bytes(), buf)?);
        Ok(())
    })
}

/// Server: lets the client in (see `LWSEC_EVENT_CLIENT_HELLO`) and queues
/// the ServerHello: send the output. `identity` (`identity_len` bytes, at
/// most 256, may be NULL with length 0) is the application's name for the
/// client, reported by `lwsec_conn_peer_identity` once the client confirmed
/// the handshake; a resuming client given none keeps the identity its
/// ticket carries. `early_data_fresh` is the replay guard's verdict on the
/// offered early data (true: not seen before, now recorded); the early data
/// is accepted only if it is true and the connection's own checks passed,
/// and then comes as `LWSEC_EVENT_EARLY_DATA`. `LWSEC_HANDSHAKE_NOT_COMPLETE`
/// when no decision is pending.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `identity` points to `identity_len`
/// readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_accept_client(
    conn: *mut lwsec_conn,
    identity: *const u8,
    identity_len: usize,
    early_data_fresh: bool,
    now_ms: u64,
) -> lwsec_result {
    with_conn("lwsec_conn_accept_client", conn, |c| {
        // SAFETY: the caller promised `identity` points to `identity_len` bytes.
        let identity = unsafe { input(identity, identity_len)? };
        let mut acceptance = Acceptance::new().with_fresh_early_data(early_data_fresh);
        if !identity.is_empty() {
            acceptance = acceptance.with_identity(Identity::new(identity.to_vec())?);
        }
        let resuming = c.client_hello().is_some_and(|h| h.resumption().is_some());
        c.accept_client(acceptance, Time::from_millis(now_ms))?;
        log_line(
            lwsec_log_level::LWSEC_LOG_DEBUG,
            format_args!(
                "client accepted{}",
                if resuming {
                    " (resuming a session)"
                } else {
                    ""
                }
            ),
        );
        Ok(())
    })
}

/// Server: refuses the client (see `LWSEC_EVENT_CLIENT_HELLO`): queues the
/// reason's alert (send the output) and fails the connection, which returns
/// `LWSEC_CLIENT_REJECTED` from then on. Returns `LWSEC_OK` when the client
/// was refused, `LWSEC_HANDSHAKE_NOT_COMPLETE` when no decision is pending,
/// `LWSEC_INVALID_PARAMETER` for an unknown reason.
///
/// # Safety
///
/// `conn` is NULL or a live connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_reject_client(
    conn: *mut lwsec_conn,
    reason: u32,
) -> lwsec_result {
    with_conn("lwsec_conn_reject_client", conn, |c| {
        let reason = match reason {
            1 => Rejection::NotAuthorized,
            2 => Rejection::PolicyUnavailable,
            _ => return Err(lwsec_result::LWSEC_INVALID_PARAMETER.into()),
        };
        // A connection that already failed (including by an earlier
        // rejection) returns its error: the core hands back that error,
        // which for a rejected client is `ClientRejected` too, and must
        // not read as a fresh rejection.
        if let Some(failed) = c.error() {
            return Err(failed.clone().into());
        }
        match c.reject_client(reason) {
            Error::ClientRejected(_) => {
                log_line(
                    lwsec_log_level::LWSEC_LOG_DEBUG,
                    format_args!("client rejected: {reason}"),
                );
                Ok(())
            }
            other => Err(other.into()),
        }
    })
}

/// Server: copies the early data of the last `LWSEC_EVENT_EARLY_DATA` into
/// `buf` and forgets it; `LWSEC_NOT_AVAILABLE` when there is none,
/// `LWSEC_BUFFER_TOO_SMALL` (nothing taken) when `buf` is too short (8192
/// bytes always suffice). **Replayable and not forward secret.**
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_take_early_data(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    with_handle("lwsec_conn_take_early_data", conn, |h| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (buf, out) = unsafe { (output(buf, buf_len)?, Out::new(out_written)?) };
        let data = h
            .early_data
            .as_ref()
            .ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        out.set(copy_out(data, buf)?);
        h.early_data = None;
        Ok(())
    })
}

/// Client: copies the server keys of the last
/// `LWSEC_EVENT_SERVER_KEYS_ANNOUNCED` into `buf`, `LWSEC_KEY_LEN` bytes
/// each, in order (at most 8 keys: 256 bytes always suffice);
/// `*out_written` receives the byte count. `LWSEC_NOT_AVAILABLE` when none
/// was announced.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_announced_server_keys(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    with_handle("lwsec_conn_announced_server_keys", conn, |h| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (buf, out) = unsafe { (output(buf, buf_len)?, Out::new(out_written)?) };
        if h.announced_keys.is_empty() {
            return Err(lwsec_result::LWSEC_NOT_AVAILABLE.into());
        }
        let bytes: Vec<u8> = h
            .announced_keys
            .iter()
            .flat_map(|k| *k.as_bytes())
            .collect();
        out.set(copy_out(&bytes, buf)?);
        Ok(())
    })
}

/// Client: copies the resumption ticket of the last
/// `LWSEC_EVENT_RESUMPTION_TICKET` into `buf`, as bytes to store and give
/// to `lwsec_client_config_set_ticket` for the next connection, and forgets
/// it; `*out_written` receives the length. `LWSEC_NOT_AVAILABLE` when there
/// is none (not received yet, or already taken). `LWSEC_BUFFER_TOO_SMALL`
/// when `buf` is too short: nothing is written and the ticket is kept
/// (`lwsec_conn_last_error` says how many bytes are needed;
/// `LWSEC_RESUMPTION_TICKET_MAX_LEN` always suffices).
///
/// **The bytes are a secret**: whoever holds them can resume the session
/// (as this device, for an IK ticket) until the ticket expires. Store them
/// like a private key, use them for **one** connection only, and wipe every
/// copy once given to `lwsec_client_config_set_ticket`: the resumed
/// connection brings a new ticket. lwsec wipes its own copies.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_take_ticket(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    with_handle("lwsec_conn_take_ticket", conn, |h| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (buf, out) = unsafe { (output(buf, buf_len)?, Out::new(out_written)?) };
        let ticket = h.ticket.as_ref().ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        // A `Zeroizing` buffer: wiped when dropped, on success or failure.
        let bytes = ticket.to_bytes();
        out.set(copy_out(&bytes, buf)?);
        h.ticket = None;
        log_line(
            lwsec_log_level::LWSEC_LOG_DEBUG,
            format_args!("resumption ticket taken"),
        );
        Ok(())
    })
}

/// Whether the handshake resumed a session with a ticket, in
/// `*out_resumed`: true on both sides of a resumed connection, false after
/// a full handshake (including one that followed a ticket the server
/// refused). Available once the keys exist, as `lwsec_conn_pattern`;
/// before that `LWSEC_HANDSHAKE_NOT_COMPLETE` (or the connection's fatal
/// error).
///
/// # Safety
///
/// `conn` is NULL or a live connection; `out_resumed` is NULL or valid for
/// writing a `bool`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_is_resumed(
    conn: *mut lwsec_conn,
    out_resumed: *mut bool,
) -> lwsec_result {
    with_conn("lwsec_conn_is_resumed", conn, |c| {
        // SAFETY: the caller promised `out_resumed` is NULL or writable.
        let out = unsafe { Out::new(out_resumed)? };
        if c.pattern().is_none() {
            return Err(not_established(c));
        }
        out.set(c.is_resumed());
        Ok(())
    })
}

/// Server: copies the application identity given to
/// `lwsec_conn_accept_client` into `buf`, once the client confirmed the
/// handshake; `LWSEC_NOT_AVAILABLE` when none was given,
/// `LWSEC_HANDSHAKE_NOT_COMPLETE` before the confirmation.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_peer_identity(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    with_conn("lwsec_conn_peer_identity", conn, |c| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (buf, out) = unsafe { (output(buf, buf_len)?, Out::new(out_written)?) };
        if !c.is_established() {
            return Err(not_established(c));
        }
        let identity = c.peer_identity().ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        out.set(copy_out(identity.as_bytes(), buf)?);
        Ok(())
    })
}

/// After `LWSEC_PEER_ALERT`: the alert's code in `*out_code` and, in
/// `*out_authenticated`, whether it came inside a protected record. An
/// unauthenticated (cleartext, handshake-time) alert may be forged by
/// anyone on the path: never act on it as a fact (for example by falling
/// back to another pinned key). `LWSEC_NOT_AVAILABLE` when the connection
/// did not fail with a peer alert.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `out_code` and `out_authenticated`
/// are NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_peer_alert(
    conn: *mut lwsec_conn,
    out_code: *mut u8,
    out_authenticated: *mut bool,
) -> lwsec_result {
    with_conn("lwsec_conn_peer_alert", conn, |c| {
        // SAFETY: the caller promised both pointers are NULL or writable.
        let (code_out, auth_out) = unsafe { (Out::new(out_code)?, Out::new(out_authenticated)?) };
        match c.error() {
            Some(Error::PeerAlert {
                code,
                authenticated,
            }) => {
                code_out.set(code.to_u8());
                auth_out.set(*authenticated);
                Ok(())
            }
            _ => Err(lwsec_result::LWSEC_NOT_AVAILABLE.into()),
        }
    })
}

/// The connection's state in `*out_state`.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `out_state` is NULL or valid for
/// writing an `lwsec_handshake_state`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_handshake_state(
    conn: *mut lwsec_conn,
    out_state: *mut lwsec_handshake_state,
) -> lwsec_result {
    with_conn("lwsec_conn_handshake_state", conn, |c| {
        // SAFETY: the caller promised `out_state` is NULL or writable.
        let out = unsafe { Out::new(out_state)? };
        out.set(if c.client_hello().is_some() {
            lwsec_handshake_state::LWSEC_STATE_AWAITING_DECISION
        } else if c.is_awaiting_confirmation() {
            lwsec_handshake_state::LWSEC_STATE_AWAITING_CONFIRMATION
        } else if c.is_handshaking() {
            lwsec_handshake_state::LWSEC_STATE_HANDSHAKING
        } else if c.is_established() {
            lwsec_handshake_state::LWSEC_STATE_ESTABLISHED
        } else {
            lwsec_handshake_state::LWSEC_STATE_FAILED
        });
        Ok(())
    })
}

/// The negotiated suite (an `lwsec_suite` code) in `*out_suite`, once
/// established; before that `LWSEC_HANDSHAKE_NOT_COMPLETE` (or the
/// connection's fatal error).
///
/// # Safety
///
/// `conn` is NULL or a live connection; `out_suite` is NULL or valid for
/// writing one byte.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_suite(
    conn: *mut lwsec_conn,
    out_suite: *mut u8,
) -> lwsec_result {
    with_conn("lwsec_conn_suite", conn, |c| {
        // SAFETY: the caller promised `out_suite` is NULL or writable.
        let out = unsafe { Out::new(out_suite)? };
        out.set(c.suite().ok_or_else(|| not_established(c))?.to_u8());
        Ok(())
    })
}

/// The handshake pattern (an `lwsec_pattern` code) in `*out_pattern`, once
/// established.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `out_pattern` is NULL or valid for
/// writing one byte.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_pattern(
    conn: *mut lwsec_conn,
    out_pattern: *mut u8,
) -> lwsec_result {
    with_conn("lwsec_conn_pattern", conn, |c| {
        // SAFETY: the caller promised `out_pattern` is NULL or writable.
        let out = unsafe { Out::new(out_pattern)? };
        out.set(c.pattern().ok_or_else(|| not_established(c))?.to_u8());
        Ok(())
    })
}

/// Copies the peer's authenticated raw static public key (32 bytes) into
/// `buf`: the server's key on a client, the client's device key on an IK
/// server. `LWSEC_NOT_AVAILABLE` on an NK server,
/// `LWSEC_HANDSHAKE_NOT_COMPLETE` before the handshake completes,
/// `LWSEC_BUFFER_TOO_SMALL` when `buf_len < LWSEC_KEY_LEN`.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_peer_static_key(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    with_conn("lwsec_conn_peer_static_key", conn, |c| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (buf, out) = unsafe { (output(buf, buf_len)?, Out::new(out_written)?) };
        if !c.is_established() {
            return Err(not_established(c));
        }
        let key = c
            .peer_static_key()
            .ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        out.set(copy_out(key.as_bytes(), buf)?);
        Ok(())
    })
}

/// Copies the Noise handshake hash (32 bytes, `LWSEC_HANDSHAKE_HASH_LEN`)
/// into `buf`: a channel binding unique to this connection, the same on
/// both sides, not secret. Available once established.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_handshake_hash(
    conn: *mut lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    with_conn("lwsec_conn_handshake_hash", conn, |c| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (buf, out) = unsafe { (output(buf, buf_len)?, Out::new(out_written)?) };
        let hash = c.handshake_hash().ok_or_else(|| not_established(c))?;
        out.set(copy_out(&hash, buf)?);
        Ok(())
    })
}

/// Fills all `out_len` bytes of `out` (at most 8160) with keying material
/// bound to this connection, `label` (1 to 249 bytes) and `context` (any
/// bytes, possibly none). Both sides derive the same bytes. Available once
/// established; on error nothing is written.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `label`, `context` point to their
/// lengths of readable bytes; `out` to `out_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_export_keying_material(
    conn: *mut lwsec_conn,
    label: *const u8,
    label_len: usize,
    context: *const u8,
    context_len: usize,
    out: *mut u8,
    out_len: usize,
) -> lwsec_result {
    with_conn("lwsec_conn_export_keying_material", conn, |c| {
        // SAFETY: the caller promised all buffers are NULL or valid as documented.
        let (label, context, out) = unsafe {
            (
                input(label, label_len)?,
                input(context, context_len)?,
                output(out, out_len)?,
            )
        };
        let mut tmp = zeroize::Zeroizing::new(vec![0u8; out.len()]);
        c.export_keying_material(label, context, &mut tmp)?;
        out.copy_from_slice(&tmp);
        Ok(())
    })
}

/// Updates this side's sending keys now; with `request_peer`, asks the peer
/// to update its sending keys too. Then send the output.
///
/// # Safety
///
/// `conn` is NULL or a live connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_update_keys(
    conn: *mut lwsec_conn,
    request_peer: bool,
) -> lwsec_result {
    with_conn("lwsec_conn_update_keys", conn, |c| {
        c.update_keys(request_peer)?;
        log_line(
            lwsec_log_level::LWSEC_LOG_DEBUG,
            format_args!("key update sent (peer asked to update too: {request_peer})"),
        );
        Ok(())
    })
}

/// Sends a keep-alive ping with up to 64 bytes of payload; the answer
/// arrives as `LWSEC_EVENT_PONG`. Then send the output.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `payload` points to `payload_len`
/// readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_ping(
    conn: *mut lwsec_conn,
    payload: *const u8,
    payload_len: usize,
) -> lwsec_result {
    with_conn("lwsec_conn_ping", conn, |c| {
        // SAFETY: the caller promised `payload` points to `payload_len` readable bytes.
        let payload = unsafe { input(payload, payload_len)? };
        c.ping(payload)?;
        log_line(lwsec_log_level::LWSEC_LOG_DEBUG, format_args!("ping sent"));
        Ok(())
    })
}

/// Closes gracefully: queues a close_notify alert (send the output, then
/// keep reading until `LWSEC_EVENT_PEER_CLOSED` and end of stream) and
/// refuses further sends with `LWSEC_CLOSED`. During the handshake the
/// connection is abandoned and nothing is sent. Closing twice is fine. The
/// handle must still be freed with `lwsec_conn_free`.
///
/// # Safety
///
/// `conn` is NULL or a live connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_close(conn: *mut lwsec_conn) -> lwsec_result {
    with_conn("lwsec_conn_close", conn, |c| {
        let (closed_before, failed_before) = (c.is_closed(), c.error().is_some());
        c.close()?;
        if c.is_closed() && !closed_before {
            log_line(
                lwsec_log_level::LWSEC_LOG_INFO,
                format_args!("closing: close_notify queued"),
            );
        } else if !failed_before && c.error().is_some() {
            log_line(
                lwsec_log_level::LWSEC_LOG_INFO,
                format_args!("closing: handshake abandoned, nothing sent"),
            );
        }
        Ok(())
    })
}

/// Reports that the peer's byte stream ended (`recv` returned 0). `LWSEC_OK`
/// when the peer had closed gracefully; otherwise `LWSEC_TRUNCATED` and the
/// connection fails (data received so far was authentic but may be
/// incomplete).
///
/// # Safety
///
/// `conn` is NULL or a live connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_handle_eof(conn: *mut lwsec_conn) -> lwsec_result {
    with_conn("lwsec_conn_handle_eof", conn, |c| Ok(c.handle_eof()?))
}

/// The time (in the milliseconds of `now_ms`) at which
/// `lwsec_conn_handle_timeout` should be called next, in `*out_deadline_ms`.
/// `LWSEC_NOT_AVAILABLE` when no timer is armed (no keep-alive or idle
/// timeout configured, or not established).
///
/// # Safety
///
/// `conn` is NULL or a live connection; `out_deadline_ms` is NULL or valid
/// for writing a `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_poll_timeout(
    conn: *mut lwsec_conn,
    out_deadline_ms: *mut u64,
) -> lwsec_result {
    with_conn("lwsec_conn_poll_timeout", conn, |c| {
        // SAFETY: the caller promised `out_deadline_ms` is NULL or writable.
        let out = unsafe { Out::new(out_deadline_ms)? };
        let deadline = c.poll_timeout().ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        out.set(deadline.as_millis());
        Ok(())
    })
}

/// Runs the timers due at `now_ms`: may queue a keep-alive ping (send the
/// output) or fail the connection with `LWSEC_TIMEOUT`.
///
/// # Safety
///
/// `conn` is NULL or a live connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_handle_timeout(
    conn: *mut lwsec_conn,
    now_ms: u64,
) -> lwsec_result {
    with_conn("lwsec_conn_handle_timeout", conn, |c| {
        Ok(c.handle_timeout(Time::from_millis(now_ms))?)
    })
}

/// Copies the detailed English message of the last failed call on this
/// connection (for example "peer sent fatal alert bad_record_mac (20)")
/// into `buf`, without a NUL terminator; `*out_written` receives its
/// length. A message longer than `buf_len` is truncated (at a UTF-8
/// character boundary); 256 bytes always suffice. `LWSEC_NOT_AVAILABLE`
/// when no call on this connection has failed yet. Calls that succeed do
/// not clear the message.
///
/// # Safety
///
/// `conn` is NULL or a live connection; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_last_error(
    conn: *const lwsec_conn,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised all pointers are NULL or valid as documented.
        let (c, buf, out) =
            unsafe { (handle(conn)?, output(buf, buf_len)?, Out::new(out_written)?) };
        let message = c
            .last_error
            .as_deref()
            .ok_or(lwsec_result::LWSEC_NOT_AVAILABLE)?;
        let mut end = message.len().min(buf.len());
        while !message.is_char_boundary(end) {
            end = end.saturating_sub(1);
        }
        let text = message.as_bytes().get(..end).unwrap_or_default();
        out.set(copy_out(text, buf)?);
        Ok(())
    })
}

/// Frees a connection (its keys are wiped). NULL is a no-op. Pointers from
/// `lwsec_conn_pending_output` become invalid. Freeing does not send
/// anything: call `lwsec_conn_close` and send the output first for a
/// graceful close.
///
/// # Safety
///
/// `conn` is NULL or a connection from this library not yet freed; it must
/// not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_conn_free(conn: *mut lwsec_conn) {
    // SAFETY: the caller promised `conn` is NULL or an unfreed handle.
    unsafe { free_handle(conn) }
}

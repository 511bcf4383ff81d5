//! The sans-IO connection.
//!
//! [`Connection`] (this file: construction, input and output; what it
//! reports about itself in `queries`)
//! drives a state machine: the client's and server's handshake states
//! (`client`, `server`, with the server's decision point in `decision`),
//! then the established state (`established`: keys, flags, timers and
//! what each record means). Received bytes become frames in `deframer`;
//! every frame is dispatched once, in [`Connection::handle_input`].
//! Commands live in `commands`, key material for tests and interop in
//! `secrets`.

mod client;
mod commands;
mod decision;
mod deframer;
#[cfg(test)]
mod error_tests;
mod established;
mod events;
mod inbox;
#[cfg(test)]
mod low_order_tests;
#[cfg(feature = "dangerous")]
mod noise_split;
mod queries;
mod secrets;
mod server;
mod timers;
mod transport;

use std::sync::Arc;

use bytes::Bytes;

use crate::config::{ClientConfig, DEFAULT_MAX_MESSAGE_SIZE, ServerConfig, ServerOptions};
use crate::error::{AlertCode, Error};
use crate::error::{DecodeReason, UnexpectedReason};
use crate::record::Output;
use crate::ticket::ResumptionTicket;
use crate::time::Time;
use crate::wire::frame::FrameType;
use crate::wire::limits::MAX_RECORD_LEN;
pub use decision::{
    Acceptance, ClientHello, EarlyDataOffer, EarlyDataRefusal, Identity, MAX_IDENTITY_LEN,
    Resumption,
};
pub use established::MAX_PING_LEN;
pub use events::Event;
#[cfg(feature = "dangerous")]
pub use noise_split::NoiseSplit;
pub use secrets::{DirectionSecrets, ExtractedSecrets};

use client::{ClientNext, ExpectServerHello};
use deframer::{Deframer, Frame};
use established::{Established, Failure};
use events::Events;
use inbox::Inbox;
use server::{AwaitDecision, ExpectClientHello, ServerNext};

/// Early data as the first flight carries it: at most 8192 bytes.
fn checked_early_data(early_data: &[u8]) -> Result<Bytes, Error> {
    if early_data.len() > crate::wire::limits::MAX_EARLY_DATA {
        return Err(Error::InvalidArgument(
            "early data is limited to 8192 bytes",
        ));
    }
    Ok(Bytes::copy_from_slice(early_data))
}

/// Which end of the connection this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The side that sends the first flight (the Noise initiator).
    Client,
    /// The side that holds static keys and answers (the Noise responder).
    Server,
}

enum State {
    Client(Box<ExpectServerHello>),
    /// Boxed like the other handshake states, so that an established
    /// connection does not carry its size inline.
    Server(Box<ExpectClientHello>),
    /// Server: message 1 was read; waiting for `accept_client` or
    /// `reject_client`.
    Deciding(Box<AwaitDecision>),
    Established(Box<Established>),
    /// A handshake state is being consumed by `handle`; only seen while a
    /// frame is processed (and by `fail` when that step fails).
    HandshakeStep,
    Failed(Error),
}

/// One lwsec connection, client or server, with no I/O of its own.
///
/// # How to drive it
///
/// The methods fall into four groups, as in `quinn-proto`:
///
/// * **Input**: [`handle_input`](Self::handle_input) feeds bytes received
///   from the peer (any chunking, even one byte at a time) and returns how
///   many it consumed; keep the rest and offer it again later.
///   [`handle_timeout`](Self::handle_timeout) tells the connection the time
///   has passed [`poll_timeout`](Self::poll_timeout).
///   [`handle_eof`](Self::handle_eof) reports that the peer's byte stream ended.
/// * **Commands**: [`send_message`](Self::send_message),
///   [`update_keys`](Self::update_keys), [`ping`](Self::ping),
///   [`close`](Self::close); on a server, the decision on a client:
///   [`accept_client`](Self::accept_client) or
///   [`reject_client`](Self::reject_client).
/// * **Decisions** (server): after the client's first flight is read, input
///   stops, [`Event::ClientHello`] is queued and
///   [`client_hello`](Self::client_hello) shows what the flight claims.
///   No application code runs inside `handle_input`: the caller looks the
///   client up however it likes (asynchronously, with a deadline) and
///   answers. Then the server sends its ServerHello and may send messages
///   at once, but reports the client as authenticated
///   ([`Event::HandshakeComplete`], [`peer_static_key`](Self::peer_static_key),
///   [`peer_identity`](Self::peer_identity)) only after the client's key
///   confirmation, its first record.
/// * **Output**: bytes to send are in [`pending_output`](Self::pending_output)
///   (then [`consume_output`](Self::consume_output)) or copied out by
///   [`take_output`](Self::take_output); events come from
///   [`poll_event`](Self::poll_event); messages from
///   [`recv_message`](Self::recv_message) (whole) or [`read`](Self::read)
///   (stream view).
/// * **Getters**: state, negotiated suite and pattern, peer key, channel
///   binding and exporter.
///
/// After every input or command, send the pending output. After a fatal
/// error every call returns that error; the pending output may still hold
/// one alert for the peer, which should be sent before closing the socket.
///
/// ```
/// use std::sync::Arc;
/// use lwsec::{Acceptance, ClientConfig, Connection, ServerConfig, StaticKeyPair, Time, rng::OsRandom};
///
/// let server_key = StaticKeyPair::generate(&OsRandom)?;
/// let client_cfg = Arc::new(ClientConfig::nk(server_key.public_key()));
/// let server_cfg = Arc::new(ServerConfig::new(server_key));
/// let now = Time::from_millis(0);
///
/// let mut client = Connection::client(client_cfg, now)?;
/// let mut server = Connection::server(server_cfg, now)?;
/// // Shuttle bytes until both are established (a socket would do this).
/// while client.is_handshaking() || server.is_handshaking() {
///     let n = server.handle_input(client.pending_output(), now)?;
///     client.consume_output(n);
///     if server.client_hello().is_some() {
///         server.accept_client(Acceptance::new(), now)?; // or look the client up first
///     }
///     let n = client.handle_input(server.pending_output(), now)?;
///     server.consume_output(n);
/// }
/// client.send_message(b"hello")?;
/// let n = server.handle_input(client.pending_output(), now)?;
/// client.consume_output(n);
/// assert_eq!(server.recv_message().as_deref(), Some(&b"hello"[..]));
/// # Ok::<(), lwsec::Error>(())
/// ```
pub struct Connection {
    side: Side,
    state: State,
    /// Created on first use; `None` on an idle connection (see
    /// [`release_idle_memory`](Self::release_idle_memory)).
    buffers: Option<Box<Buffers>>,
}

/// What a connection buffers: all of it empty on an idle connection, so it
/// lives in a box that exists only while it is used, and an idle
/// connection (inside a server's task) pays one pointer for it.
#[derive(Default)]
struct Buffers {
    deframer: Deframer,
    /// Bytes waiting to be sent.
    tx: Output,
    events: Events,
    /// Received messages not yet taken by the application.
    inbox: Inbox,
}

impl Buffers {
    /// Whether nothing is held: no partial frame, no output, no event, no
    /// message (whole or partial).
    fn is_unused(&self) -> bool {
        self.deframer.is_empty()
            && self.tx.is_empty()
            && self.events.is_empty()
            && self.inbox.is_empty()
    }

    /// Frees the memory of whatever is empty.
    fn release(&mut self) {
        self.deframer.release();
        self.tx.release();
        self.inbox.release();
        self.events.release();
    }
}

impl Connection {
    fn new(side: Side, state: State, tx: Output) -> Self {
        let buffers = (!tx.is_empty()).then(|| {
            Box::new(Buffers {
                tx,
                ..Buffers::default()
            })
        });
        Self {
            side,
            state,
            buffers,
        }
    }

    /// The buffers, created if the connection was idle, next to the state.
    #[inline]
    fn parts(&mut self) -> (&mut State, &mut Buffers) {
        (
            &mut self.state,
            self.buffers.get_or_insert_with(Box::default),
        )
    }

    /// The buffers, created if the connection was idle.
    #[inline]
    fn buffers_mut(&mut self) -> &mut Buffers {
        self.buffers.get_or_insert_with(Box::default)
    }

    /// The buffers, if the connection has any.
    #[inline]
    fn buffers(&self) -> Option<&Buffers> {
        self.buffers.as_deref()
    }

    /// A client connection; its ClientHello is queued in the output at once.
    pub fn client(config: Arc<ClientConfig>, now: Time) -> Result<Self, Error> {
        Self::start_client(config, None, None, now)
    }

    /// A client connection whose first flight carries `early_data` (0-RTT,
    /// at most [`MAX_EARLY_DATA`](crate::early_data::MAX_EARLY_DATA) bytes).
    ///
    /// **Early data is replayable and not forward secret**: it is encrypted
    /// only to the server's static key, and an attacker who records the
    /// flight can send it again. Use it only for requests that are safe to
    /// repeat (e.g. "fetch new messages"), never for "send payment". A server
    /// accepts it only with a replay guard; the outcome arrives as
    /// [`Event::EarlyDataAccepted`] or [`Event::EarlyDataRejected`] after the
    /// handshake (resend rejected data as a normal message if needed). `now`
    /// must be the wall clock: the server checks the flight's timestamp.
    pub fn client_with_replayable_early_data(
        config: Arc<ClientConfig>,
        now: Time,
        early_data: &[u8],
    ) -> Result<Self, Error> {
        Self::start_client(config, None, Some(checked_early_data(early_data)?), now)
    }

    /// A client connection that resumes a session with `ticket` (from
    /// [`Event::ResumptionTicket`] on an earlier connection to the same
    /// server or fleet; `spec/PROTOCOL.md` section 4.11). The server opens
    /// the ticket and skips its static-key work; if it does not know the
    /// ticket (rotated keys, another fleet, expired) it says so and the
    /// connection runs a full handshake with `config` on the same socket,
    /// one round trip later. An expired ticket is not sent at all.
    /// [`is_resumed`](Self::is_resumed) tells which happened.
    ///
    /// A resumed handshake authenticates the server as a holder of the
    /// fleet's ticket key, which issued the ticket to a connection
    /// authenticated by a pinned key; [`peer_static_key`](Self::peer_static_key)
    /// is `None` on a resumed client.
    pub fn resume(
        config: Arc<ClientConfig>,
        ticket: ResumptionTicket,
        now: Time,
    ) -> Result<Self, Error> {
        Self::start_client(config, Some(ticket), None, now)
    }

    /// [`resume`](Self::resume) with early data in the first flight: as
    /// replayable as in [`client_with_replayable_early_data`](Self::client_with_replayable_early_data),
    /// encrypted under the ticket's secret (not forward secret either).
    /// Never sent again if the server refuses the ticket.
    pub fn resume_with_replayable_early_data(
        config: Arc<ClientConfig>,
        ticket: ResumptionTicket,
        now: Time,
        early_data: &[u8],
    ) -> Result<Self, Error> {
        Self::start_client(
            config,
            Some(ticket),
            Some(checked_early_data(early_data)?),
            now,
        )
    }

    fn start_client(
        config: Arc<ClientConfig>,
        ticket: Option<ResumptionTicket>,
        early: Option<Bytes>,
        now: Time,
    ) -> Result<Self, Error> {
        config.validate()?;
        let ticket = ticket.filter(|t| !t.is_expired(now));
        let mut tx = Output::default();
        let hello = ExpectServerHello::start(config, None, ticket, early, now, &mut tx)?;
        Ok(Self::new(Side::Client, State::Client(hello), tx))
    }

    /// A server connection waiting for a ClientHello.
    pub fn server(config: Arc<ServerConfig>, now: Time) -> Result<Self, Error> {
        Self::server_with_options(config, now, ServerOptions::default())
    }

    /// A server connection with per-connection facts from the adapter: the
    /// peer's address (cookies are bound to it) and whether to demand a
    /// cookie before doing any Diffie-Hellman work (under load).
    pub fn server_with_options(
        config: Arc<ServerConfig>,
        _now: Time,
        options: ServerOptions,
    ) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self::new(
            Side::Server,
            State::Server(Box::new(ExpectClientHello { config, options })),
            Output::default(),
        ))
    }

    fn check_alive(&self) -> Result<(), Error> {
        match &self.state {
            State::Failed(e) => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// The message size limit of a connection in `state`.
    fn max_message_size(state: &State) -> usize {
        match state {
            State::Established(e) => e.keys.config().max_message_size,
            _ => DEFAULT_MAX_MESSAGE_SIZE,
        }
    }

    // ----- input -----

    /// Feeds bytes received from the peer and returns how many were consumed.
    ///
    /// Fewer than `data.len()` are consumed when received messages fill
    /// `max_message_size`, unsent output piles up, or a server waits for its
    /// decision on the client: take messages, send output or decide, then
    /// offer the rest again. Processing stops at the first error.
    ///
    /// Each record is copied once, into the connection's receive buffer, and
    /// opened there; single-record messages are handed out as views of that
    /// buffer, which is reused once the application has dropped them.
    pub fn handle_input(&mut self, data: &[u8], now: Time) -> Result<usize, Error> {
        self.check_alive()?;
        if data.is_empty() && self.buffers.is_none() {
            return Ok(0);
        }
        let mut rest = data;
        loop {
            let (state, buffers) = self.parts();
            if buffers.deframer.is_empty() && Self::input_blocked(state, buffers) {
                break;
            }
            let frame = match buffers.deframer.next(&mut rest) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => return Err(self.fail(e, true)),
            };
            if let Err(failure) = self.dispatch(frame, now) {
                return Err(self.fail(failure.error, failure.send_alert));
            }
        }
        Ok(data.len().saturating_sub(rest.len()))
    }

    /// Whether to stop reading new frames until the application catches up.
    fn input_blocked(state: &State, buffers: &Buffers) -> bool {
        let max = Self::max_message_size(state);
        matches!(state, State::Deciding(_))
            || (buffers.inbox.has_waiting() && buffers.inbox.held() >= max)
            || buffers.tx.len() > max.saturating_add(MAX_RECORD_LEN)
    }

    /// The one dispatch: every complete frame, by state and type.
    #[inline]
    fn dispatch(&mut self, frame: Frame, now: Time) -> Result<(), Failure> {
        let (state, b) = self.parts();
        match (state, frame.header.frame_type) {
            (State::Established(e), FrameType::Record) => {
                e.receive(frame, &mut b.inbox, &mut b.tx, &mut b.events, now)
            }
            (State::Failed(e), _) => Err(Failure::silent(e.clone())),
            (_, FrameType::Alert) => self.cleartext_alert(&frame),
            _ => self.handshake_frame(frame, now),
        }
    }

    /// A cleartext alert: reported, unauthenticated, during the handshake
    /// (including on a server waiting for the key confirmation); an
    /// `unexpected_message` once the handshake is complete. Never answered
    /// with an alert (section 4.8).
    fn cleartext_alert(&self, frame: &Frame) -> Result<(), Failure> {
        if self.is_established() {
            return Err(Failure::silent(Error::UnexpectedMessage(
                UnexpectedReason::CleartextAlertAfterHandshake,
            )));
        }
        let code = frame
            .body
            .first()
            .copied()
            .ok_or(Failure::alert(Error::Decode(DecodeReason::EmptyAlert)))?;
        Err(Failure::silent(Error::from_alert(
            AlertCode::from_u8(code),
            false,
        )))
    }

    /// A handshake frame (ClientHello, ServerHello, Retry) or a record
    /// before there are keys.
    fn handshake_frame(&mut self, mut frame: Frame, now: Time) -> Result<(), Failure> {
        let frame_type = frame.header.frame_type;
        // Mutable: the Noise message is decrypted in place.
        let body = &mut frame.body[..];
        let buffers = self.buffers.get_or_insert_with(Box::default);
        let (tx, events) = (&mut buffers.tx, &mut buffers.events);
        match std::mem::replace(&mut self.state, State::HandshakeStep) {
            State::Client(hs) => match hs.handle(frame_type, body, tx, now) {
                Ok(ClientNext::Again(hs)) => self.state = State::Client(hs),
                Ok(ClientNext::Established(keys, early_status, announced)) => {
                    self.state =
                        State::Established(Box::new(Established::new(*keys, true, None, now)));
                    events.push(Event::HandshakeComplete);
                    match early_status {
                        Some(true) => events.push(Event::EarlyDataAccepted),
                        Some(false) => events.push(Event::EarlyDataRejected),
                        None => {}
                    }
                    if let Some(keys) = announced {
                        events.push(Event::ServerKeysAnnounced(keys));
                    }
                }
                Err(e) => return Err(Failure::alert(e)),
            },
            State::Server(hs) => match hs.handle(frame_type, body, tx, now) {
                Ok(ServerNext::Again(hs)) => self.state = State::Server(Box::new(hs)),
                Ok(ServerNext::Decide(d)) => {
                    self.state = State::Deciding(d);
                    events.push(Event::ClientHello);
                }
                Err(e) => return Err(Failure::alert(e)),
            },
            State::Established(e) => {
                self.state = State::Established(e);
                return Err(Failure::alert(Error::UnexpectedMessage(
                    UnexpectedReason::HandshakeFrameAfterHandshake,
                )));
            }
            state @ (State::Deciding(_) | State::HandshakeStep | State::Failed(_)) => {
                self.state = state;
                return Err(Failure::alert(Error::Internal(
                    "input while a decision is pending or after a failure",
                )));
            }
        }
        Ok(())
    }

    /// Reports that the peer's byte stream ended. Returns `Ok` when the peer
    /// had closed gracefully; otherwise the connection fails with
    /// [`Error::Truncated`].
    pub fn handle_eof(&mut self) -> Result<(), Error> {
        self.check_alive()?;
        if self.is_peer_closed() && self.buffers().is_none_or(|b| b.deframer.is_empty()) {
            return Ok(());
        }
        Err(self.fail(Error::Truncated, false))
    }

    /// The time at which [`handle_timeout`](Self::handle_timeout) should be
    /// called next, if any timer is armed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        self.established().and_then(Established::poll_timeout)
    }

    /// Runs the timers due at `now`: sends a keep-alive ping when nothing
    /// was sent for `keepalive_interval`, fails with [`Error::Timeout`] when
    /// nothing was received for `idle_timeout` and with
    /// [`Error::PartialMessageTimeout`] when a message begun
    /// `partial_message_timeout` ago is still incomplete.
    pub fn handle_timeout(&mut self, now: Time) -> Result<(), Error> {
        self.check_alive()?;
        if !matches!(self.state, State::Established(_)) {
            return Ok(());
        }
        // An idle connection gets buffers only if a keep-alive ping is sent.
        let was_idle = self.buffers.is_none();
        let (State::Established(e), buffers) = self.parts() else {
            return Ok(());
        };
        let result = e.handle_timeout(now, &mut buffers.tx);
        if was_idle && buffers.is_unused() {
            self.buffers = None;
        }
        match result {
            Ok(()) => Ok(()),
            Err(err @ (Error::Timeout | Error::PartialMessageTimeout)) => {
                Err(self.fail(err, false))
            }
            Err(err) => Err(self.fail(err, true)),
        }
    }

    // ----- output -----

    /// Bytes waiting to be sent to the peer.
    pub fn pending_output(&self) -> &[u8] {
        self.buffers().map_or(&[], |b| b.tx.pending())
    }

    /// Whether there are bytes waiting to be sent.
    pub fn wants_write(&self) -> bool {
        self.buffers().is_some_and(|b| !b.tx.is_empty())
    }

    /// Marks the first `n` bytes of [`pending_output`](Self::pending_output) as sent.
    pub fn consume_output(&mut self, n: usize) {
        if let Some(b) = self.buffers.as_deref_mut() {
            b.tx.consume(n);
        }
    }

    /// Copies as much pending output as fits into `out`, marks it sent and
    /// returns how many bytes were copied.
    pub fn take_output(&mut self, out: &mut [u8]) -> usize {
        let pending = self.pending_output();
        let n = out.len().min(pending.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), pending.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume_output(n);
        n
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.buffers.as_deref_mut()?.events.pop()
    }

    /// The next complete message, if any.
    #[must_use]
    pub fn recv_message(&mut self) -> Option<Bytes> {
        self.buffers.as_deref_mut()?.inbox.pop()
    }

    /// Memory held for received bytes not yet taken by the application: the
    /// receive buffer, the message being reassembled and complete messages
    /// waiting (each charged for the allocation it keeps alive). A server
    /// adapter sums it across connections to enforce a memory budget.
    pub fn buffered_len(&self) -> usize {
        self.buffers()
            .map_or(0, |b| b.deframer.capacity().saturating_add(b.inbox.held()))
    }

    /// The length of the next complete message, if any.
    pub fn next_message_len(&self) -> Option<usize> {
        self.buffers()?.inbox.front_len()
    }

    /// Stream view: copies received bytes into `buf`, ignoring message
    /// boundaries, and returns how many were copied (0 when none are ready).
    /// Only complete messages are readable.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        self.buffers.as_deref_mut().map_or(0, |b| b.inbox.read(buf))
    }

    /// Queues the cleartext alert frame (handshake phase) for `err`, if it
    /// has one: `0x15 0x00 0x01 code`, written in place.
    fn queue_cleartext_alert(&mut self, err: &Error) {
        if let Some(code) = err.alert() {
            self.buffers_mut()
                .tx
                .put(&[FrameType::Alert.to_u8(), 0x00, 0x01, code.to_u8()]);
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("side", &self.side)
            .field("handshaking", &self.is_handshaking())
            .field("established", &self.is_established())
            .field("error", &self.error())
            .field("pending_output", &self.pending_output().len())
            .finish_non_exhaustive()
    }
}

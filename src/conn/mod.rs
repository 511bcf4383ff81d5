//! The sans-IO connection.

mod client;
mod decision;
mod inbox;
#[cfg(test)]
mod low_order_tests;
mod server;
mod transport;

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use zeroize::Zeroizing;

use crate::config::{ClientConfig, ServerConfig, ServerOptions, TransportConfig};
use crate::crypto::dh::PublicKey;
use crate::crypto::hash::HASH_LEN;
use crate::error::{AlertCode, Error, Rejection};
use crate::key_schedule;
use crate::record::{ContentType, MAX_FRAGMENT_LEN, Output};
use crate::suite::{Pattern, Suite};
use crate::time::Time;
use crate::wire::frame::{FrameHeader, FrameType, HEADER_LEN, write_frame};
pub use decision::{
    Acceptance, ClientHello, EarlyDataOffer, EarlyDataRefusal, Identity, MAX_IDENTITY_LEN,
};

use client::{ClientNext, ExpectServerHello};
use inbox::Inbox;
use server::{AwaitDecision, ExpectClientHello, ServerNext};
use transport::{Transport, UPDATE_NOT_REQUESTED, UPDATE_REQUESTED};

/// Largest ping payload.
pub const MAX_PING_LEN: usize = 64;

/// Most `KeyUpdated` and `Pong` events kept waiting for the application;
/// further ones are dropped, so a peer cannot grow the queue without bound.
const MAX_QUEUED_EVENTS: usize = 32;

/// Which end of the connection this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The side that sends the first flight (the Noise initiator).
    Client,
    /// The side that holds static keys and answers (the Noise responder).
    Server,
}

/// Something that happened on a connection, returned by [`Connection::poll_event`].
///
/// `KeyUpdated` and `Pong` are informational: while 32 events are waiting,
/// further ones are dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Server: a client's first flight was read and the connection waits
    /// for the application's decision. Look at
    /// [`Connection::client_hello`], then call
    /// [`Connection::accept_client`] or [`Connection::reject_client`].
    ClientHello,
    /// The handshake finished and both sides are authenticated as the
    /// pattern promises: on a client, once the ServerHello is read; on a
    /// server, once the client's key confirmation arrived (a replayed first
    /// flight never gets here).
    HandshakeComplete,
    /// The peer switched to new sending keys (a key update was received).
    KeyUpdated,
    /// The answer to a [`Connection::ping`], with the ping's payload.
    Pong(Bytes),
    /// The peer closed gracefully: it will send nothing more. Messages
    /// received before the close are still returned by `recv_message`.
    PeerClosed,
    /// Server: the client's first flight carried this early data and the
    /// replay guard accepted it (reported when the client is accepted,
    /// before its key confirmation, so a reply can go out at once).
    /// **Replayable and not forward secret**: treat it as a request that may
    /// arrive twice (across servers without a shared guard), from a client
    /// not yet confirmed, readable by anyone holding the server's static key.
    EarlyData(Bytes),
    /// Client: the server accepted the early data of the first flight.
    EarlyDataAccepted,
    /// Client: the server announced, inside the authenticated handshake, the
    /// server keys to pin from now on, in order (`spec/PROTOCOL.md` section
    /// 4.4, `server_keys`). If the key this connection used is not among
    /// them, it is being retired. Store them (atomically) and connect with
    /// the first next time; see [`ClientConfig::set_pinned_keys`](crate::ClientConfig::set_pinned_keys).
    ServerKeysAnnounced(Vec<PublicKey>),
    /// Client: the early data was not accepted (the server has no replay
    /// guard, the flight was outside its time window or looked like a
    /// replay), or was not sent at all because the server answered with a
    /// Retry. Send it again as a normal message if it is still needed.
    EarlyDataRejected,
}

enum State {
    Client(Box<ExpectServerHello>),
    /// Boxed like the other handshake states, so that an established
    /// connection does not carry its size inline.
    Server(Box<ExpectClientHello>),
    /// Server: message 1 was read; waiting for `accept_client` or
    /// `reject_client`.
    Deciding(Box<AwaitDecision>),
    Established(Box<Transport>),
    /// A handshake state is being consumed by `handle`; only seen while a
    /// frame is processed (and by `fail` when that step fails).
    HandshakeStep,
    Failed(Error),
}

/// The current key material of one direction, from
/// [`Connection::dangerous_extract_secrets`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectionSecrets {
    /// The traffic secret.
    pub secret: Zeroizing<[u8; 32]>,
    /// The AEAD key derived from it.
    pub key: Zeroizing<[u8; 32]>,
    /// The IV derived from it.
    pub iv: [u8; 12],
    /// The sequence number of the next record.
    pub seq: u64,
}

impl std::fmt::Debug for DirectionSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectionSecrets(<redacted>)")
    }
}

/// A connection's current key material, both directions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtractedSecrets {
    /// What this side sends with.
    pub send: DirectionSecrets,
    /// What this side receives with.
    pub recv: DirectionSecrets,
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
    /// Bytes of the frame being received; never more than one frame.
    rx: BytesMut,
    /// Bytes waiting to be sent.
    tx: Output,
    events: VecDeque<Event>,
    /// Received messages not yet taken by the application.
    inbox: Inbox,
    peer_closed: bool,
    local_closed: bool,
    max_message_size: usize,
    keepalive_interval: Option<std::time::Duration>,
    idle_timeout: Option<std::time::Duration>,
    partial_message_timeout: Option<std::time::Duration>,
    /// When the first fragment of the message being reassembled arrived.
    partial_since: Option<Time>,
    last_rx: Time,
    next_keepalive: Option<Time>,
    sent_since_keepalive: bool,
    /// Keep-alive pings sent and not yet answered: their (empty) pongs are
    /// not reported, so an idle connection does not pile up events.
    keepalive_pongs_due: u8,
}

impl Connection {
    fn new(side: Side, state: State, transport: &TransportConfig, now: Time) -> Self {
        Self {
            side,
            state,
            rx: BytesMut::new(),
            tx: Output::default(),
            events: VecDeque::new(),
            inbox: Inbox::default(),
            peer_closed: false,
            local_closed: false,
            max_message_size: transport.max_message_size,
            keepalive_interval: transport.keepalive_interval,
            idle_timeout: transport.idle_timeout,
            partial_message_timeout: transport.partial_message_timeout,
            partial_since: None,
            last_rx: now,
            next_keepalive: None,
            sent_since_keepalive: false,
            keepalive_pongs_due: 0,
        }
    }

    /// A client connection; its ClientHello is queued in the output at once.
    pub fn client(config: Arc<ClientConfig>, now: Time) -> Result<Self, Error> {
        Self::start_client(config, None, now)
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
        if early_data.len() > crate::early_data::MAX_EARLY_DATA {
            return Err(Error::InvalidArgument(
                "early data is limited to 8192 bytes",
            ));
        }
        Self::start_client(config, Some(Bytes::copy_from_slice(early_data)), now)
    }

    fn start_client(
        config: Arc<ClientConfig>,
        early: Option<Bytes>,
        now: Time,
    ) -> Result<Self, Error> {
        config.validate()?;
        let mut tx = Output::default();
        let transport = config.transport.clone();
        let hello = ExpectServerHello::start(config, None, early, now, &mut tx)?;
        let mut conn = Self::new(Side::Client, State::Client(hello), &transport, now);
        conn.tx = tx;
        Ok(conn)
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
        now: Time,
        options: ServerOptions,
    ) -> Result<Self, Error> {
        config.validate()?;
        let transport = config.transport.clone();
        Ok(Self::new(
            Side::Server,
            State::Server(Box::new(ExpectClientHello { config, options })),
            &transport,
            now,
        ))
    }

    /// An established connection from a `Split()` done by another Noise
    /// implementation: `k1` and `k2` are the initiator-to-responder and
    /// responder-to-initiator keys, `handshake_hash` the final `h`.
    ///
    /// This is the door for interoperability tests and for peers that run
    /// the Noise handshake themselves; nothing here checks that the
    /// handshake really happened, hence the name. The connection is in the
    /// state right after the handshake messages: a client has queued its
    /// confirm record (section 4.10), a server waits for it. It uses
    /// [`crypto::default_provider`](crate::crypto::default_provider).
    #[allow(clippy::too_many_arguments)]
    pub fn dangerous_from_noise_split(
        side: Side,
        pattern: Pattern,
        suite: Suite,
        k1: &[u8; 32],
        k2: &[u8; 32],
        handshake_hash: [u8; 32],
        peer_static: Option<PublicKey>,
        config: TransportConfig,
        now: Time,
    ) -> Result<Self, Error> {
        config.validate()?;
        let mut transport = Transport::from_split(
            crate::crypto::default_provider(),
            side,
            pattern,
            suite,
            k1,
            k2,
            handshake_hash,
            peer_static,
            config.clone(),
        )?;
        let mut tx = Output::default();
        match side {
            Side::Client => transport.seal(&mut tx, ContentType::Confirm, &[])?,
            Side::Server => transport.await_confirmation(None),
        }
        let confirmed = transport.confirmed;
        let mut conn = Self::new(side, State::Established(Box::new(transport)), &config, now);
        conn.tx = tx;
        if confirmed {
            conn.on_established(now);
        }
        Ok(conn)
    }

    // ----- getters -----

    /// Which side this is.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Whether the handshake is still running (not complete, not failed). A
    /// server is handshaking until the client's key confirmation arrives.
    pub fn is_handshaking(&self) -> bool {
        match &self.state {
            State::Client(_) | State::Server(_) | State::Deciding(_) | State::HandshakeStep => true,
            State::Established(t) => !t.confirmed,
            State::Failed(_) => false,
        }
    }

    /// Whether the handshake completed (on a server: the client confirmed
    /// it) and the connection has not failed.
    pub fn is_established(&self) -> bool {
        matches!(&self.state, State::Established(t) if t.confirmed)
    }

    /// Server, before any ClientHello arrived: whether to demand a Retry
    /// cookie from the client (see [`ServerOptions::with_cookie_demanded`]).
    /// Adapters decide this once the client has sent something, so that
    /// idle sockets do not count as handshakes in progress. Fails with
    /// [`Error::HandshakeNotComplete`] in any other state.
    pub fn set_cookie_demanded(&mut self, demand: bool) -> Result<(), Error> {
        match &mut self.state {
            State::Server(hs) => {
                hs.options.demand_cookie = demand;
                Ok(())
            }
            _ => Err(Error::HandshakeNotComplete),
        }
    }

    /// Server: whether the ServerHello was sent and the client's key
    /// confirmation is awaited. Messages may already be sent (0.5-RTT data,
    /// encrypted to the client the first flight names, which may be a
    /// replay); nothing about the client is authenticated yet.
    pub fn is_awaiting_confirmation(&self) -> bool {
        matches!(&self.state, State::Established(t) if !t.confirmed)
    }

    /// Server: what the client's first flight says, while the connection
    /// waits for [`accept_client`](Self::accept_client) or
    /// [`reject_client`](Self::reject_client); `None` otherwise.
    pub fn client_hello(&self) -> Option<&ClientHello> {
        match &self.state {
            State::Deciding(d) => Some(&d.hello),
            _ => None,
        }
    }

    /// The fatal error this connection failed with, if any.
    pub fn error(&self) -> Option<&Error> {
        match &self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the peer has closed gracefully.
    pub fn is_peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Whether this side has called [`close`](Self::close).
    pub fn is_closed(&self) -> bool {
        self.local_closed
    }

    fn transport(&self) -> Option<&Transport> {
        match &self.state {
            State::Established(t) => Some(t),
            _ => None,
        }
    }

    /// The transport once the peer is confirmed.
    fn confirmed_transport(&self) -> Option<&Transport> {
        self.transport().filter(|t| t.confirmed)
    }

    /// The negotiated suite, once established.
    pub fn suite(&self) -> Option<Suite> {
        self.transport().map(|t| t.suite)
    }

    /// The handshake pattern, once established.
    pub fn pattern(&self) -> Option<Pattern> {
        self.transport().map(|t| t.pattern)
    }

    /// The peer's authenticated static key: the server's key on a client, the
    /// client's device key on an IK server once the client confirmed the
    /// handshake, `None` on an NK server.
    pub fn peer_static_key(&self) -> Option<PublicKey> {
        self.confirmed_transport().and_then(|t| t.peer_static)
    }

    /// Server: the application identity given to
    /// [`accept_client`](Self::accept_client), once the client confirmed
    /// the handshake.
    pub fn peer_identity(&self) -> Option<&Identity> {
        self.confirmed_transport().and_then(|t| t.identity.as_ref())
    }

    /// The Noise handshake hash: a channel binding both sides share, unique
    /// to this connection. Not secret.
    pub fn handshake_hash(&self) -> Option<[u8; HASH_LEN]> {
        self.transport().map(|t| t.handshake_hash)
    }

    /// Fills `out` with keying material bound to this connection, `label`
    /// (non-empty, at most 249 bytes) and `context` (any bytes). Both sides
    /// derive the same bytes; `out` may be up to 8160 bytes.
    pub fn export_keying_material(
        &self,
        label: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        self.confirmed_transport()
            .ok_or(Error::HandshakeNotComplete)?
            .export(label, context, out)
    }

    /// The current traffic secrets, keys and IVs. For test vectors and
    /// debugging only: anyone holding them can read and forge this connection.
    pub fn dangerous_extract_secrets(&self) -> Option<ExtractedSecrets> {
        let t = self.transport()?;
        let (send, recv) = t.traffic_secrets();
        let (send_seq, recv_seq) = t.sequence_numbers();
        let direction = |secret: &[u8; 32], seq| {
            let (key, iv) = key_schedule::record_key_iv(t.provider(), secret).ok()?;
            Some(DirectionSecrets {
                secret: Zeroizing::new(*secret),
                key,
                iv,
                seq,
            })
        };
        Some(ExtractedSecrets {
            send: direction(send, send_seq)?,
            recv: direction(recv, recv_seq)?,
        })
    }

    fn check_alive(&self) -> Result<(), Error> {
        match &self.state {
            State::Failed(e) => Err(e.clone()),
            _ => Ok(()),
        }
    }

    // ----- input -----

    /// Feeds bytes received from the peer and returns how many were consumed.
    ///
    /// Fewer than `data.len()` are consumed when received messages fill
    /// `max_message_size` or unsent output piles up: take messages and send
    /// output, then offer the rest again. Processing stops at the first error.
    ///
    /// Each record is copied once, into the connection's receive buffer, and
    /// opened there; single-record messages are handed out as views of that
    /// buffer, which is reused once the application has dropped them.
    pub fn handle_input(&mut self, data: &[u8], now: Time) -> Result<usize, Error> {
        self.check_alive()?;
        let mut rest = data;
        loop {
            if self.rx.is_empty() {
                if self.input_blocked() {
                    break;
                }
                // Fast path: a whole frame in `rest`. Its header is decoded
                // once and its body copied once.
                if let Some((header_bytes, tail)) = rest.split_first_chunk::<HEADER_LEN>() {
                    let header = match FrameHeader::decode(*header_bytes) {
                        Ok(h) => h,
                        Err(e) => return Err(self.fail(e, true)),
                    };
                    if let Some((body, tail)) = tail.split_at_checked(header.body_len) {
                        self.rx.extend_from_slice(body);
                        // The allocation a view of this frame keeps alive (at least).
                        let pinned = self.rx.capacity();
                        let body = self.rx.split();
                        rest = tail;
                        self.last_rx = now;
                        let header_bytes = *header_bytes;
                        // Records after the handshake (nearly every frame)
                        // go straight to `process_record`, inlined here, so
                        // that `body` is not moved through memory twice.
                        let processed = if header.frame_type == FrameType::Record
                            && matches!(self.state, State::Established(_))
                        {
                            self.process_record(header_bytes, body, pinned)
                        } else {
                            self.process_frame(header, header_bytes, body, pinned, now)
                        };
                        if let Err((e, alert)) = processed {
                            return Err(self.fail(e, alert));
                        }
                        continue;
                    }
                    // A partial frame: make room for all of it at once, so
                    // that `rx` is not regrown (and over-allocated) piecemeal.
                    self.rx.reserve(HEADER_LEN.saturating_add(header.body_len));
                }
                if rest.is_empty() {
                    break;
                }
            }
            // Slow path: a frame split across calls, gathered in `rx`
            // (header included).
            if self.rx.len() < HEADER_LEN {
                let take = HEADER_LEN.saturating_sub(self.rx.len()).min(rest.len());
                let (head, tail) = rest.split_at(take);
                self.rx.extend_from_slice(head);
                rest = tail;
            }
            let Some(header_bytes) = self.rx.first_chunk::<HEADER_LEN>().copied() else {
                break;
            };
            let header = match FrameHeader::decode(header_bytes) {
                Ok(h) => h,
                Err(e) => return Err(self.fail(e, true)),
            };
            let frame_len = HEADER_LEN.saturating_add(header.body_len);
            let take = frame_len.saturating_sub(self.rx.len()).min(rest.len());
            let (head, tail) = rest.split_at(take);
            self.rx.extend_from_slice(head);
            rest = tail;
            if self.rx.len() < frame_len {
                break;
            }
            self.last_rx = now;
            let pinned = self.rx.capacity();
            let mut body = self.rx.split_to(frame_len);
            body.advance(HEADER_LEN);
            if let Err((e, alert)) = self.process_frame(header, header_bytes, body, pinned, now) {
                return Err(self.fail(e, alert));
            }
        }
        Ok(data.len().saturating_sub(rest.len()))
    }

    /// Whether to stop reading new frames until the application catches up.
    fn input_blocked(&self) -> bool {
        matches!(self.state, State::Deciding(_))
            || (self.inbox.has_waiting() && self.inbox.held() >= self.max_message_size)
            || self.tx.len()
                > self
                    .max_message_size
                    .saturating_add(crate::record::MAX_RECORD_LEN)
    }

    /// Handles one complete frame (`body` without its header). The error
    /// carries whether an alert should be sent (not when the error is the
    /// peer's own alert). `pinned` is the memory a view of `body` keeps
    /// alive.
    fn process_frame(
        &mut self,
        header: FrameHeader,
        header_bytes: [u8; HEADER_LEN],
        frame: BytesMut,
        pinned: usize,
        now: Time,
    ) -> Result<(), (Error, bool)> {
        if header.frame_type == FrameType::Record {
            if let State::Established(_) = self.state {
                return self.process_record(header_bytes, frame, pinned);
            }
        }
        if header.frame_type == FrameType::Alert {
            // A cleartext alert is reported (unauthenticated) during the
            // handshake, including on a server right after its ServerHello
            // (the client may have failed to read it). It is never answered
            // with an alert (section 4.8).
            if self.is_established() {
                return Err((
                    Error::UnexpectedMessage("cleartext alert after the handshake"),
                    false,
                ));
            }
            let code = frame
                .first()
                .copied()
                .ok_or((Error::Decode("empty alert"), true))?;
            return Err((Error::from_alert(AlertCode::from_u8(code), false), false));
        }
        let state = std::mem::replace(&mut self.state, State::HandshakeStep);
        match state {
            State::Client(hs) => match hs.handle(header.frame_type, &frame, &mut self.tx, now) {
                Ok(ClientNext::Again(hs)) => self.state = State::Client(hs),
                Ok(ClientNext::Established(t, early_status, announced)) => {
                    self.state = State::Established(t);
                    self.on_established(now);
                    match early_status {
                        Some(true) => self.events.push_back(Event::EarlyDataAccepted),
                        Some(false) => self.events.push_back(Event::EarlyDataRejected),
                        None => {}
                    }
                    if let Some(keys) = announced {
                        self.events.push_back(Event::ServerKeysAnnounced(keys));
                    }
                }
                Err(e) => return Err((e, true)),
            },
            State::Server(hs) => match hs.handle(header.frame_type, &frame, &mut self.tx, now) {
                Ok(ServerNext::Again(hs)) => self.state = State::Server(Box::new(hs)),
                Ok(ServerNext::Decide(d)) => {
                    self.state = State::Deciding(d);
                    self.events.push_back(Event::ClientHello);
                }
                Err(e) => return Err((e, true)),
            },
            State::Deciding(d) => {
                self.state = State::Deciding(d);
                return Err((Error::Internal("input while a decision is pending"), true));
            }
            State::Established(t) => {
                self.state = State::Established(t);
                return Err((
                    Error::UnexpectedMessage("handshake frame after the handshake"),
                    true,
                ));
            }
            State::HandshakeStep => {
                return Err((Error::UnexpectedMessage("re-entered handshake step"), false));
            }
            State::Failed(e) => {
                self.state = State::Failed(e.clone());
                return Err((e, false));
            }
        }
        Ok(())
    }

    fn on_established(&mut self, now: Time) {
        self.events.push_back(Event::HandshakeComplete);
        self.next_keepalive = self.keepalive_interval.map(|i| now.saturating_add(i));
    }

    #[inline]
    fn process_record(
        &mut self,
        header: [u8; HEADER_LEN],
        mut record: BytesMut,
        pinned: usize,
    ) -> Result<(), (Error, bool)> {
        let State::Established(t) = &mut self.state else {
            return Err((
                Error::UnexpectedMessage("record before the handshake"),
                true,
            ));
        };
        if self.peer_closed {
            return Err((Error::UnexpectedMessage("record after close_notify"), true));
        }
        let (content_type, len) = t.open(&header, &mut record).map_err(|e| (e, true))?;
        record.truncate(len);
        let fatal = |e| (e, true);
        if !t.confirmed {
            if content_type != ContentType::Confirm {
                return Err(fatal(Error::UnexpectedMessage(
                    "record before the client's key confirmation",
                )));
            }
            if !record.is_empty() {
                return Err(fatal(Error::Decode("confirm record with a payload")));
            }
            t.confirmed = true;
            let now = self.last_rx;
            self.on_established(now);
            return Ok(());
        }
        match content_type {
            ContentType::MessageContinues | ContentType::MessageEnd => {
                if content_type == ContentType::MessageContinues && record.is_empty() {
                    return Err(fatal(Error::Decode("empty message fragment")));
                }
                if self.inbox.partial_len().saturating_add(record.len()) > self.max_message_size {
                    return Err(fatal(Error::MessageTooLarge {
                        limit: self.max_message_size,
                    }));
                }
                if content_type == ContentType::MessageContinues {
                    if self.partial_since.is_none() {
                        self.partial_since = Some(self.last_rx);
                    }
                    self.inbox.push_fragment(&record);
                    return Ok(());
                }
                self.partial_since = None;
                self.inbox.push_last(record, pinned);
                Ok(())
            }
            _ => self.process_control(content_type, &record),
        }
    }

    /// Handles a control record (key update, ping, pong, alert) whose
    /// plaintext is `record`.
    fn process_control(
        &mut self,
        content_type: ContentType,
        record: &[u8],
    ) -> Result<(), (Error, bool)> {
        let State::Established(t) = &mut self.state else {
            return Err((
                Error::UnexpectedMessage("record before the handshake"),
                true,
            ));
        };
        let fatal = |e| (e, true);
        match content_type {
            // Message records are handled by `process_record`.
            ContentType::MessageContinues | ContentType::MessageEnd => {}
            // Only a server's first record from the client (`process_record`).
            ContentType::Confirm => {
                return Err(fatal(Error::UnexpectedMessage(
                    "confirm record after the handshake",
                )));
            }
            ContentType::KeyUpdate => {
                let request = match record {
                    [UPDATE_NOT_REQUESTED] => false,
                    [UPDATE_REQUESTED] => true,
                    _ => return Err(fatal(Error::Decode("key_update payload"))),
                };
                t.peer_updated_keys().map_err(fatal)?;
                // Coalesced (section 8): keys that have protected nothing
                // yet are as fresh as an update would make them, so a run
                // of requests is answered once.
                if request && !self.local_closed && t.sent_under_current_keys() {
                    t.update_keys(&mut self.tx, false).map_err(fatal)?;
                    self.sent_since_keepalive = true;
                }
                self.push_info_event(Event::KeyUpdated);
            }
            ContentType::Ping => {
                if record.len() > MAX_PING_LEN {
                    return Err(fatal(Error::Decode("ping payload longer than 64 bytes")));
                }
                if !self.local_closed {
                    t.seal(&mut self.tx, ContentType::Pong, record)
                        .map_err(fatal)?;
                    self.sent_since_keepalive = true;
                }
            }
            ContentType::Pong => {
                if record.len() > MAX_PING_LEN {
                    return Err(fatal(Error::Decode("pong payload longer than 64 bytes")));
                }
                if record.is_empty() && self.keepalive_pongs_due > 0 {
                    // The answer to our own keep-alive (an application's
                    // empty ping gets its pong all the same: pongs are
                    // told apart by payload only).
                    self.keepalive_pongs_due = self.keepalive_pongs_due.saturating_sub(1);
                } else {
                    // A copy, so as not to keep the receive buffer alive.
                    self.push_info_event(Event::Pong(Bytes::copy_from_slice(record)));
                }
            }
            ContentType::Alert => {
                let code = match record {
                    [code] => AlertCode::from_u8(*code),
                    _ => return Err(fatal(Error::Decode("alert payload"))),
                };
                if code == AlertCode::CloseNotify {
                    // A close inside a message would cut it silently
                    // (spec 7, 9.2): that is not a clean end.
                    if self.inbox.partial_len() > 0 {
                        return Err(fatal(Error::UnexpectedMessage(
                            "close_notify inside an unfinished message",
                        )));
                    }
                    self.peer_closed = true;
                    self.events.push_back(Event::PeerClosed);
                } else {
                    return Err((Error::from_alert(code, true), false));
                }
            }
        }
        Ok(())
    }

    /// Queues an informational event unless too many are waiting.
    fn push_info_event(&mut self, event: Event) {
        if self.events.len() < MAX_QUEUED_EVENTS {
            self.events.push_back(event);
        }
    }

    /// Reports that the peer's byte stream ended. Returns `Ok` when the peer
    /// had closed gracefully; otherwise the connection fails with
    /// [`Error::Truncated`].
    pub fn handle_eof(&mut self) -> Result<(), Error> {
        self.check_alive()?;
        if self.peer_closed && self.rx.is_empty() {
            return Ok(());
        }
        Err(self.fail(Error::Truncated, false))
    }

    /// The time at which [`handle_timeout`](Self::handle_timeout) should be
    /// called next, if any timer is armed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        if !self.is_established() {
            return None;
        }
        let idle = self.idle_timeout.map(|d| self.last_rx.saturating_add(d));
        let partial = self
            .partial_message_timeout
            .zip(self.partial_since)
            .map(|(d, since)| since.saturating_add(d));
        [idle, self.next_keepalive, partial]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs the timers due at `now`: sends a keep-alive ping when nothing
    /// was sent for `keepalive_interval`, fails with [`Error::Timeout`] when
    /// nothing was received for `idle_timeout` and with
    /// [`Error::PartialMessageTimeout`] when a message begun
    /// `partial_message_timeout` ago is still incomplete.
    pub fn handle_timeout(&mut self, now: Time) -> Result<(), Error> {
        self.check_alive()?;
        if !self.is_established() {
            return Ok(());
        }
        if let Some(idle) = self.idle_timeout {
            if now >= self.last_rx.saturating_add(idle) {
                return Err(self.fail(Error::Timeout, false));
            }
        }
        if let (Some(limit), Some(since)) = (self.partial_message_timeout, self.partial_since) {
            if now >= since.saturating_add(limit) {
                return Err(self.fail(Error::PartialMessageTimeout, false));
            }
        }
        if let (Some(due), Some(interval)) = (self.next_keepalive, self.keepalive_interval) {
            if now >= due {
                if !self.sent_since_keepalive && !self.local_closed {
                    self.seal_control(ContentType::Ping, &[])?;
                    self.keepalive_pongs_due = self.keepalive_pongs_due.saturating_add(1);
                }
                self.sent_since_keepalive = false;
                self.next_keepalive = Some(now.saturating_add(interval));
            }
        }
        Ok(())
    }

    // ----- commands -----

    /// Runs a sealing step; a failure other than API misuse is fatal.
    #[inline]
    fn sealing(
        &mut self,
        step: impl FnOnce(&mut Transport, &mut Output) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let result = match &mut self.state {
            State::Established(t) if !self.local_closed => step(t, &mut self.tx),
            State::Failed(e) => return Err(e.clone()),
            State::Established(_) => return Err(Error::Closed),
            State::Client(_) | State::Server(_) | State::Deciding(_) | State::HandshakeStep => {
                return Err(Error::HandshakeNotComplete);
            }
        };
        match result {
            Ok(()) => {
                self.sent_since_keepalive = true;
                Ok(())
            }
            Err(
                e @ (Error::MessageTooLargeToSend { .. }
                | Error::HandshakeNotComplete
                | Error::Closed),
            ) => Err(e),
            Err(e) => match self.state {
                State::Failed(_) => Err(e),
                _ => Err(self.fail(e, true)),
            },
        }
    }

    fn seal_control(&mut self, content_type: ContentType, payload: &[u8]) -> Result<(), Error> {
        self.sealing(|t, tx| t.seal(tx, content_type, payload))
    }

    /// Queues `message` for sending, split into records as needed. The peer
    /// receives it whole. At most `max_message_size` bytes.
    pub fn send_message(&mut self, message: &[u8]) -> Result<(), Error> {
        self.sealing(|t, tx| t.send_message(tx, message))
    }

    /// Updates this side's sending keys now; with `request_peer`, asks the
    /// peer to update its sending keys too. Keys are also updated
    /// automatically after `key_update_after_records` records.
    pub fn update_keys(&mut self, request_peer: bool) -> Result<(), Error> {
        self.sealing(|t, tx| t.update_keys(tx, request_peer))
    }

    /// Sends a keep-alive ping with up to 64 bytes of payload; the answer
    /// arrives as [`Event::Pong`].
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > MAX_PING_LEN {
            return Err(Error::InvalidArgument("ping payload longer than 64 bytes"));
        }
        self.seal_control(ContentType::Ping, payload)
    }

    /// Closes gracefully: queues a close_notify alert and refuses further
    /// sends. Receiving continues until the peer closes too. Before the
    /// keys exist (before the ServerHello) the connection is abandoned and
    /// nothing is sent.
    pub fn close(&mut self) -> Result<(), Error> {
        if self.local_closed {
            return Ok(());
        }
        if self.is_handshaking() && self.transport().is_none() {
            self.state = State::Failed(Error::Closed);
            return Ok(());
        }
        self.seal_control(ContentType::Alert, &[AlertCode::CloseNotify.to_u8()])?;
        self.local_closed = true;
        Ok(())
    }

    /// Server: lets the client whose first flight
    /// [`client_hello`](Self::client_hello) shows in: generates the
    /// ephemeral key, queues the ServerHello and derives the keys. Early
    /// data is accepted only if the acceptance says the replay guard found
    /// it fresh and the connection's own checks passed; it is then queued
    /// as [`Event::EarlyData`]. The client is reported as authenticated
    /// (with the acceptance's identity) once its key confirmation arrives.
    ///
    /// Fails with [`Error::HandshakeNotComplete`] when no decision is
    /// pending (nothing changes).
    pub fn accept_client(&mut self, acceptance: Acceptance, now: Time) -> Result<(), Error> {
        self.check_alive()?;
        let State::Deciding(_) = self.state else {
            return Err(Error::HandshakeNotComplete);
        };
        let State::Deciding(decision) = std::mem::replace(&mut self.state, State::HandshakeStep)
        else {
            return Err(Error::Internal("decision state vanished"));
        };
        match decision.accept(acceptance, &mut self.tx) {
            Ok((transport, early_data)) => {
                self.state = State::Established(transport);
                self.last_rx = now;
                if let Some(data) = early_data {
                    self.events.push_back(Event::EarlyData(data));
                }
                Ok(())
            }
            Err(e) => Err(self.fail(e, true)),
        }
    }

    /// Server: refuses the client whose first flight
    /// [`client_hello`](Self::client_hello) shows: queues the reason's
    /// alert (in the clear) and fails the connection with
    /// [`Error::ClientRejected`], which it returns. Fails with
    /// [`Error::HandshakeNotComplete`] when no decision is pending.
    pub fn reject_client(&mut self, reason: Rejection) -> Error {
        if let Err(e) = self.check_alive() {
            return e;
        }
        if !matches!(self.state, State::Deciding(_)) {
            return Error::HandshakeNotComplete;
        }
        self.fail(Error::ClientRejected(reason), true)
    }

    /// Queues the cleartext alert frame (handshake phase) for `err`, if it has one.
    fn queue_cleartext_alert(&mut self, err: &Error) {
        if let Some(code) = err.alert() {
            let mut frame = Vec::with_capacity(HEADER_LEN.saturating_add(1));
            if write_frame(&mut frame, FrameType::Alert, &[code.to_u8()]).is_ok() {
                self.tx.put(&frame);
            }
        }
    }

    /// Makes the connection fail with `err`, queueing at most one alert.
    fn fail(&mut self, err: Error, send_alert: bool) -> Error {
        if send_alert && !self.local_closed {
            if let Some(code) = err.alert() {
                match &mut self.state {
                    State::Established(t) => {
                        let _ = t.seal(&mut self.tx, ContentType::Alert, &[code.to_u8()]);
                    }
                    State::Client(_)
                    | State::Server(_)
                    | State::Deciding(_)
                    | State::HandshakeStep => self.queue_cleartext_alert(&err),
                    State::Failed(_) => {}
                }
            }
        }
        self.rx = BytesMut::new();
        self.inbox.discard_partial();
        self.state = State::Failed(err.clone());
        err
    }

    /// Frees what an idle connection does not need: empty receive and send
    /// buffers, empty queues and the expanded AEAD keys (only the 32-byte
    /// traffic secrets stay; keys are rebuilt on the next record, which costs
    /// about as much as one key update). Call it when the connection goes
    /// idle (the adapters do when a read would block with nothing pending);
    /// buffers are kept between calls so that busy connections do not
    /// allocate per message. Returns nothing and never fails.
    pub fn release_idle_memory(&mut self) {
        if self.rx.is_empty() {
            self.rx = BytesMut::new();
        }
        self.tx.release();
        self.inbox.release();
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        if let State::Established(t) = &mut self.state {
            t.release_keys();
        }
    }

    // ----- output -----

    /// Bytes waiting to be sent to the peer.
    pub fn pending_output(&self) -> &[u8] {
        self.tx.pending()
    }

    /// Whether there are bytes waiting to be sent.
    pub fn wants_write(&self) -> bool {
        !self.tx.is_empty()
    }

    /// Marks the first `n` bytes of [`pending_output`](Self::pending_output) as sent.
    pub fn consume_output(&mut self, n: usize) {
        self.tx.consume(n);
    }

    /// Copies as much pending output as fits into `out`, marks it sent and
    /// returns how many bytes were copied.
    pub fn take_output(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.tx.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), self.tx.pending().get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume_output(n);
        n
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next complete message, if any.
    #[must_use]
    pub fn recv_message(&mut self) -> Option<Bytes> {
        self.inbox.pop()
    }

    /// Memory held for received bytes not yet taken by the application: the
    /// receive buffer, the message being reassembled and complete messages
    /// waiting (each charged for the allocation it keeps alive). A server
    /// adapter sums it across connections to enforce a memory budget.
    pub fn buffered_len(&self) -> usize {
        self.rx.capacity().saturating_add(self.inbox.held())
    }

    /// The length of the next complete message, if any.
    pub fn next_message_len(&self) -> Option<usize> {
        self.inbox.front_len()
    }

    /// Stream view: copies received bytes into `buf`, ignoring message
    /// boundaries, and returns how many were copied (0 when none are ready).
    /// Only complete messages are readable.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        self.inbox.read(buf)
    }

    /// Largest payload of one record.
    pub const MAX_FRAGMENT_LEN: usize = MAX_FRAGMENT_LEN;
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("side", &self.side)
            .field("handshaking", &self.is_handshaking())
            .field("established", &self.is_established())
            .field("error", &self.error())
            .field("pending_output", &self.tx.len())
            .finish_non_exhaustive()
    }
}

//! Blocking adapter: a [`Connection`] over any [`Read`] + [`Write`] byte stream.
//!
//! [`connect`] (or [`resume`], with a ticket from an earlier connection)
//! and [`accept`] (or an [`Acceptor`], for servers with policies) run the
//! handshake and return a [`Stream`], which offers two
//! views of the same connection:
//!
//! * **messages**: [`Stream::send_message`] and [`Stream::recv_message`]
//!   keep message boundaries;
//! * **bytes**: [`Read`] and [`Write`]. Each `write` sends its bytes as one
//!   message (at most `max_message_size` per call); `read` returns received
//!   bytes without regard to boundaries.
//!
//! All protocol logic lives in the core; this module only moves bytes and
//! reads the clock. Everything goes through one loop in the style of
//! rustls's `complete_io`: send pending output, then read and feed input.
//!
//! * `Interrupted` is retried. `WouldBlock` and `TimedOut` (sockets with
//!   timeouts or non-blocking sockets) are returned to the caller with no
//!   state lost: call again later.
//! * [`Write::flush`] writes every pending record; [`Stream::close`] sends
//!   close_notify. Dropping a `Stream` sends nothing: without `close()` the
//!   peer sees a truncation, as it should after an error or a panic.
//! * The handshake of [`connect`] and [`Acceptor::accept`] gives up after a
//!   deadline ([`DEFAULT_HANDSHAKE_TIMEOUT`], or `connect_with_timeout` and
//!   [`Acceptor::with_handshake_timeout`]) with
//!   [`Error::HandshakeTimeout`]: the socket gets a read timeout for the
//!   handshake (restored afterwards), and a read timeout of the caller's
//!   own just makes it check the deadline.
//! * End of stream after the peer's close_notify is a clean end (`read`
//!   returns 0, `recv_message` returns `None`); end of stream without it is
//!   an [`ErrorKind::UnexpectedEof`] error (`Error::Truncated` inside).
//! * Keep-alive and idle timeout run whenever the stream is used; a program
//!   that waits in `read` with no socket timeout sends no keep-alive. Set a
//!   read timeout, or call [`Stream::handle_timers`] periodically.
//! * Idle memory: a read that ends in `WouldBlock` or `TimedOut` with
//!   nothing pending frees the read buffer and the connection's buffers and
//!   expanded keys ([`Stream::release_idle_memory`]); a thread about to wait
//!   in a read without a timeout can call that method first.
//!
//! ```no_run
//! use std::{net::TcpStream, sync::Arc};
//! use lwsec::{ClientConfig, PublicKey};
//!
//! let server_key = PublicKey::load("server.pub")?;
//! let config = Arc::new(ClientConfig::nk(server_key));
//! let mut stream = lwsec::blocking::connect(config, TcpStream::connect("127.0.0.1:7878")?)?;
//! stream.send_message(b"hello")?;
//! let reply = stream.recv_message()?.expect("the server closed");
//! println!("{}", String::from_utf8_lossy(&reply));
//! stream.close()?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

pub use crate::AcceptorMetrics;
#[cfg(feature = "tracing")]
use crate::adapter::observe::trace;
use crate::adapter::observe::{Counters, Handshake, Meter};
use crate::adapter::{EventNotes, READ_BUF_LEN, send_prefix};
use crate::early_data::StrikeRegister;
use crate::{
    Acceptance, ClientConfig, ClientHello, Connection, EarlyDataOffer, Error, Event, Identity,
    PublicKey, Rejection, ResumptionTicket, ServerConfig, ServerOptions, Time,
};

use crate::DEFAULT_HANDSHAKE_TIMEOUT;

/// A transport whose reads can time out, so that a silent peer cannot hold
/// a handshake (and its thread) forever. Implemented for TCP and Unix
/// sockets; wrap other transports' connections with [`Stream::new`] and
/// bound them yourself.
pub trait ReadTimeout {
    /// The current read timeout.
    fn read_timeout(&self) -> io::Result<Option<Duration>>;
    /// Sets the read timeout (`None`: block forever).
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl ReadTimeout for TcpStream {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        TcpStream::read_timeout(self)
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

#[cfg(unix)]
impl ReadTimeout for std::os::unix::net::UnixStream {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        std::os::unix::net::UnixStream::read_timeout(self)
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }
}

/// Connects as a client over `io` and runs the handshake, giving up after
/// [`DEFAULT_HANDSHAKE_TIMEOUT`].
pub fn connect<IO: Read + Write + ReadTimeout>(
    config: Arc<ClientConfig>,
    io: IO,
) -> io::Result<Stream<IO>> {
    connect_with_timeout(config, io, DEFAULT_HANDSHAKE_TIMEOUT)
}

/// [`connect`] with a chosen handshake timeout.
pub fn connect_with_timeout<IO: Read + Write + ReadTimeout>(
    config: Arc<ClientConfig>,
    io: IO,
    timeout: Duration,
) -> io::Result<Stream<IO>> {
    client_handshake(
        Stream::new(Connection::client(config, Time::now())?, io),
        timeout,
    )
}

/// Runs a client stream's handshake within `timeout`.
fn client_handshake<IO: Read + Write + ReadTimeout>(
    mut stream: Stream<IO>,
    timeout: Duration,
) -> io::Result<Stream<IO>> {
    #[cfg(feature = "tracing")]
    let started = Instant::now();
    #[cfg(feature = "tracing")]
    {
        stream.span = trace::connection_span(crate::Side::Client, None);
    }
    let result = stream.run_handshake_within(timeout, &mut |_| Ok(Acceptance::new()));
    #[cfg(feature = "tracing")]
    stream.trace_handshake(&result, None, started.elapsed());
    result?;
    Ok(stream)
}

/// Resumes a session as a client over `io` with `ticket` (from
/// [`Stream::take_resumption_ticket`] on an earlier connection to the same
/// server or fleet; see [`Connection::resume`]), giving up after
/// [`DEFAULT_HANDSHAKE_TIMEOUT`]. A refused ticket falls back to a full
/// handshake on the same `io` (an expired one is not sent):
/// `stream.conn().is_resumed()` tells which happened.
pub fn resume<IO: Read + Write + ReadTimeout>(
    config: Arc<ClientConfig>,
    ticket: ResumptionTicket,
    io: IO,
) -> io::Result<Stream<IO>> {
    resume_with_timeout(config, ticket, io, DEFAULT_HANDSHAKE_TIMEOUT)
}

/// [`resume`] with a chosen handshake timeout.
pub fn resume_with_timeout<IO: Read + Write + ReadTimeout>(
    config: Arc<ClientConfig>,
    ticket: ResumptionTicket,
    io: IO,
    timeout: Duration,
) -> io::Result<Stream<IO>> {
    let conn = Connection::resume(config, ticket, Time::now())?;
    client_handshake(Stream::new(conn, io), timeout)
}

/// Accepts a client over `io` with no policies (every client gets in, with
/// no application identity; early data is refused) and runs the handshake
/// until the client confirmed it. Use an [`Acceptor`] for policies.
pub fn accept<IO: Read + Write + ReadTimeout>(
    config: Arc<ServerConfig>,
    io: IO,
) -> io::Result<Stream<IO>> {
    Acceptor::new(config).accept(io, ServerOptions::new())
}

/// Decides whether a client gets in, synchronously: the blocking form of
/// [`lwsec::tokio::Authorizer`](https://docs.rs/lwsec/latest/lwsec/tokio/trait.Authorizer.html).
/// It runs on the accepting thread; a lookup that can hang needs its own
/// timeout (return [`Rejection::PolicyUnavailable`] when it fires).
///
/// Implemented for every `Fn(&ClientHello) -> Result<Option<Identity>, Rejection>`.
pub trait Authorizer: Send + Sync {
    /// Accept (with an optional application identity) or reject the client
    /// that sent `hello`.
    fn authorize(&self, hello: &ClientHello) -> Result<Option<Identity>, Rejection>;
}

impl<F> Authorizer for F
where
    F: Fn(&ClientHello) -> Result<Option<Identity>, Rejection> + Send + Sync,
{
    fn authorize(&self, hello: &ClientHello) -> Result<Option<Identity>, Rejection> {
        self(hello)
    }
}

/// Judges whether a first flight's early data is fresh, synchronously:
/// returns `true` and records the flight if it was not seen before (see
/// `spec/PROTOCOL.md` section 4.9). [`StrikeRegister`] implements it.
pub trait ReplayGuard: Send + Sync + fmt::Debug {
    /// Checks and records `offer` at the server's time `now`.
    fn check(&self, offer: &EarlyDataOffer, now: Time) -> bool;
}

impl ReplayGuard for StrikeRegister {
    fn check(&self, offer: &EarlyDataOffer, now: Time) -> bool {
        StrikeRegister::check(self, offer, now)
    }
}

/// Accepts clients for one server configuration, deciding on each with the
/// server's policies: an [`Authorizer`] (default: everyone) and a
/// [`ReplayGuard`] for early data (default: none, so early data is refused).
/// [`accept`](Self::accept) returns once the client has confirmed the
/// handshake.
///
/// ```no_run
/// use std::{net::TcpListener, sync::Arc};
/// use lwsec::{ClientHello, Rejection, ServerConfig, StaticKeyPair};
///
/// let config = Arc::new(ServerConfig::new(StaticKeyPair::load("server.key")?));
/// let acceptor = lwsec::blocking::Acceptor::new(config).with_authorizer(|hello: &ClientHello| {
///     hello.claimed_client_key().map(|_| None).ok_or(Rejection::NotAuthorized)
/// });
/// for tcp in TcpListener::bind("127.0.0.1:7878")?.incoming() {
///     let tcp = tcp?;
///     let peer = tcp.peer_addr()?;
///     let mut stream = acceptor.accept(tcp, peer)?;
///     stream.send_message(b"welcome")?;
///     stream.close()?;
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Acceptor {
    config: Arc<ServerConfig>,
    authorizer: Option<Arc<dyn Authorizer>>,
    replay_guard: Option<Arc<dyn ReplayGuard>>,
    timeout: Duration,
    counters: Arc<Counters>,
}

impl Acceptor {
    /// An acceptor with no policies and [`DEFAULT_HANDSHAKE_TIMEOUT`].
    pub fn new(config: Arc<ServerConfig>) -> Self {
        Self {
            config,
            authorizer: None,
            replay_guard: None,
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            counters: Arc::default(),
        }
    }

    /// A snapshot of this acceptor's counters, shared with its clones (see
    /// [`AcceptorMetrics`]). A blocking acceptor counts a handshake as
    /// started at each call to [`accept`](Self::accept), and has no
    /// connection cap, rate limit, cookies, policy deadlines or memory
    /// budget: those fields stay 0.
    pub fn metrics(&self) -> AcceptorMetrics {
        self.counters.snapshot(
            self.counters
                .open
                .load(std::sync::atomic::Ordering::Relaxed),
            self.counters
                .pending
                .load(std::sync::atomic::Ordering::Relaxed),
            0,
        )
    }

    /// Gives up on a handshake (decision included) after `timeout`.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Decides who gets in.
    pub fn with_authorizer(mut self, authorizer: impl Authorizer + 'static) -> Self {
        self.authorizer = Some(Arc::new(authorizer));
        self
    }

    /// Judges early data (early data must also be enabled in the
    /// configuration).
    pub fn with_replay_guard(mut self, guard: Arc<dyn ReplayGuard>) -> Self {
        self.replay_guard = Some(guard);
        self
    }

    /// Runs the server handshake over `io` with the client at `peer` (a
    /// `SocketAddr`, or [`ServerOptions`]) until the client confirmed it.
    pub fn accept<IO: Read + Write + ReadTimeout>(
        &self,
        io: IO,
        peer: impl Into<ServerOptions>,
    ) -> io::Result<Stream<IO>> {
        let options = peer.into();
        #[cfg(feature = "tracing")]
        let (started, span) = {
            let peer = options.socket_addr();
            let span = trace::connection_span(
                crate::Side::Server,
                peer.as_ref().map(|p| p as &dyn fmt::Display),
            );
            (Instant::now(), span)
        };
        let meter = Meter::open(self.counters.clone());
        let conn = Connection::server_with_options(self.config.clone(), Time::now(), options)?;
        let mut stream = Stream::new(conn, io);
        stream.meter = Some(meter);
        #[cfg(feature = "tracing")]
        {
            stream.span = span;
        }
        let handshake = Handshake::start(&self.counters);
        // The server key the client asked for, and whether it offered
        // early data, once the decision was made.
        let mut decided: Option<([u8; 8], bool)> = None;
        let result = stream.run_handshake_within(self.timeout, &mut |hello| {
            decided = Some((hello.server_key_id(), hello.early_data().is_some()));
            let decision = self.decide(hello);
            if let Err(reason) = decision {
                self.counters.client_rejected(reason);
            }
            decision
        });
        if let Some((_, true)) = decided {
            stream.drain_events();
            let accepted = stream.notes.early_data.is_some();
            self.counters.early_data(accepted);
        }
        #[cfg(feature = "tracing")]
        stream.trace_handshake(
            &result,
            decided.map(|(key_id, _)| key_id),
            started.elapsed(),
        );
        handshake.resolve(&result, stream.conn.is_resumed());
        result?;
        Ok(stream)
    }

    fn decide(&self, hello: &ClientHello) -> Result<Acceptance, Rejection> {
        let identity = match &self.authorizer {
            Some(a) => a.authorize(hello)?,
            None => None,
        };
        let fresh = match (hello.early_data(), &self.replay_guard) {
            (Some(offer), Some(guard)) if offer.needs_replay_check() => {
                guard.check(offer, Time::now())
            }
            _ => false,
        };
        let mut acceptance = Acceptance::new().with_fresh_early_data(fresh);
        if let Some(identity) = identity {
            acceptance = acceptance.with_identity(identity);
        }
        Ok(acceptance)
    }
}

impl fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acceptor")
            .field("config", &self.config)
            .field("authorizer", &self.authorizer.is_some())
            .field("replay_guard", &self.replay_guard)
            .field("timeout", &self.timeout)
            .field("metrics", &self.metrics())
            .finish()
    }
}

/// An lwsec connection over a blocking byte stream.
pub struct Stream<IO: Read + Write> {
    conn: Connection,
    io: IO,
    /// Bytes read from `io`; `rbuf[rpos..rend]` is not yet consumed by the core.
    rbuf: Vec<u8>,
    rpos: usize,
    rend: usize,
    /// The transport reached end of stream after the peer's close_notify.
    eof: bool,
    notes: EventNotes,
    /// An acceptor's connection: its share of the acceptor's metrics.
    meter: Option<Meter>,
    /// The connection's span (feature `tracing`).
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

impl<IO: Read + Write> Stream<IO> {
    /// Wraps a connection created by the caller, for example a client with
    /// early data ([`Connection::client_with_replayable_early_data`]). The
    /// first read, write or [`complete_handshake`](Self::complete_handshake)
    /// runs the handshake; a server connection wrapped this way lets every
    /// client in (use an [`Acceptor`] for policies).
    pub fn new(conn: Connection, io: IO) -> Self {
        Self {
            conn,
            io,
            rbuf: Vec::new(),
            rpos: 0,
            rend: 0,
            eof: false,
            notes: EventNotes::default(),
            meter: None,
            #[cfg(feature = "tracing")]
            span: tracing::Span::none(),
        }
    }

    /// Takes the connection's events into the notes.
    fn drain_events(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            #[cfg(feature = "tracing")]
            trace::event(&self.span, &event);
            self.notes.note(event);
        }
    }

    /// Reports how the handshake ended (feature `tracing`).
    #[cfg(feature = "tracing")]
    fn trace_handshake(
        &self,
        result: &io::Result<()>,
        server_key_id: Option<[u8; 8]>,
        elapsed: Duration,
    ) {
        match result {
            Ok(()) => trace::handshake_completed(&self.span, &self.conn, server_key_id, elapsed),
            Err(e) => trace::handshake_failed(&self.span, e, elapsed),
        }
    }

    /// Reports a failure of an established connection (feature `tracing`;
    /// handshake failures are reported by `connect` and the acceptor).
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    fn trace_failure(&self, was_established: bool, err: &Error) {
        #[cfg(feature = "tracing")]
        if was_established {
            trace::connection_failed(&self.span, err);
        }
    }

    /// Server: the client's early data (0-RTT), once, if its replay guard
    /// accepted it. **Replayable and not forward secret**: see
    /// [`Event::EarlyData`].
    pub fn take_early_data(&mut self) -> Option<Bytes> {
        self.drain_events();
        self.notes.early_data.take()
    }

    /// Client: whether the server accepted the early data sent with
    /// [`Connection::client_with_replayable_early_data`] (`None` before the
    /// handshake completes or when none was sent).
    pub fn early_data_accepted(&self) -> Option<bool> {
        self.notes.early_data_accepted
    }

    /// Client: the server keys the server announced in its handshake, once
    /// (see [`Event::ServerKeysAnnounced`]).
    pub fn take_announced_server_keys(&mut self) -> Option<Vec<PublicKey>> {
        self.drain_events();
        self.notes.announced_keys.take()
    }

    /// Client: the resumption ticket the server sent on this connection,
    /// once (see [`Event::ResumptionTicket`]); pass it to [`resume`] for the
    /// next connection, and store it as a secret
    /// ([`ResumptionTicket::save`]) if that may come after a restart.
    ///
    /// The server sends it once the client's key confirmation reached it,
    /// about one round trip after the handshake: this stream sees it when
    /// it reads from the transport, typically with the first reply
    /// ([`recv_message`](Self::recv_message), `read`). `None` right after
    /// [`connect`] returns, and when the server gives no tickets. Taking
    /// it here also removes its event from [`poll_event`](Self::poll_event),
    /// and the other way round.
    pub fn take_resumption_ticket(&mut self) -> Option<ResumptionTicket> {
        self.drain_events();
        self.notes.take_resumption_ticket()
    }

    /// The next event of the connection the application has not seen
    /// (handshake complete, key updated, pong, peer closed, resumption
    /// ticket...), oldest first; the 32 most recent are kept.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.drain_events();
        self.notes.pop_event()
    }

    /// Runs the handshake to completion, then writes pending output
    /// (nothing more once established). A server lets the client in with
    /// no identity and no early data. No deadline: reads of a transport
    /// with a read timeout return `WouldBlock`/`TimedOut` with no state
    /// lost (call again); [`connect`] and [`Acceptor`] bound the handshake.
    pub fn complete_handshake(&mut self) -> io::Result<()> {
        self.run_handshake(&mut |_| Ok(Acceptance::new()))
    }

    /// Runs the handshake within `timeout`: the transport reads with a
    /// timeout no later than the deadline (its own timeout, if shorter, is
    /// kept and restored afterwards), and reads that time out are retried
    /// until the deadline, then fail with [`Error::HandshakeTimeout`].
    fn run_handshake_within(
        &mut self,
        timeout: Duration,
        decide: &mut dyn FnMut(&ClientHello) -> Result<Acceptance, Rejection>,
    ) -> io::Result<()>
    where
        IO: ReadTimeout,
    {
        let deadline = Instant::now().checked_add(timeout);
        let original = self.io.read_timeout()?;
        let result = loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                break Err(io::Error::new(
                    ErrorKind::TimedOut,
                    Error::HandshakeTimeout(timeout),
                ));
            }
            // A read timeout of zero means "block forever" to std: use 1 ms.
            let wait = match (left, original) {
                (Some(l), Some(o)) => Some(l.min(o)),
                (l, o) => l.or(o),
            }
            .map(|d| d.max(Duration::from_millis(1)));
            if let Err(e) = self.io.set_read_timeout(wait) {
                break Err(e);
            }
            match self.run_handshake(decide) {
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                other => break other,
            }
        };
        self.io.set_read_timeout(original)?;
        result
    }

    /// Runs the handshake, answering a server's decision with `decide`.
    fn run_handshake(
        &mut self,
        decide: &mut dyn FnMut(&ClientHello) -> Result<Acceptance, Rejection>,
    ) -> io::Result<()> {
        while self.conn.is_handshaking() {
            if let Some(hello) = self.conn.client_hello() {
                let result = match decide(hello) {
                    Ok(acceptance) => self.conn.accept_client(acceptance, Time::now()),
                    Err(reason) => Err(self.conn.reject_client(reason)),
                };
                if let Err(e) = result {
                    return Err(self.fatal(e));
                }
                continue;
            }
            self.read_more()?;
        }
        self.check_error()?;
        self.write_pending()
    }

    /// The connection: peer key, suite, exporter, handshake hash.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, mutably (for [`Connection::update_keys`] or
    /// [`Connection::ping`]; call [`Write::flush`] afterwards). The
    /// connection's events are taken by this adapter and passed on by
    /// [`poll_event`](Self::poll_event).
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The underlying transport.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// The underlying transport, mutably (for socket options; reading or
    /// writing it directly breaks the connection).
    pub fn get_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// Sends one message, which the peer receives whole, and flushes.
    ///
    /// Output left from earlier calls is written first; if that fails,
    /// nothing is queued. Once queued, a `WouldBlock` or `TimedOut` while
    /// writing is not an error: the rest goes out with the next call or
    /// [`Write::flush`].
    pub fn send_message(&mut self, message: &[u8]) -> io::Result<()> {
        self.complete_handshake()?;
        self.conn.send_message(message)?;
        self.write_queued()?;
        match self.io.flush() {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(()),
            other => other,
        }
    }

    /// Receives the next whole message; `None` once the peer has closed
    /// gracefully.
    pub fn recv_message(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            if let Some(message) = self.conn.recv_message() {
                return Ok(Some(message));
            }
            if self.conn.is_peer_closed() || self.eof {
                return Ok(None);
            }
            self.read_more()?;
        }
    }

    /// Closes gracefully: sends close_notify and flushes. Receiving still
    /// works until the peer closes too.
    pub fn close(&mut self) -> io::Result<()> {
        let closed_before = self.conn.is_closed();
        self.conn.close()?;
        #[cfg(feature = "tracing")]
        if self.conn.is_closed() && !closed_before {
            trace::closing(&self.span);
        }
        #[cfg(not(feature = "tracing"))]
        let _ = closed_before;
        self.write_pending()?;
        self.io.flush()
    }

    /// Frees what an idle stream does not need: the 16 KiB read buffer when
    /// it holds no unread input, and the connection's empty buffers and
    /// expanded keys ([`Connection::release_idle_memory`]). Later reads and
    /// writes allocate again. Reads that end in `WouldBlock` or `TimedOut`
    /// call this themselves.
    pub fn release_idle_memory(&mut self) {
        if self.rpos == self.rend {
            self.rbuf = Vec::new();
            (self.rpos, self.rend) = (0, 0);
        }
        self.conn.release_idle_memory();
    }

    /// Runs due timers (keep-alive ping, idle timeout) and sends what they
    /// queued. Every other method does this too.
    pub fn handle_timers(&mut self) -> io::Result<()> {
        self.run_timers()?;
        self.write_pending()
    }

    fn run_timers(&mut self) -> io::Result<()> {
        let now = Time::now();
        if self.conn.poll_timeout().is_some_and(|due| due <= now) {
            let was_established = self.conn.is_established();
            if let Err(e) = self.conn.handle_timeout(now) {
                self.trace_failure(was_established, &e);
                return Err(self.fatal(e));
            }
        }
        Ok(())
    }

    /// The connection's error, after trying to send its alert.
    fn check_error(&mut self) -> io::Result<()> {
        match self.conn.error().cloned() {
            Some(e) => Err(self.fatal(e)),
            None => Ok(()),
        }
    }

    /// Best effort: sends the alert a failed connection may hold.
    fn fatal(&mut self, err: Error) -> io::Error {
        let _ = self.write_pending();
        err.into()
    }

    /// Writes all pending output. Short writes are continued, `Interrupted`
    /// retried; any other error returns with the rest still pending.
    fn write_pending(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.io.write(self.conn.pending_output()) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => {
                    if let Some(meter) = &self.meter {
                        meter.counters().bytes_out(n);
                    }
                    self.conn.consume_output(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// After data was queued: a transport that cannot take it now is not an error.
    fn write_queued(&mut self) -> io::Result<()> {
        match self.write_pending() {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(()),
            other => other,
        }
    }

    /// The one progress step: runs timers, sends pending output, then feeds
    /// buffered input or reads more from the transport (blocking at most once).
    fn read_more(&mut self) -> io::Result<()> {
        self.check_error()?;
        self.run_timers()?;
        self.write_pending()?;
        let was_established = self.conn.is_established();
        if self.rpos == self.rend {
            if self.rbuf.is_empty() {
                self.rbuf = vec![0; READ_BUF_LEN];
            }
            let n = loop {
                match self.io.read(&mut self.rbuf) {
                    Ok(n) => {
                        if let Some(meter) = &self.meter {
                            meter.counters().bytes_in(n);
                        }
                        break n;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => {
                        let idle =
                            !self.conn.wants_write() && self.conn.next_message_len().is_none();
                        if idle && matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
                            self.release_idle_memory();
                        }
                        return Err(e);
                    }
                }
            };
            if n == 0 {
                if let Err(e) = self.conn.handle_eof() {
                    self.trace_failure(was_established, &e);
                    return Err(self.fatal(e));
                }
                self.eof = true;
                return Ok(());
            }
            (self.rpos, self.rend) = (0, n);
        }
        let input = self.rbuf.get(self.rpos..self.rend).unwrap_or_default();
        match self.conn.handle_input(input, Time::now()) {
            Ok(0) => {
                // Only possible with undelivered messages or unsent output,
                // and callers take both before asking for more input.
                return Err(io::Error::other("lwsec: the connection refused input"));
            }
            Ok(n) => self.rpos = self.rpos.saturating_add(n),
            Err(e) => {
                self.trace_failure(was_established, &e);
                return Err(self.fatal(e));
            }
        }
        self.drain_events();
        // Replies the input produced (pong, key update) go out now if they can.
        self.write_queued()
    }
}

impl<IO: Read + Write> Read for Stream<IO> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.conn.read(buf);
            if n > 0 || self.conn.is_peer_closed() || self.eof {
                return Ok(n);
            }
            self.read_more()?;
        }
    }
}

impl<IO: Read + Write> Write for Stream<IO> {
    /// Sends up to `max_message_size` bytes of `buf` as one message.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.complete_handshake()?;
        let n = send_prefix(&mut self.conn, buf)?;
        self.write_queued()?;
        Ok(n)
    }

    /// Writes every pending record, then flushes the transport.
    fn flush(&mut self) -> io::Result<()> {
        self.write_pending()?;
        self.io.flush()
    }
}

impl<IO: Read + Write> std::fmt::Debug for Stream<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("conn", &self.conn)
            .field("buffered_input", &self.rend.saturating_sub(self.rpos))
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    use super::*;
    use crate::StaticKeyPair;

    type Queue = Rc<RefCell<VecDeque<u8>>>;

    /// One end of an in-memory non-blocking pipe: reads return `WouldBlock`
    /// when nothing is waiting.
    struct End {
        rx: Queue,
        tx: Queue,
    }

    impl Read for End {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut rx = self.rx.borrow_mut();
            if rx.is_empty() {
                return Err(ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(rx.len());
            for (dst, src) in buf.iter_mut().zip(rx.drain(..n)) {
                *dst = src;
            }
            Ok(n)
        }
    }

    impl Write for End {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.tx.borrow_mut().extend(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn would_block<T>(result: io::Result<T>) -> bool {
        matches!(result, Err(e) if e.kind() == ErrorKind::WouldBlock)
    }

    #[test]
    fn would_block_releases_the_read_buffer() {
        let (a, b) = (Queue::default(), Queue::default());
        let key = StaticKeyPair::from_private_bytes([7; 32]);
        let client = Connection::client(Arc::new(ClientConfig::nk(key.public_key())), Time::now());
        let server = Connection::server(Arc::new(ServerConfig::new(key)), Time::now());
        let mut client = Stream::new(
            client.unwrap(),
            End {
                rx: a.clone(),
                tx: b.clone(),
            },
        );
        let mut server = Stream::new(server.unwrap(), End { rx: b, tx: a });
        while client.conn().is_handshaking() || server.conn().is_handshaking() {
            for result in [client.complete_handshake(), server.complete_handshake()] {
                assert!(result.is_ok() || would_block(result));
            }
        }
        let big = vec![0x5a; 16384];
        for _ in 0..2 {
            client.send_message(&big).unwrap();
            assert_eq!(server.recv_message().unwrap().as_deref(), Some(&big[..]));
            server.send_message(b"ok").unwrap();
            assert_eq!(client.recv_message().unwrap().as_deref(), Some(&b"ok"[..]));
            assert!(!client.rbuf.is_empty() && !server.rbuf.is_empty());
            // Nothing more to read: the read buffers go.
            assert!(would_block(server.recv_message()));
            assert!(would_block(client.recv_message()));
            assert_eq!((client.rbuf.capacity(), server.rbuf.capacity()), (0, 0));
        }
    }
}

//! The server side: an acceptor that runs the server's policies at each
//! connection's decision point and turns on stateless cookies under load.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::time::{Instant, timeout, timeout_at};

use super::limits::{DEFAULT_MAX_CONNECTIONS, DEFAULT_MEMORY_BUDGET, Limits, RateLimit};
use super::policy::{Authorizer, ReplayGuard};
use super::unconfirmed::{PendingGuard, Unconfirmed};
use super::{DEFAULT_HANDSHAKE_TIMEOUT, Stream, timed_out};
use crate::{
    Acceptance, AcceptorMetrics, ClientHello, Connection, Error, Limit, Rejection, ServerConfig,
    ServerOptions, Time,
};

/// Handshakes in progress above which new clients must first echo a Retry
/// cookie (see [`Acceptor::with_cookie_threshold`]).
pub const DEFAULT_COOKIE_THRESHOLD: usize = 1024;

/// How long an [`Authorizer`] may take before the client is refused
/// ([`Rejection::PolicyUnavailable`]).
pub const DEFAULT_AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a [`ReplayGuard`] may take before the early data is rejected
/// (the handshake goes on without it).
pub const DEFAULT_REPLAY_GUARD_TIMEOUT: Duration = Duration::from_millis(50);

/// Default handshakes per second allowed from one address (an IPv4 address
/// or an IPv6 /64), after a burst of [`DEFAULT_HANDSHAKE_BURST`]. Generous:
/// many devices can share one address behind carrier-grade NAT.
pub const DEFAULT_HANDSHAKES_PER_SECOND: u32 = 100;

/// Default burst of handshakes from one address.
pub const DEFAULT_HANDSHAKE_BURST: u32 = 1000;

/// Accepts clients for one server configuration.
///
/// * **Decisions**: when a client's first flight has been read, the
///   acceptor runs the [`Authorizer`] (default: everyone gets in, with no
///   identity) and, if the flight offers early data that the connection's
///   own checks allow, the [`ReplayGuard`] (default: none, so early data is
///   refused), concurrently and each with its deadline. A missed deadline
///   or an error fails closed: the client is refused with
///   `internal_error`, or the early data is rejected. Other handshakes never
///   wait for them.
/// * **Key confirmation**: [`accept`](Self::accept) returns once the client
///   has proven it holds the handshake's keys (its first record); a
///   replayed first flight never gets that far.
///   [`accept_unconfirmed`](Self::accept_unconfirmed) returns as soon as the
///   ServerHello is sent, to answer early data in the same round trip.
/// * **Floods**: while more than a threshold of clients that sent a
///   ClientHello are in handshake, new clients get a stateless Retry with a
///   cookie bound to their address before the server does any
///   Diffie-Hellman work (`spec/PROTOCOL.md` section 4.5). Over TCP a
///   cookie proves only that the client completed a TCP handshake from its
///   address, which TCP already did: what bounds a flood's CPU cost is the
///   per-address handshake rate (a token bucket, on by default) and the
///   fact that a garbage first flight costs one Diffie-Hellman and no key
///   generation.
/// * **Memory**: received bytes that the application has not taken yet
///   (partial and waiting messages) are charged to a budget shared by every
///   connection (default [`DEFAULT_MEMORY_BUDGET`]); when it is spent, a
///   connection that holds part of it and asks for more is dropped
///   ([`Limit::MemoryBudget`]). With the server configuration's
///   partial-message timeout and idle timeout (on by default), anonymous
///   clients cannot pin memory for long. Open connections are capped
///   (default [`DEFAULT_MAX_CONNECTIONS`]).
///
/// * **Metrics**: [`metrics`](Self::metrics) returns a snapshot of its
///   counters ([`AcceptorMetrics`]); with the `tracing` feature each
///   connection also gets a span and events (see the crate's README,
///   "Observability").
///
/// Clone it freely: clones share the policies, the count of handshakes in
/// progress and the metrics.
///
/// ```no_run
/// # async fn run(config: std::sync::Arc<lwsec::ServerConfig>) -> std::io::Result<()> {
/// use lwsec::{ClientHello, Identity, Rejection};
/// let acceptor = lwsec::tokio::Acceptor::new(config)
///     .with_authorizer(|hello: ClientHello| async move {
///         // Look the device up (a database, Redis...): may take a while.
///         match hello.claimed_client_key() {
///             Some(key) => Ok(Some(Identity::new(key.as_bytes().to_vec()).map_err(|_| Rejection::NotAuthorized)?)),
///             None => Err(Rejection::NotAuthorized),
///         }
///     })
///     .with_cookie_threshold(500);
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:7878").await?;
/// loop {
///     let (tcp, peer) = listener.accept().await?;
///     // Created here, awaited in the task: the task captures only this
///     // one-pointer future (no acceptor clone, no socket beside it), so it
///     // is sized for the idle stream rather than for the handshake.
///     let handshake = acceptor.accept(tcp, peer);
///     tokio::spawn(async move {
///         let mut stream = handshake.await?;
///         while let Some(m) = stream.recv_message().await? {
///             stream.send_message(&m).await?;
///         }
///         stream.close().await
///     });
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct Acceptor {
    config: Arc<ServerConfig>,
    authorizer: Option<Arc<dyn Authorizer>>,
    replay_guard: Option<Arc<dyn ReplayGuard>>,
    authorizer_timeout: Duration,
    replay_guard_timeout: Duration,
    cookie_threshold: usize,
    timeout: Duration,
    /// The limits, and the counters behind [`metrics`](Self::metrics).
    limits: Arc<Limits>,
    rate: Option<Arc<RateLimit>>,
}

impl Acceptor {
    /// An acceptor with no policies (every client gets in, early data is
    /// refused), [`DEFAULT_COOKIE_THRESHOLD`] and
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`].
    pub fn new(config: Arc<ServerConfig>) -> Self {
        Self {
            config,
            authorizer: None,
            replay_guard: None,
            authorizer_timeout: DEFAULT_AUTHORIZER_TIMEOUT,
            replay_guard_timeout: DEFAULT_REPLAY_GUARD_TIMEOUT,
            cookie_threshold: DEFAULT_COOKIE_THRESHOLD,
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            limits: Arc::new(Limits::new(DEFAULT_MEMORY_BUDGET, DEFAULT_MAX_CONNECTIONS)),
            rate: Some(Arc::new(RateLimit::new(
                DEFAULT_HANDSHAKES_PER_SECOND,
                DEFAULT_HANDSHAKE_BURST,
            ))),
        }
    }

    /// The memory budget, in bytes, for received data not yet taken by the
    /// application, across every connection of this acceptor and its clones
    /// (default [`DEFAULT_MEMORY_BUDGET`]). Set it before cloning (and
    /// before accepting: the [`metrics`](Self::metrics) start again).
    pub fn with_memory_budget(mut self, bytes: usize) -> Self {
        self.limits = Arc::new(Limits::new(bytes, self.limits.max_connections));
        self
    }

    /// The most connections open at once (default
    /// [`DEFAULT_MAX_CONNECTIONS`]); further clients are dropped before any
    /// work. Set it before cloning (and before accepting: the
    /// [`metrics`](Self::metrics) start again).
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.limits = Arc::new(Limits::new(self.limits.budget, max));
        self
    }

    /// Allows `per_second` handshakes per second from one address (IPv4
    /// address or IPv6 /64) after a burst of `burst`; clients over it are
    /// dropped before any work (default [`DEFAULT_HANDSHAKES_PER_SECOND`],
    /// [`DEFAULT_HANDSHAKE_BURST`]). Only applies to peers given as a
    /// socket address.
    pub fn with_handshake_rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate = Some(Arc::new(RateLimit::new(per_second, burst)));
        self
    }

    /// No per-address handshake rate limit.
    pub fn without_handshake_rate_limit(mut self) -> Self {
        self.rate = None;
        self
    }

    /// Decides who gets in (see [`Authorizer`]).
    pub fn with_authorizer(mut self, authorizer: impl Authorizer) -> Self {
        self.authorizer = Some(Arc::new(authorizer));
        self
    }

    /// Judges early data (see [`ReplayGuard`]); early data must also be
    /// enabled in the configuration
    /// ([`ServerConfig::enable_replayable_early_data`]).
    pub fn with_replay_guard(mut self, guard: Arc<dyn ReplayGuard>) -> Self {
        self.replay_guard = Some(guard);
        self
    }

    /// How long the authorizer may take per client (default
    /// [`DEFAULT_AUTHORIZER_TIMEOUT`]).
    pub fn with_authorizer_timeout(mut self, timeout: Duration) -> Self {
        self.authorizer_timeout = timeout;
        self
    }

    /// How long the replay guard may take per flight (default
    /// [`DEFAULT_REPLAY_GUARD_TIMEOUT`]).
    pub fn with_replay_guard_timeout(mut self, timeout: Duration) -> Self {
        self.replay_guard_timeout = timeout;
        self
    }

    /// Demand cookies while more than `threshold` handshakes are in progress
    /// (0: always).
    pub fn with_cookie_threshold(mut self, threshold: usize) -> Self {
        self.cookie_threshold = threshold;
        self
    }

    /// Give up on a handshake (decision and key confirmation included)
    /// after `timeout`.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Handshakes in progress now (clients that sent a ClientHello and are
    /// not yet established): [`AcceptorMetrics::pending_handshakes`].
    pub fn pending_handshakes(&self) -> usize {
        self.limits.counters.pending.load(Ordering::SeqCst)
    }

    /// Connections open now (from `accept` until the stream is dropped):
    /// [`AcceptorMetrics::open_connections`].
    pub fn open_connections(&self) -> usize {
        self.limits.connections()
    }

    /// Bytes of received data held for the application now, across
    /// connections (what the memory budget limits):
    /// [`AcceptorMetrics::buffered_bytes`].
    pub fn buffered_bytes(&self) -> usize {
        self.limits.held()
    }

    /// How many accepted connections had to present a cookie so far:
    /// [`AcceptorMetrics::cookies_demanded`].
    pub fn cookies_demanded(&self) -> usize {
        usize::try_from(self.limits.counters.cookies_demanded()).unwrap_or(usize::MAX)
    }

    /// A snapshot of this acceptor's counters (shared with its clones):
    /// handshakes started, completed (and how many of those were resumed
    /// with a ticket) and failed (by alert), clients
    /// rejected, decisions timed out, cookies demanded, early data accepted
    /// and rejected, bytes in and out, and the gauges above.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # let config = Arc::new(lwsec::ServerConfig::new(lwsec::StaticKeyPair::from_private_bytes([1; 32])));
    /// let acceptor = lwsec::tokio::Acceptor::new(config);
    /// let m = acceptor.metrics();
    /// println!(
    ///     "handshakes: {} ok, {} failed ({} bad_cookie); {} open",
    ///     m.handshakes_completed,
    ///     m.handshakes_failed,
    ///     m.failed_by_alert(lwsec::AlertCode::BadCookie),
    ///     m.open_connections,
    /// );
    /// ```
    pub fn metrics(&self) -> AcceptorMetrics {
        self.limits.counters.snapshot(
            self.open_connections(),
            self.pending_handshakes(),
            self.buffered_bytes(),
        )
    }

    /// Runs the server handshake over `io` with the client at `peer` (a
    /// `SocketAddr`, or [`ServerOptions`] for other transports) and returns
    /// the stream once the client has confirmed the handshake.
    ///
    /// The future owns what it needs (a clone of the acceptor, `io`) and
    /// keeps the handshake's state in one heap allocation, freed when the
    /// handshake ends: it is the size of a pointer and does not borrow the
    /// acceptor, so it can be created in the accept loop and moved into the
    /// connection's task, which then stays the size of what it keeps
    /// afterwards (see the example above).
    pub fn accept<IO, P>(
        &self,
        io: IO,
        peer: P,
    ) -> impl Future<Output = io::Result<Stream<IO>>> + use<IO, P>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
        P: Into<ServerOptions>,
    {
        let acceptor = self.clone();
        let options = peer.into();
        Box::pin(async move { acceptor.run(io, options).await?.confirm().await })
    }

    /// Like [`accept`](Self::accept), but returns as soon as the client was
    /// accepted and the ServerHello sent, before the client's key
    /// confirmation: the early data can be answered in the same round trip.
    /// Call [`Unconfirmed::confirm`] to get the stream. The future, like
    /// `accept`'s, is one pointer and does not borrow the acceptor.
    pub fn accept_unconfirmed<IO, P>(
        &self,
        io: IO,
        peer: P,
    ) -> impl Future<Output = io::Result<Unconfirmed<IO>>> + use<IO, P>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
        P: Into<ServerOptions>,
    {
        let acceptor = self.clone();
        let options = peer.into();
        Box::pin(async move { acceptor.run(io, options).await })
    }

    /// The handshake up to the ServerHello: limits, first input, cookie
    /// decision, policies.
    async fn run<IO>(&self, io: IO, options: ServerOptions) -> io::Result<Unconfirmed<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let counters = &self.limits.counters;
        if let (Some(rate), Some(addr)) = (&self.rate, options.socket_addr()) {
            if !rate.allow(addr.ip(), std::time::Instant::now()) {
                counters.refused_by_limits();
                return Err(Error::LimitReached(Limit::HandshakeRate).into());
            }
        }
        let Some(charge) = Limits::open(&self.limits) else {
            counters.refused_by_limits();
            return Err(Error::LimitReached(Limit::Connections).into());
        };
        #[cfg(feature = "tracing")]
        let span = {
            let peer = options.socket_addr();
            crate::adapter::observe::trace::connection_span(
                crate::Side::Server,
                peer.as_ref().map(|p| p as &dyn fmt::Display),
            )
        };
        let conn = Connection::server_with_options(self.config.clone(), Time::now(), options)?;
        let deadline = Instant::now()
            .checked_add(self.timeout)
            .unwrap_or_else(Instant::now);
        let mut stream = Stream::new(conn, io);
        stream.set_charge(charge);
        #[cfg(feature = "tracing")]
        stream.set_span(span.clone());
        let mut pending = None;
        let run = async {
            // Only a client that sent something counts as a handshake in
            // progress: idle sockets do not make others echo cookies.
            poll_fn(|cx| stream.poll_first_input(cx)).await?;
            let (guard, in_progress) = PendingGuard::start(self.limits.clone());
            let guard = pending.insert(guard);
            let demand_cookie = in_progress > self.cookie_threshold;
            if demand_cookie {
                guard.counters().cookie_demanded();
            }
            stream.conn_mut().set_cookie_demanded(demand_cookie)?;
            self.decide_on(&mut stream).await
        };
        #[cfg(feature = "tracing")]
        let run = tracing::Instrument::instrument(run, span);
        let result = timeout_at(deadline, run)
            .await
            .map_err(|_| timed_out(self.timeout))
            .and_then(|r| r);
        match (result, pending) {
            (Ok(hello), Some(pending)) => Ok(Unconfirmed::new(
                stream,
                hello,
                deadline,
                self.timeout,
                pending,
            )),
            (Ok(_), None) => Err(io::Error::other("lwsec: handshake decided before it began")),
            (Err(e), pending) => {
                #[cfg(feature = "tracing")]
                crate::adapter::observe::trace::handshake_failed(
                    stream.span(),
                    &e,
                    self.timeout
                        .saturating_sub(deadline.saturating_duration_since(Instant::now())),
                );
                if let Some(pending) = pending {
                    pending.failed(&e);
                }
                Err(e)
            }
        }
    }

    /// Drives the handshake to the decision point, decides, and drives on
    /// until the ServerHello is sent. Returns what the client's flight said.
    async fn decide_on<IO>(&self, stream: &mut Stream<IO>) -> io::Result<ClientHello>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        poll_fn(|cx| stream.poll_handshake(cx, true)).await?;
        let Some(hello) = stream.conn().client_hello().cloned() else {
            return Err(io::Error::other("lwsec: handshake ended before a decision"));
        };
        let counters = &self.limits.counters;
        match self.decide(&hello).await {
            Ok(acceptance) => {
                stream.conn_mut().accept_client(acceptance, Time::now())?;
                stream.forget_handshake_events();
                if hello.early_data().is_some() {
                    counters.early_data(stream.has_early_data());
                }
            }
            Err(reason) => {
                counters.client_rejected(reason);
                let err = stream.conn_mut().reject_client(reason);
                // Best effort: the alert goes out within the deadline.
                let _ = poll_fn(|cx| stream.poll_flush_all(cx)).await;
                return Err(err.into());
            }
        }
        poll_fn(|cx| stream.poll_handshake(cx, true)).await?;
        Ok(hello)
    }

    /// Runs the authorizer and the replay guard concurrently, each with its
    /// deadline, failing closed.
    async fn decide(&self, hello: &ClientHello) -> Result<Acceptance, Rejection> {
        let now = Time::now();
        let authorize = async {
            match &self.authorizer {
                None => Ok(None),
                Some(a) => timeout(self.authorizer_timeout, a.authorize(hello))
                    .await
                    .unwrap_or_else(|_| {
                        self.limits.counters.decision_timed_out();
                        Err(Rejection::PolicyUnavailable)
                    }),
            }
        };
        let fresh = async {
            match (hello.early_data(), &self.replay_guard) {
                (Some(offer), Some(guard)) if offer.needs_replay_check() => {
                    match timeout(self.replay_guard_timeout, guard.check(offer, now)).await {
                        Ok(verdict) => matches!(verdict, Ok(true)),
                        Err(_) => {
                            self.limits.counters.decision_timed_out();
                            false
                        }
                    }
                }
                _ => false,
            }
        };
        let (identity, fresh) = ::tokio::join!(authorize, fresh);
        let mut acceptance = Acceptance::new().with_fresh_early_data(fresh);
        if let Some(identity) = identity? {
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
            .field("authorizer_timeout", &self.authorizer_timeout)
            .field("replay_guard_timeout", &self.replay_guard_timeout)
            .field("cookie_threshold", &self.cookie_threshold)
            .field("timeout", &self.timeout)
            .field("pending", &self.pending_handshakes())
            .field("limits", &self.limits)
            .field("rate", &self.rate.is_some())
            .finish()
    }
}

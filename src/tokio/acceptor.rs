//! The server side: an acceptor that runs the server's policies at each
//! connection's decision point and turns on stateless cookies under load.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::time::{Instant, timeout, timeout_at};

use super::limits::{DEFAULT_MAX_CONNECTIONS, DEFAULT_MEMORY_BUDGET, Limits, RateLimit};
use super::policy::{Authorizer, ReplayGuard};
use super::unconfirmed::{PendingGuard, Unconfirmed};
use super::{DEFAULT_HANDSHAKE_TIMEOUT, Stream, timed_out};
use crate::{
    Acceptance, ClientHello, Connection, Error, Limit, Rejection, ServerConfig, ServerOptions, Time,
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
/// Clone it freely: clones share the policies and the count of handshakes
/// in progress.
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
///     let acceptor = acceptor.clone();
///     tokio::spawn(async move {
///         let mut stream = acceptor.accept(tcp, peer).await?;
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
    pending: Arc<AtomicUsize>,
    cookies_demanded: Arc<AtomicUsize>,
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
            pending: Arc::new(AtomicUsize::new(0)),
            cookies_demanded: Arc::new(AtomicUsize::new(0)),
            limits: Arc::new(Limits::new(DEFAULT_MEMORY_BUDGET, DEFAULT_MAX_CONNECTIONS)),
            rate: Some(Arc::new(RateLimit::new(
                DEFAULT_HANDSHAKES_PER_SECOND,
                DEFAULT_HANDSHAKE_BURST,
            ))),
        }
    }

    /// The memory budget, in bytes, for received data not yet taken by the
    /// application, across every connection of this acceptor and its clones
    /// (default [`DEFAULT_MEMORY_BUDGET`]). Set it before cloning.
    pub fn with_memory_budget(mut self, bytes: usize) -> Self {
        self.limits = Arc::new(Limits::new(bytes, self.limits.max_connections));
        self
    }

    /// The most connections open at once (default
    /// [`DEFAULT_MAX_CONNECTIONS`]); further clients are dropped before any
    /// work. Set it before cloning.
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
    /// not yet established).
    pub fn pending_handshakes(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Connections open now (from `accept` until the stream is dropped).
    pub fn open_connections(&self) -> usize {
        self.limits.connections()
    }

    /// Bytes of received data held for the application now, across
    /// connections (what the memory budget limits).
    pub fn buffered_bytes(&self) -> usize {
        self.limits.held()
    }

    /// How many accepted connections had to present a cookie so far.
    pub fn cookies_demanded(&self) -> usize {
        self.cookies_demanded.load(Ordering::SeqCst)
    }

    /// Runs the server handshake over `io` with the client at `peer` (a
    /// `SocketAddr`, or [`ServerOptions`] for other transports) and returns
    /// the stream once the client has confirmed the handshake.
    pub async fn accept<IO>(&self, io: IO, peer: impl Into<ServerOptions>) -> io::Result<Stream<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let peer = peer.into();
        // Boxed: the handshake's state lives on the heap while it runs, so
        // the task that awaits this stays the size of what it keeps after.
        Box::pin(async move { self.accept_unconfirmed(io, peer).await?.confirm().await }).await
    }

    /// Like [`accept`](Self::accept), but returns as soon as the client was
    /// accepted and the ServerHello sent, before the client's key
    /// confirmation: the early data can be answered in the same round trip.
    /// Call [`Unconfirmed::confirm`] to get the stream.
    pub async fn accept_unconfirmed<IO>(
        &self,
        io: IO,
        peer: impl Into<ServerOptions>,
    ) -> io::Result<Unconfirmed<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let options = peer.into();
        if let (Some(rate), Some(addr)) = (&self.rate, options.socket_addr()) {
            if !rate.allow(addr.ip(), std::time::Instant::now()) {
                return Err(Error::LimitReached(Limit::HandshakeRate).into());
            }
        }
        let charge = Limits::open(&self.limits).ok_or(Error::LimitReached(Limit::Connections))?;
        let conn = Connection::server_with_options(self.config.clone(), Time::now(), options)?;
        let deadline = Instant::now()
            .checked_add(self.timeout)
            .unwrap_or_else(Instant::now);
        let mut stream = Stream::new(conn, io);
        stream.set_charge(charge);
        let run = async {
            // Only a client that sent something counts as a handshake in
            // progress: idle sockets do not make others echo cookies.
            poll_fn(|cx| stream.poll_first_input(cx)).await?;
            let in_progress = self
                .pending
                .fetch_add(1, Ordering::SeqCst)
                .saturating_add(1);
            let pending = PendingGuard::new(self.pending.clone());
            let demand_cookie = in_progress > self.cookie_threshold;
            if demand_cookie {
                self.cookies_demanded.fetch_add(1, Ordering::SeqCst);
            }
            stream.conn_mut().set_cookie_demanded(demand_cookie)?;
            let hello = self.decide_on(&mut stream).await?;
            Ok::<_, io::Error>((hello, pending))
        };
        let (hello, pending) = timeout_at(deadline, run)
            .await
            .map_err(|_| timed_out(self.timeout))??;
        Ok(Unconfirmed::new(
            stream,
            hello,
            deadline,
            self.timeout,
            pending,
        ))
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
        match self.decide(&hello).await {
            Ok(acceptance) => stream.conn_mut().accept_client(acceptance, Time::now())?,
            Err(reason) => {
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
                    .unwrap_or(Err(Rejection::PolicyUnavailable)),
            }
        };
        let fresh = async {
            match (hello.early_data(), &self.replay_guard) {
                (Some(offer), Some(guard)) if offer.needs_replay_check() => matches!(
                    timeout(self.replay_guard_timeout, guard.check(offer, now)).await,
                    Ok(Ok(true))
                ),
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

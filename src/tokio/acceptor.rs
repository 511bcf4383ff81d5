//! A server-side acceptor that turns on stateless cookies under load.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};

use super::{DEFAULT_HANDSHAKE_TIMEOUT, Stream, handshake};
use crate::{Connection, ServerConfig, ServerOptions, Time};

/// Handshakes in progress above which new clients must first echo a Retry
/// cookie (see [`Acceptor::with_cookie_threshold`]).
pub const DEFAULT_COOKIE_THRESHOLD: usize = 1024;

/// Accepts clients for one server configuration and defends it against
/// handshake floods: while more than a threshold of handshakes are in
/// progress, new clients get a stateless Retry with a cookie bound to their
/// address before the server does any Diffie-Hellman work
/// (`spec/PROTOCOL.md` section 4.5). Honest clients answer it automatically
/// (one extra round trip); a flood of first flights from spoofed or
/// abandoned connections costs no DH and no state.
///
/// Clone it freely: clones share the count of handshakes in progress.
///
/// ```no_run
/// # async fn run(config: std::sync::Arc<lwsec::ServerConfig>) -> std::io::Result<()> {
/// let acceptor = lwsec::tokio::Acceptor::new(config).with_cookie_threshold(500);
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
#[derive(Clone, Debug)]
pub struct Acceptor {
    config: Arc<ServerConfig>,
    cookie_threshold: usize,
    timeout: Duration,
    pending: Arc<AtomicUsize>,
    cookies_demanded: Arc<AtomicUsize>,
}

/// Decrements the in-progress count when a handshake ends, however it ends.
struct PendingGuard(Arc<AtomicUsize>);

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Acceptor {
    /// An acceptor with [`DEFAULT_COOKIE_THRESHOLD`] and
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`].
    pub fn new(config: Arc<ServerConfig>) -> Self {
        Self {
            config,
            cookie_threshold: DEFAULT_COOKIE_THRESHOLD,
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            pending: Arc::new(AtomicUsize::new(0)),
            cookies_demanded: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Demand cookies while more than `threshold` handshakes are in progress
    /// (0: always).
    pub fn with_cookie_threshold(mut self, threshold: usize) -> Self {
        self.cookie_threshold = threshold;
        self
    }

    /// Give up on a handshake after `timeout`.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Handshakes in progress now.
    pub fn pending_handshakes(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// How many accepted connections had to present a cookie so far.
    pub fn cookies_demanded(&self) -> usize {
        self.cookies_demanded.load(Ordering::SeqCst)
    }

    /// Runs the server handshake with the client at `peer` over `io`.
    pub async fn accept<IO>(&self, io: IO, peer: SocketAddr) -> io::Result<Stream<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let in_progress = self
            .pending
            .fetch_add(1, Ordering::SeqCst)
            .saturating_add(1);
        let _guard = PendingGuard(self.pending.clone());
        let options = ServerOptions {
            peer_address: peer.to_string().into_bytes(),
            demand_cookie: in_progress > self.cookie_threshold,
        };
        if options.demand_cookie {
            self.cookies_demanded.fetch_add(1, Ordering::SeqCst);
        }
        let conn = Connection::server_with_options(self.config.clone(), Time::now(), options)?;
        handshake(conn, io, self.timeout).await
    }
}

//! The client side's counterpart of the [`Acceptor`](super::Acceptor).

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};

use super::{DEFAULT_HANDSHAKE_TIMEOUT, Stream, run_handshake};
use crate::{ClientConfig, Connection, ResumptionTicket, Time};

/// Connects clients with one configuration: cheap to clone, shared by every
/// connection of an application (like tokio-rustls's `TlsConnector`).
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use lwsec::{ClientConfig, PublicKey};
/// use lwsec::tokio::Connector;
///
/// let config = ClientConfig::nk(PublicKey::load("server.pub")?);
/// let connector = Connector::new(Arc::new(config))
///     .with_handshake_timeout(Duration::from_secs(5));
/// let tcp = tokio::net::TcpStream::connect("127.0.0.1:7878").await?;
/// let mut stream = connector.connect(tcp).await?;
/// stream.send_message(b"hello").await?;
/// # Ok(()) }
/// ```
///
/// # Resumption
///
/// A server with resumption enabled gives each connection a ticket
/// ([`Stream::take_resumption_ticket`], about one round trip after the
/// handshake). [`resume`](Self::resume) spends it on the next connection:
/// the server skips its static-key work, and if it refuses the ticket
/// (rotated keys, another fleet, expired) the same connection runs a full
/// handshake, one round trip later. Each ticket is for one connection; the
/// resumed connection brings a new one.
///
/// ```no_run
/// # async fn run(connector: lwsec::tokio::Connector) -> std::io::Result<()> {
/// use tokio::net::TcpStream;
///
/// let mut ticket = None;
/// for _ in 0..3 {
///     let tcp = TcpStream::connect("127.0.0.1:7878").await?;
///     let mut stream = match ticket.take() {
///         Some(t) => connector.resume(t, tcp).await?,
///         None => connector.connect(tcp).await?,
///     };
///     stream.send_message(b"sync").await?;
///     let _reply = stream.recv_message().await?;
///     println!("resumed: {}", stream.conn().is_resumed());
///     // The ticket came in before (or with) the reply.
///     ticket = stream.take_resumption_ticket();
///     stream.close().await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Connector {
    config: Arc<ClientConfig>,
    handshake_timeout: Duration,
}

impl Connector {
    /// A connector for `config`, giving up on a handshake after
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`].
    pub fn new(config: Arc<ClientConfig>) -> Self {
        Self {
            config,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Gives up on a handshake (and fails with [`crate::Error::HandshakeTimeout`]
    /// inside the `io::Error`) after `timeout`.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The configuration every connection uses.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// Runs the client handshake over `io` and returns the stream once the
    /// server is authenticated. The future is one pointer and owns what it
    /// needs (it does not borrow the connector).
    pub fn connect<IO>(&self, io: IO) -> impl Future<Output = io::Result<Stream<IO>>> + use<IO>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let conn = Connection::client(self.config.clone(), Time::now());
        let timeout = self.handshake_timeout;
        Box::pin(async move { run_handshake(conn?, io, timeout).await })
    }

    /// [`connect`](Self::connect) with `early_data` in the first flight
    /// (0-RTT). **Replayable and not forward secret**: see
    /// [`Connection::client_with_replayable_early_data`]. Whether the server
    /// took it arrives as [`Event::EarlyDataAccepted`](crate::Event::EarlyDataAccepted)
    /// or [`Event::EarlyDataRejected`](crate::Event::EarlyDataRejected) from
    /// [`Stream::poll_event`]; resend rejected data as a normal message.
    pub fn connect_with_replayable_early_data<IO>(
        &self,
        io: IO,
        early_data: &[u8],
    ) -> impl Future<Output = io::Result<Stream<IO>>> + use<IO>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let conn = Connection::client_with_replayable_early_data(
            self.config.clone(),
            Time::now(),
            early_data,
        );
        let timeout = self.handshake_timeout;
        Box::pin(async move { run_handshake(conn?, io, timeout).await })
    }

    /// [`connect`](Self::connect) resuming a session with `ticket` (from
    /// [`Stream::take_resumption_ticket`] on an earlier connection to the
    /// same server or fleet; see [`Connection::resume`]). If the server
    /// refuses the ticket, the handshake falls back to a full one on the
    /// same `io`, and an expired ticket is not even sent:
    /// `stream.conn().is_resumed()` tells which happened. Either way the
    /// ticket is spent; the new connection brings a new one.
    pub fn resume<IO>(
        &self,
        ticket: ResumptionTicket,
        io: IO,
    ) -> impl Future<Output = io::Result<Stream<IO>>> + use<IO>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let conn = Connection::resume(self.config.clone(), ticket, Time::now());
        let timeout = self.handshake_timeout;
        Box::pin(async move { run_handshake(conn?, io, timeout).await })
    }

    /// [`resume`](Self::resume) with `early_data` in the first flight
    /// (0-RTT). **Replayable and not forward secret** (encrypted under the
    /// ticket's secret): see [`Connection::resume_with_replayable_early_data`].
    /// It is never sent again if the server refuses the ticket; whether the
    /// server took it is [`Stream::early_data_accepted`] (resend rejected
    /// data as a normal message).
    pub fn resume_with_replayable_early_data<IO>(
        &self,
        ticket: ResumptionTicket,
        io: IO,
        early_data: &[u8],
    ) -> impl Future<Output = io::Result<Stream<IO>>> + use<IO>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let conn = Connection::resume_with_replayable_early_data(
            self.config.clone(),
            ticket,
            Time::now(),
            early_data,
        );
        let timeout = self.handshake_timeout;
        Box::pin(async move { run_handshake(conn?, io, timeout).await })
    }
}

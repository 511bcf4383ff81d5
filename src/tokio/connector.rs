//! The client side's counterpart of the [`Acceptor`](super::Acceptor).

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};

use super::{DEFAULT_HANDSHAKE_TIMEOUT, Stream, run_handshake};
use crate::{ClientConfig, Connection, Time};

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
}

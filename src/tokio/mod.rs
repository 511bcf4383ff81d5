//! Tokio adapter: a [`Connection`] over any
//! `AsyncRead + AsyncWrite` transport (feature `tokio`).
//!
//! [`connect`] and [`accept`] run the handshake (with a timeout) and return
//! a [`Stream`]: `AsyncRead`/`AsyncWrite` over message payloads, plus
//! `send_message`/`recv_message`, [`Stream::into_split`] for two tasks, and
//! [`Stream::into_messages`] for a `futures` `Stream + Sink` of whole
//! messages ([`MessageStream`]). Servers under load use an [`Acceptor`],
//! which demands stateless Retry cookies while too many handshakes are in
//! progress. The adapter only moves bytes and keeps time; the protocol is
//! in the core.
//!
//! # Why `flush` and `shutdown` matter
//!
//! A write encrypts its bytes into records and *starts* sending them; what
//! the socket does not take at once stays queued in the connection. Call
//! `flush` (`AsyncWriteExt::flush`, `SinkExt::send` does it for you) to be
//! sure everything has been handed to the socket. Call `shutdown` (or
//! [`Stream::close`]) when done: it sends close_notify, so the peer can tell
//! a deliberate end from a cut connection. Without it the peer's read fails
//! with `UnexpectedEof` (`Error::Truncated`), exactly as it would for an
//! attacker truncating the stream. Dropping a `Stream` sends nothing.
//!
//! # Time
//!
//! Keep-alive pings and the idle timeout (`TransportConfig`) run on a tokio
//! timer while a task is reading (`read`, `recv_message`, or polling the
//! `MessageStream`). The runtime must have its time driver enabled.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use lwsec::{ClientConfig, PublicKey};
//! use tokio::net::TcpStream;
//!
//! let config = Arc::new(ClientConfig::nk(PublicKey::load("server.pub")?));
//! let tcp = TcpStream::connect("127.0.0.1:7878").await?;
//! let mut stream = lwsec::tokio::connect(config, tcp).await?;
//! stream.send_message(b"hello").await?;
//! if let Some(reply) = stream.recv_message().await? {
//!     println!("{}", String::from_utf8_lossy(&reply));
//! }
//! stream.close().await?;
//! # Ok(()) }
//! ```

mod acceptor;
mod messages;
mod stream;

use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};

use crate::{ClientConfig, Connection, ServerConfig, Time};

pub use acceptor::{Acceptor, DEFAULT_COOKIE_THRESHOLD};
pub use messages::MessageStream;
pub use stream::Stream;

/// Handshake timeout of [`connect`] and [`accept`].
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects as a client over `io`: runs the handshake, giving up after
/// [`DEFAULT_HANDSHAKE_TIMEOUT`].
pub async fn connect<IO>(config: Arc<ClientConfig>, io: IO) -> io::Result<Stream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    connect_with_timeout(config, io, DEFAULT_HANDSHAKE_TIMEOUT).await
}

/// [`connect`] with a chosen handshake timeout.
pub async fn connect_with_timeout<IO>(
    config: Arc<ClientConfig>,
    io: IO,
    timeout: Duration,
) -> io::Result<Stream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    handshake(Connection::client(config, Time::now())?, io, timeout).await
}

/// Accepts a client over `io`: runs the handshake, giving up after
/// [`DEFAULT_HANDSHAKE_TIMEOUT`].
pub async fn accept<IO>(config: Arc<ServerConfig>, io: IO) -> io::Result<Stream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    accept_with_timeout(config, io, DEFAULT_HANDSHAKE_TIMEOUT).await
}

/// [`accept`] with a chosen handshake timeout.
pub async fn accept_with_timeout<IO>(
    config: Arc<ServerConfig>,
    io: IO,
    timeout: Duration,
) -> io::Result<Stream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    handshake(Connection::server(config, Time::now())?, io, timeout).await
}

/// Runs the handshake of a connection the caller created, for example a
/// client with early data ([`Connection::client_with_replayable_early_data`])
/// or a server with options ([`Connection::server_with_options`]: peer
/// address for cookies, cookie demanded under load).
pub async fn handshake<IO>(conn: Connection, io: IO, timeout: Duration) -> io::Result<Stream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = Stream::new(conn, io);
    let result = ::tokio::time::timeout(timeout, poll_fn(|cx| stream.poll_handshake(cx))).await;
    match result {
        Ok(Ok(())) => Ok(stream),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("lwsec handshake did not complete within {timeout:?}"),
        )),
    }
}

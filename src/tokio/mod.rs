//! Tokio adapter: a [`Connection`] over any
//! `AsyncRead + AsyncWrite` transport (feature `tokio`).
//!
//! [`connect`] (or a [`Connector`], which pairs with the [`Acceptor`]) runs
//! the client handshake (with a timeout), [`resume`] (or
//! [`Connector::resume`]) a resumed one with a ticket from an earlier
//! connection ([`Stream::take_resumption_ticket`]), and returns a
//! [`Stream`]: `AsyncRead`/`AsyncWrite` over message payloads, plus
//! `send_message`/`recv_message`, [`Stream::into_split`] for two tasks, and
//! [`Stream::into_messages`] for a `futures` `Stream + Sink` of whole
//! messages ([`MessageStream`]).
//!
//! Servers use an [`Acceptor`]. At each connection's decision point it runs
//! the server's asynchronous policies, each with a deadline, failing
//! closed: an [`Authorizer`] (who gets in, with which application
//! identity) and a [`ReplayGuard`] (is the early data fresh; a
//! [`StrikeRegister`](crate::early_data::StrikeRegister) in one process,
//! [`RedisReplayGuard`] for a fleet). A slow policy delays only its own
//! client. The acceptor returns the stream once the client has confirmed
//! the handshake, or, with [`Acceptor::accept_unconfirmed`], as soon as the
//! ServerHello is sent (to answer early data in the same round trip). It
//! also demands stateless Retry cookies while too many handshakes are in
//! progress. The adapter only moves bytes, keeps time and runs policies;
//! the protocol is in the core.
//!
//! Resumption (`spec/PROTOCOL.md` section 4.11): a server with
//! [`ServerConfig::enable_resumption`] gives each confirmed client a
//! ticket, which the client takes from its stream
//! ([`Stream::take_resumption_ticket`]) and spends on its next connection
//! ([`resume`], [`Connector::resume`]). The authorizer sees a resumed
//! client's original identity ([`ClientHello::resumption`](crate::ClientHello::resumption)),
//! and [`AcceptorMetrics::handshakes_resumed`] counts resumed handshakes.
//! Servers of a fleet accept each other's tickets when they share ticket
//! keys: from a file ([`TicketKeys::load`](crate::TicketKeys::load)) or
//! from Redis (`RedisTicketKeys`, feature `redis`).
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
mod connector;
mod limits;
mod messages;
mod policy;
#[cfg(feature = "redis")]
mod redis_guard;
#[cfg(feature = "redis")]
mod redis_ticket_keys;
mod stream;
mod unconfirmed;

use std::future::{Future, poll_fn};
use std::io;
use std::sync::Arc;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};

use crate::{
    Acceptance, ClientConfig, Connection, Error, ResumptionTicket, ServerConfig, ServerOptions,
    Time,
};

pub use crate::adapter::observe::AcceptorMetrics;
pub use acceptor::{
    Acceptor, DEFAULT_AUTHORIZER_TIMEOUT, DEFAULT_COOKIE_THRESHOLD, DEFAULT_HANDSHAKE_BURST,
    DEFAULT_HANDSHAKES_PER_SECOND, DEFAULT_REPLAY_GUARD_TIMEOUT,
};
pub use connector::Connector;
pub use limits::{DEFAULT_MAX_CONNECTIONS, DEFAULT_MEMORY_BUDGET};
pub use messages::MessageStream;
pub use policy::{Authorizer, PolicyFuture, ReplayGuard};
#[cfg(feature = "redis")]
pub use redis_guard::RedisReplayGuard;
#[cfg(feature = "redis")]
pub use redis_ticket_keys::{
    DEFAULT_TICKET_KEY_REFRESH, DEFAULT_TICKET_KEY_REFRESH_DEADLINE, DEFAULT_TICKET_KEY_ROTATION,
    RedisTicketKeys, TicketKeysStatus,
};
pub use stream::Stream;
pub use unconfirmed::Unconfirmed;

use crate::DEFAULT_HANDSHAKE_TIMEOUT;

/// Connects as a client over `io`: runs the handshake, giving up after
/// [`DEFAULT_HANDSHAKE_TIMEOUT`]. Short for `Connector::new(config).connect(io)`;
/// a [`Connector`] chooses the timeout and sends early data.
pub fn connect<IO>(
    config: Arc<ClientConfig>,
    io: IO,
) -> impl Future<Output = io::Result<Stream<IO>>> + use<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    Connector::new(config).connect(io)
}

/// Resumes a session as a client over `io` with `ticket` (falling back to
/// a full handshake on the same `io` if the server refuses it), giving up
/// after [`DEFAULT_HANDSHAKE_TIMEOUT`]. Short for
/// `Connector::new(config).resume(ticket, io)`; see [`Connector::resume`].
pub fn resume<IO>(
    config: Arc<ClientConfig>,
    ticket: ResumptionTicket,
    io: IO,
) -> impl Future<Output = io::Result<Stream<IO>>> + use<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    Connector::new(config).resume(ticket, io)
}

/// Accepts a client over `io` with no policies: every client is let in
/// (no application identity) and early data is refused. Gives up after
/// [`DEFAULT_HANDSHAKE_TIMEOUT`]. Servers that decide who gets in, take
/// early data or face floods use an [`Acceptor`].
pub fn accept<IO>(
    config: Arc<ServerConfig>,
    io: IO,
) -> impl Future<Output = io::Result<Stream<IO>>> + use<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    Acceptor::new(config).accept(io, ServerOptions::new())
}

/// Runs the handshake of a connection the caller created, for example a
/// client with early data ([`Connection::client_with_replayable_early_data`]).
/// A server connection created this way lets every client in, with no
/// application identity and early data refused (use an [`Acceptor`] for
/// policies). Returns once the handshake is complete (a server: once the
/// client confirmed it).
///
/// Like every handshake future of this module ([`connect`], [`accept`],
/// [`Acceptor::accept`]), it is one pointer: the handshake's state lives in
/// a heap allocation freed when it ends, so a task that awaits it is sized
/// for the stream it keeps afterwards.
pub fn handshake<IO>(
    conn: Connection,
    io: IO,
    timeout: Duration,
) -> impl Future<Output = io::Result<Stream<IO>>> + use<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    Box::pin(run_handshake(conn, io, timeout))
}

async fn run_handshake<IO>(conn: Connection, io: IO, timeout: Duration) -> io::Result<Stream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    #[cfg(feature = "tracing")]
    let started = std::time::Instant::now();
    #[cfg(feature = "tracing")]
    let span = crate::adapter::observe::trace::connection_span(conn.side(), None);
    let mut stream = Stream::new(conn, io);
    #[cfg(feature = "tracing")]
    stream.set_span(span.clone());
    #[cfg(feature = "tracing")]
    let mut server_key_id = None;
    let run = async {
        loop {
            poll_fn(|cx| stream.poll_handshake(cx, false)).await?;
            let Some(hello) = stream.conn().client_hello() else {
                return Ok::<(), io::Error>(());
            };
            #[cfg(feature = "tracing")]
            {
                server_key_id = Some(hello.server_key_id());
            }
            #[cfg(not(feature = "tracing"))]
            let _ = hello;
            stream
                .conn_mut()
                .accept_client(Acceptance::new(), Time::now())?;
        }
    };
    #[cfg(feature = "tracing")]
    let run = tracing::Instrument::instrument(run, span);
    let result = match ::tokio::time::timeout(timeout, run).await {
        Ok(result) => result,
        Err(_) => Err(timed_out(timeout)),
    };
    match result {
        Ok(()) => {
            stream.forget_handshake_events();
            #[cfg(feature = "tracing")]
            crate::adapter::observe::trace::handshake_completed(
                stream.span(),
                stream.conn(),
                server_key_id,
                started.elapsed(),
            );
            Ok(stream)
        }
        Err(e) => {
            #[cfg(feature = "tracing")]
            crate::adapter::observe::trace::handshake_failed(stream.span(), &e, started.elapsed());
            Err(e)
        }
    }
}

/// The error for a handshake that missed its deadline.
fn timed_out(timeout: Duration) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, Error::HandshakeTimeout(timeout))
}

//! [`MessageStream`]: whole messages as a `futures` `Stream` + `Sink`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite};
use bytes::Bytes;

use super::Stream;

/// An lwsec connection as a `Stream<Item = io::Result<Bytes>>` of received
/// messages and a `Sink<Bytes>` of messages to send, from
/// [`Stream::into_messages`]. Works with `futures::StreamExt`/`SinkExt`
/// (`next`, `send`, `split`, `forward`).
///
/// A codec over decrypted bytes could not find message boundaries (they are
/// carried by the records), so this type drives the [`Connection`](crate::Connection)
/// directly; it plays the role of `tokio_util::codec::Framed`.
///
/// The stream ends (`None`) when the peer closes gracefully; after an error
/// it ends too. `poll_ready` waits while more than 64 KiB of output is
/// queued; `poll_flush` writes it all; `poll_close` sends close_notify.
#[derive(Debug)]
pub struct MessageStream<IO> {
    inner: Stream<IO>,
    done: bool,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> MessageStream<IO> {
    pub(super) fn new(inner: Stream<IO>) -> Self {
        Self { inner, done: false }
    }

    /// The byte stream underneath.
    pub fn get_ref(&self) -> &Stream<IO> {
        &self.inner
    }

    /// The byte stream underneath, mutably.
    pub fn get_mut(&mut self) -> &mut Stream<IO> {
        &mut self.inner
    }

    /// Back to the byte stream.
    pub fn into_inner(self) -> Stream<IO> {
        self.inner
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> futures_core::Stream for MessageStream<IO> {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let result = std::task::ready!(this.inner.poll_recv_message(cx));
        this.done = !matches!(result, Ok(Some(_)));
        Poll::Ready(result.transpose())
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> futures_sink::Sink<Bytes> for MessageStream<IO> {
    type Error = io::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.poll_send_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Bytes) -> io::Result<()> {
        self.get_mut().inner.queue_message(&item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.poll_flush_all(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.poll_close(cx)
    }
}

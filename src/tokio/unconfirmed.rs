//! [`Unconfirmed`]: a server connection whose client was accepted but has
//! not yet confirmed the handshake.

use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::time::{Instant, timeout_at};
use bytes::Bytes;

use super::{Stream, timed_out};
use crate::ClientHello;

/// Decrements the acceptor's in-progress count when a handshake ends,
/// however it ends.
#[derive(Debug)]
pub(super) struct PendingGuard(Arc<AtomicUsize>);

impl PendingGuard {
    pub(super) fn new(count: Arc<AtomicUsize>) -> Self {
        Self(count)
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A server connection between its ServerHello and the client's key
/// confirmation, from [`Acceptor::accept_unconfirmed`](super::Acceptor::accept_unconfirmed).
///
/// Nothing about the client is authenticated yet: its first flight may be a
/// replay by someone who cannot complete the handshake. What the flight
/// claimed is in [`client_hello`](Self::client_hello); accepted early data
/// in [`take_early_data`](Self::take_early_data). Messages sent now
/// ("0.5-RTT") are encrypted to the claimed client and readable only by
/// it. [`confirm`](Self::confirm) waits for the confirmation and returns
/// the [`Stream`].
#[derive(Debug)]
pub struct Unconfirmed<IO> {
    stream: Stream<IO>,
    hello: ClientHello,
    deadline: Instant,
    timeout: Duration,
    _pending: PendingGuard,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Unconfirmed<IO> {
    pub(super) fn new(
        stream: Stream<IO>,
        hello: ClientHello,
        deadline: Instant,
        timeout: Duration,
        pending: PendingGuard,
    ) -> Self {
        Self {
            stream,
            hello,
            deadline,
            timeout,
            _pending: pending,
        }
    }

    /// What the client's first flight claimed (pattern, suite, IK device
    /// key, address, early-data offer). **Not authenticated** until
    /// [`confirm`](Self::confirm) returns.
    pub fn client_hello(&self) -> &ClientHello {
        &self.hello
    }

    /// The early data the replay guard accepted, once. **Replayable, not
    /// forward secret, from a client not yet confirmed**: see
    /// [`Event::EarlyData`](crate::Event::EarlyData).
    pub fn take_early_data(&mut self) -> Option<Bytes> {
        self.stream.take_early_data()
    }

    /// Sends one message before the client's confirmation (0.5-RTT data),
    /// for example the answer to the early data.
    pub async fn send_message(&mut self, message: &[u8]) -> io::Result<()> {
        self.stream.send_message(message).await
    }

    /// Waits for the client's key confirmation (within what is left of the
    /// acceptor's handshake timeout) and returns the established stream.
    pub async fn confirm(mut self) -> io::Result<Stream<IO>> {
        timeout_at(
            self.deadline,
            poll_fn(|cx| self.stream.poll_handshake(cx, false)),
        )
        .await
        .map_err(|_| timed_out(self.timeout))??;
        Ok(self.stream)
    }
}

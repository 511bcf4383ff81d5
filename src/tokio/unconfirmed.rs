//! [`Unconfirmed`]: a server connection whose client was accepted but has
//! not yet confirmed the handshake.

use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::time::{Instant, timeout_at};
use bytes::Bytes;

use super::limits::Limits;
use super::{Stream, timed_out};
use crate::ClientHello;
use crate::adapter::observe::Counters;

/// A handshake in progress, from the client's first bytes until it ends:
/// counted in the acceptor's `pending_handshakes` gauge while it lives, and
/// in its metrics once resolved. Dropped unresolved, the handshake was
/// abandoned (counted as failed).
#[derive(Debug)]
pub(super) struct PendingGuard {
    limits: Arc<Limits>,
    resolved: bool,
}

impl PendingGuard {
    /// Counts a handshake started; also returns how many are in progress,
    /// this one included.
    pub(super) fn start(limits: Arc<Limits>) -> (Self, usize) {
        let in_progress = limits
            .counters
            .pending
            .fetch_add(1, Ordering::SeqCst)
            .saturating_add(1);
        limits.counters.handshake_started();
        let guard = Self {
            limits,
            resolved: false,
        };
        (guard, in_progress)
    }

    /// The acceptor's counters.
    pub(super) fn counters(&self) -> &Counters {
        &self.limits.counters
    }

    /// The handshake completed (`resumed`: with a ticket).
    pub(super) fn completed(mut self, resumed: bool) {
        self.resolved = true;
        self.limits.counters.handshake_completed(resumed);
    }

    /// The handshake failed with `err`.
    pub(super) fn failed(mut self, err: &io::Error) {
        self.resolved = true;
        self.limits.counters.handshake_failed(Some(err));
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.limits.counters.pending.fetch_sub(1, Ordering::SeqCst);
        if !self.resolved {
            self.limits.counters.handshake_failed(None);
        }
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
    pending: PendingGuard,
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
            pending,
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
        let result = timeout_at(
            self.deadline,
            poll_fn(|cx| self.stream.poll_handshake(cx, false)),
        )
        .await
        .map_err(|_| timed_out(self.timeout))
        .and_then(|r| r);
        #[cfg(feature = "tracing")]
        let elapsed = self
            .deadline
            .checked_sub(self.timeout)
            .map(|start| start.elapsed())
            .unwrap_or_default();
        match result {
            Ok(()) => {
                self.stream.forget_handshake_events();
                #[cfg(feature = "tracing")]
                crate::adapter::observe::trace::handshake_completed(
                    self.stream.span(),
                    self.stream.conn(),
                    Some(self.hello.server_key_id()),
                    elapsed,
                );
                self.pending.completed(self.stream.conn().is_resumed());
                Ok(self.stream)
            }
            Err(e) => {
                #[cfg(feature = "tracing")]
                crate::adapter::observe::trace::handshake_failed(self.stream.span(), &e, elapsed);
                self.pending.failed(&e);
                Err(e)
            }
        }
    }
}

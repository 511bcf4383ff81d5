//! [`Stream`]: a [`Connection`] over an `AsyncRead + AsyncWrite` transport.

use std::future::{Future, poll_fn};
use std::io::{self, ErrorKind};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};
use ::tokio::time::{Instant, Sleep};
use bytes::Bytes;

use super::MessageStream;
use super::limits::Charge;
use crate::adapter::{EventNotes, READ_BUF_LEN, send_prefix};
use crate::{Connection, Error, Event, PublicKey, ResumptionTicket, Time};

/// Queued output above this makes writers wait for the transport first, so a
/// peer that does not read cannot make us buffer without bound.
const HIGH_WATER: usize = 64 * 1024;

/// Who waits for the transport to accept output (indexes `write_waiters`).
const READER: usize = 0;
const WRITER: usize = 1;

/// The core counts time in milliseconds: a sleep armed up to this much
/// later than a recomputed deadline is not reset.
const CLOCK_SLACK: Duration = Duration::from_millis(1);

/// An lwsec connection over an async byte stream, from
/// [`connect`](super::connect) or [`accept`](super::accept).
///
/// * [`AsyncRead`]: received bytes, message boundaries ignored; `Ok` with
///   nothing read means the peer closed gracefully.
/// * [`AsyncWrite`]: each `poll_write` sends its bytes as one message (at
///   most `max_message_size`); `poll_flush` writes pending records;
///   `poll_shutdown` sends close_notify.
/// * Messages: [`send_message`](Self::send_message),
///   [`recv_message`](Self::recv_message), or [`into_messages`](Self::into_messages)
///   for a `Stream + Sink`.
///
/// Reads are cancel safe: received bytes are kept in the stream, never in
/// a future. Dropping a `Stream` sends nothing; shut it down first.
///
/// # Memory
///
/// A server holds many idle streams, so the struct keeps inline only what
/// every connection uses (the connection, the transport, the keep-alive
/// timer and the acceptor's charge); input the core could not take yet,
/// tasks waiting for a full transport and events the application has not
/// taken live in a box that exists only while they do. When a read would
/// block with nothing pending, the stream releases the connection's
/// buffers and expanded keys ([`Connection::release_idle_memory`]) and its
/// own box.
pub struct Stream<IO> {
    conn: Connection,
    io: IO,
    /// Armed at the core's `poll_timeout` (keep-alive, idle timeout).
    timer: Option<Pin<Box<Sleep>>>,
    /// Rarely used state, allocated when needed and freed when idle.
    cold: Option<Box<Cold>>,
    /// An acceptor's connection slot and memory-budget charge.
    charge: Option<Charge>,
    /// The connection's span (feature `tracing`).
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

/// What a stream needs only now and then.
#[derive(Default)]
struct Cold {
    /// Input the core could not take yet (normally empty).
    leftover: Vec<u8>,
    /// Tasks whose write found the transport full. With a split stream the
    /// reader (sending a pong) and the writer may both wait; the transport
    /// remembers only the last one, so whoever makes progress wakes both.
    write_waiters: [Option<Waker>; 2],
    /// Events and early data kept for the application.
    notes: EventNotes,
    /// The transport ended after the peer's close_notify.
    eof: bool,
}

impl Cold {
    fn is_unused(&self) -> bool {
        self.leftover.is_empty()
            && self.write_waiters.iter().all(Option::is_none)
            && self.notes.is_empty()
            && !self.eof
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Stream<IO> {
    pub(super) fn new(conn: Connection, io: IO) -> Self {
        Self {
            conn,
            io,
            timer: None,
            cold: None,
            charge: None,
            #[cfg(feature = "tracing")]
            span: tracing::Span::none(),
        }
    }

    /// Sets the connection's span (feature `tracing`).
    #[cfg(feature = "tracing")]
    pub(super) fn set_span(&mut self, span: tracing::Span) {
        self.span = span;
    }

    /// The connection's span (feature `tracing`).
    #[cfg(feature = "tracing")]
    pub(super) fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Server: whether the client's early data was accepted and is waiting
    /// for the application.
    pub(super) fn has_early_data(&self) -> bool {
        self.cold
            .as_deref()
            .is_some_and(|c| c.notes.early_data.is_some())
    }

    /// Counts bytes read from the transport in the acceptor's metrics.
    fn count_in(&self, n: usize) {
        if let Some(charge) = &self.charge {
            charge.counters().bytes_in(n);
        }
    }

    /// Reports a failure of an established connection (feature `tracing`;
    /// handshake failures are reported by the handshake's future).
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    fn trace_failure(&self, was_established: bool, err: &Error) {
        #[cfg(feature = "tracing")]
        if was_established {
            crate::adapter::observe::trace::connection_failed(&self.span, err);
        }
    }

    /// Input kept for the core (normally none).
    fn leftover(&self) -> &[u8] {
        self.cold.as_deref().map_or(&[], |c| &c.leftover)
    }

    fn cold_mut(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    /// Takes the connection's events into the notes (boxed only when
    /// there is one).
    fn drain_events(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            #[cfg(feature = "tracing")]
            crate::adapter::observe::trace::event(&self.span, &event);
            self.cold_mut().notes.note(event);
        }
    }

    fn notes_mut(&mut self) -> Option<&mut EventNotes> {
        self.drain_events();
        self.cold.as_deref_mut().map(|c| &mut c.notes)
    }

    fn is_eof(&self) -> bool {
        self.cold.as_deref().is_some_and(|c| c.eof)
    }

    /// Forgets the handshake's own events once the adapter has acted on
    /// them: the `ClientHello` the acceptor answered, and
    /// `HandshakeComplete`, which the stream's very existence reports.
    pub(super) fn forget_handshake_events(&mut self) {
        if let Some(notes) = self.notes_mut() {
            notes
                .events
                .retain(|e| !matches!(e, Event::ClientHello | Event::HandshakeComplete));
        }
    }

    /// Called when a read would block with nothing pending: keeps only
    /// what an idle connection needs.
    fn release_idle_memory(&mut self) {
        self.conn.release_idle_memory();
        match self.cold.as_deref_mut() {
            Some(cold) if cold.is_unused() => self.cold = None,
            // Events the application has not taken stay, in a buffer of their size.
            Some(cold) => cold.notes.events.shrink_to_fit(),
            None => {}
        }
        self.recharge();
    }

    /// Charges the stream's buffered input against an acceptor's budget.
    pub(super) fn set_charge(&mut self, charge: Charge) {
        self.charge = Some(charge);
        self.recharge();
    }

    /// Updates the charge to what the stream holds now.
    fn recharge(&mut self) {
        if let Some(charge) = &mut self.charge {
            let leftover = self.cold.as_deref().map_or(0, |c| c.leftover.capacity());
            charge.set(self.conn.buffered_len().saturating_add(leftover));
        }
    }

    /// The connection: peer key, suite, exporter, handshake hash.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, mutably (for [`Connection::update_keys`] or
    /// [`Connection::ping`]; flush afterwards). The connection's events are
    /// taken by this adapter and passed on by [`poll_event`](Self::poll_event).
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Server: the client's early data (0-RTT), once, if its replay guard
    /// accepted it. **Replayable and not forward secret**: see
    /// [`Event::EarlyData`](crate::Event::EarlyData).
    pub fn take_early_data(&mut self) -> Option<Bytes> {
        self.notes_mut()?.early_data.take()
    }

    /// Client: whether the server accepted the early data sent with
    /// [`Connection::client_with_replayable_early_data`] (`None` when none
    /// was sent).
    pub fn early_data_accepted(&self) -> Option<bool> {
        self.cold.as_deref()?.notes.early_data_accepted
    }

    /// Client: the server keys the server announced in its handshake, once
    /// (see [`Event::ServerKeysAnnounced`](crate::Event::ServerKeysAnnounced)).
    pub fn take_announced_server_keys(&mut self) -> Option<Vec<PublicKey>> {
        self.notes_mut()?.announced_keys.take()
    }

    /// Client: the resumption ticket the server sent on this connection,
    /// once (see [`Event::ResumptionTicket`]); pass it to
    /// [`Connector::resume`](super::Connector::resume) for the next
    /// connection to the same server or fleet, and store it as a secret
    /// ([`ResumptionTicket::save`]) if that connection may come after a
    /// restart. A server sends at most one ticket per connection.
    ///
    /// **When it arrives.** The server sends the ticket once the client's
    /// key confirmation has reached it, so the ticket comes in about one
    /// round trip after the handshake, and this stream sees it only when
    /// it reads from the transport: with the first reply read
    /// ([`recv_message`](Self::recv_message), `read`, the
    /// [`MessageStream`]), typically. Right after `connect` returns it is
    /// still `None`. `None` also when the server gave no ticket (resumption
    /// not enabled on it). Taking the ticket here also removes its event
    /// from [`poll_event`](Self::poll_event), and the other way round.
    pub fn take_resumption_ticket(&mut self) -> Option<ResumptionTicket> {
        self.notes_mut()?.take_resumption_ticket()
    }

    /// The next event of the connection the application has not seen
    /// (handshake complete, key updated, pong, peer closed, resumption
    /// ticket...), oldest first; the 32 most recent are kept. The
    /// handshake's own events (`ClientHello`, `HandshakeComplete`) are not
    /// repeated here: the acceptor answered the first, and the stream
    /// exists because of the second.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.notes_mut()?.pop_event()
    }

    /// The underlying transport.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// The underlying transport, mutably (for socket options only).
    pub fn get_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// The transport, dropping the connection (nothing is sent).
    pub fn into_inner(self) -> IO {
        self.io
    }

    /// A `Stream<Item = io::Result<Bytes>> + Sink<Bytes>` of whole messages.
    pub fn into_messages(self) -> MessageStream<IO> {
        MessageStream::new(self)
    }

    /// Splits into a read half and a write half usable from two tasks.
    pub fn into_split(self) -> (ReadHalf<Self>, WriteHalf<Self>) {
        ::tokio::io::split(self)
    }

    /// Sends one message, which the peer receives whole. Waits while too
    /// much output is queued, then queues the message and flushes it; if
    /// cancelled after queueing, the rest goes with the next write or flush.
    pub fn send_message<'a>(
        &'a mut self,
        message: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + 'a {
        // A closure rather than an `async fn`: the future is the three
        // references and a flag, not a state machine's saved locals.
        let mut queued = false;
        poll_fn(move |cx| {
            if !queued {
                ready!(self.poll_send_ready(cx))?;
                self.conn.send_message(message)?;
                queued = true;
            }
            self.poll_flush_all(cx)
        })
    }

    /// Receives the next whole message; `None` once the peer has closed
    /// gracefully. Cancel safe.
    pub fn recv_message(&mut self) -> impl Future<Output = io::Result<Option<Bytes>>> + '_ {
        poll_fn(|cx| self.poll_recv_message(cx))
    }

    /// Closes gracefully: sends close_notify, flushes and shuts the
    /// transport down for writing (the same as `AsyncWriteExt::shutdown`).
    pub fn close(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        poll_fn(|cx| self.poll_close(cx))
    }

    /// Drives the handshake until it completes or fails, or until the
    /// connection waits for a decision on a client (server), or, with
    /// `until_unconfirmed`, until the server waits for the client's key
    /// confirmation.
    pub(super) fn poll_handshake(
        &mut self,
        cx: &mut Context<'_>,
        until_unconfirmed: bool,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_write_pending(cx, READER))?;
            if !self.conn.is_handshaking() {
                return Poll::Ready(self.check_error(cx));
            }
            if self.conn.client_hello().is_some()
                || (until_unconfirmed && self.conn.is_awaiting_confirmation())
            {
                return Poll::Ready(Ok(()));
            }
            ready!(self.poll_fill(cx))?;
        }
    }

    pub(super) fn poll_recv_message(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Bytes>>> {
        loop {
            if let Some(message) = self.conn.recv_message() {
                self.recharge();
                return Poll::Ready(Ok(Some(message)));
            }
            if self.conn.is_peer_closed() || self.is_eof() {
                return Poll::Ready(Ok(None));
            }
            self.poll_timers(cx)?;
            ready!(self.poll_fill(cx))?;
        }
    }

    /// Reads the first bytes from the transport into the leftover, without
    /// feeding them to the core: ready once the peer has sent something (or
    /// the stream ended).
    pub(super) fn poll_first_input(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.leftover().is_empty() {
            return Poll::Ready(Ok(()));
        }
        let mut storage = [MaybeUninit::<u8>::uninit(); 2048];
        let mut buf = ReadBuf::uninit(&mut storage);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
        if buf.filled().is_empty() {
            return Poll::Ready(Err(ErrorKind::UnexpectedEof.into()));
        }
        let data = buf.filled();
        self.count_in(data.len());
        self.cold_mut().leftover.extend_from_slice(data);
        Poll::Ready(Ok(()))
    }

    /// Ready when little enough output is queued to accept another message.
    pub(super) fn poll_send_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.conn.pending_output().len() >= HIGH_WATER {
            ready!(self.poll_write_pending(cx, WRITER))?;
        }
        Poll::Ready(Ok(()))
    }

    pub(super) fn queue_message(&mut self, message: &[u8]) -> io::Result<()> {
        Ok(self.conn.send_message(message)?)
    }

    pub(super) fn poll_flush_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_pending(cx, WRITER))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    pub(super) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.conn.is_closed() && self.conn.error().is_none() {
            self.conn.close()?;
            #[cfg(feature = "tracing")]
            if self.conn.is_closed() {
                crate::adapter::observe::trace::closing(&self.span);
            }
        }
        ready!(self.poll_flush_all(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    /// The connection's error, after trying to send its alert.
    fn check_error(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        match self.conn.error().cloned() {
            Some(e) => Err(self.fatal(cx, e)),
            None => Ok(()),
        }
    }

    fn fatal(&mut self, cx: &mut Context<'_>, err: Error) -> io::Error {
        let _ = self.poll_write_pending(cx, READER);
        err.into()
    }

    /// Writes all pending output; `who` is remembered if the transport is full.
    fn poll_write_pending(&mut self, cx: &mut Context<'_>, who: usize) -> Poll<io::Result<()>> {
        while self.conn.wants_write() {
            match Pin::new(&mut self.io).poll_write(cx, self.conn.pending_output()) {
                Poll::Pending => {
                    if let Some(slot) = self.cold_mut().write_waiters.get_mut(who) {
                        *slot = Some(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    if let Some(charge) = &self.charge {
                        charge.counters().bytes_out(n);
                    }
                    self.conn.consume_output(n);
                    if let Some(cold) = &mut self.cold {
                        cold.write_waiters
                            .iter_mut()
                            .filter_map(Option::take)
                            .for_each(Waker::wake);
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Feeds input to the core: the leftover, else one read from the
    /// transport. Ready only after progress (input consumed, end of stream,
    /// or output written so the core takes input again): no busy loop.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check_error(cx)?;
        if self.charge.as_ref().is_some_and(Charge::over_budget) {
            // Shed load: this connection holds part of a spent budget.
            return Poll::Ready(Err(Error::LimitReached(crate::Limit::MemoryBudget).into()));
        }
        let was_established = self.conn.is_established();
        let consumed = if self.leftover().is_empty() {
            let mut storage = [MaybeUninit::<u8>::uninit(); READ_BUF_LEN];
            let mut buf = ReadBuf::uninit(&mut storage);
            let read = Pin::new(&mut self.io).poll_read(cx, &mut buf);
            #[cfg(feature = "tracing")]
            if let (Poll::Ready(Err(e)), true) = (&read, was_established) {
                crate::adapter::observe::trace::transport_failed(&self.span, e);
            }
            if read?.is_pending() {
                if !self.conn.wants_write() && self.conn.next_message_len().is_none() {
                    // Idle: keep only secrets while waiting (see the core's docs).
                    self.release_idle_memory();
                }
                return Poll::Pending;
            }
            let data = buf.filled();
            self.count_in(data.len());
            if data.is_empty() {
                if let Err(e) = self.conn.handle_eof() {
                    self.trace_failure(was_established, &e);
                    return Poll::Ready(Err(self.fatal(cx, e)));
                }
                self.cold_mut().eof = true;
                return Poll::Ready(Ok(()));
            }
            let n = match self.conn.handle_input(data, Time::now()) {
                Ok(n) => n,
                Err(e) => {
                    self.trace_failure(was_established, &e);
                    return Poll::Ready(Err(self.fatal(cx, e)));
                }
            };
            if let Some(rest) = data.get(n..).filter(|rest| !rest.is_empty()) {
                // The buffer is on this poll's stack: keep what is left.
                self.cold
                    .get_or_insert_with(Box::default)
                    .leftover
                    .extend_from_slice(rest);
            }
            n.max(1) // bytes were read: progress even if all were kept
        } else {
            let cold = self.cold.get_or_insert_with(Box::default);
            match self.conn.handle_input(&cold.leftover, Time::now()) {
                Ok(n) => {
                    cold.leftover.drain(..n.min(cold.leftover.len()));
                    if cold.leftover.is_empty() {
                        cold.leftover = Vec::new();
                    }
                    n
                }
                Err(e) => {
                    self.trace_failure(was_established, &e);
                    return Poll::Ready(Err(self.fatal(cx, e)));
                }
            }
        };
        self.drain_events();
        self.recharge();
        if consumed == 0 {
            // The core takes no input until its output drains. (Undelivered
            // messages also block it, but callers take those first.)
            if !self.conn.wants_write() {
                return Poll::Ready(Err(io::Error::other("lwsec: the connection refused input")));
            }
            ready!(self.poll_write_pending(cx, READER))?;
            return Poll::Ready(Ok(()));
        }
        // Send replies (pong, key update) now if the transport takes them.
        if let Poll::Ready(Err(e)) = self.poll_write_pending(cx, READER) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(()))
    }

    /// Runs due timers and arms the sleep for the next one (read side only:
    /// an idle connection is one whose reader waits). The sleep is reset
    /// only when the next timer moves earlier; one that fires early (the
    /// idle deadline moved later) is simply re-armed.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        for _ in 0..4 {
            let Some(due) = self.conn.poll_timeout() else {
                self.timer = None;
                return Ok(());
            };
            let now = Time::now();
            if due <= now {
                let was_established = self.conn.is_established();
                if let Err(e) = self.conn.handle_timeout(now) {
                    self.trace_failure(was_established, &e);
                    return Err(self.fatal(cx, e));
                }
                let _ = self.poll_write_pending(cx, READER)?;
                continue;
            }
            let wait = Duration::from_millis(due.as_millis().saturating_sub(now.as_millis()));
            let deadline = Instant::now()
                .checked_add(wait)
                .unwrap_or_else(Instant::now);
            match &mut self.timer {
                // Armed no later than needed (give or take the millisecond
                // the core's clock is counted in): leave it.
                Some(sleep)
                    if !sleep.is_elapsed()
                        && sleep.deadline()
                            <= deadline.checked_add(CLOCK_SLACK).unwrap_or(deadline) => {}
                Some(sleep) => sleep.as_mut().reset(deadline),
                None => self.timer = Some(Box::pin(::tokio::time::sleep_until(deadline))),
            }
            if let Some(sleep) = &mut self.timer {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            let n = this.conn.read(buf.initialize_unfilled());
            if n > 0 {
                buf.advance(n);
                this.recharge();
                return Poll::Ready(Ok(()));
            }
            if this.conn.is_peer_closed() || this.is_eof() {
                return Poll::Ready(Ok(()));
            }
            this.poll_timers(cx)?;
            ready!(this.poll_fill(cx))?;
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(this.poll_send_ready(cx))?;
        let n = send_prefix(&mut this.conn, buf)?;
        // Start sending now; what the transport does not take waits for the
        // next write or flush (errors show up there too).
        let _ = this.poll_write_pending(cx, WRITER);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_all(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_close(cx)
    }
}

impl<IO> std::fmt::Debug for Stream<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("conn", &self.conn)
            .field(
                "leftover",
                &self.cold.as_ref().map_or(0, |c| c.leftover.len()),
            )
            .field("eof", &self.cold.as_ref().is_some_and(|c| c.eof))
            .finish_non_exhaustive()
    }
}

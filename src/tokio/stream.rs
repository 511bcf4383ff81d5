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
use crate::{Connection, Error, Event, PublicKey, Time};

/// Queued output above this makes writers wait for the transport first, so a
/// peer that does not read cannot make us buffer without bound.
const HIGH_WATER: usize = 64 * 1024;

/// Who waits for the transport to accept output (indexes `write_waiters`).
const READER: usize = 0;
const WRITER: usize = 1;

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
pub struct Stream<IO> {
    conn: Connection,
    io: IO,
    /// Input the core could not take yet (normally empty).
    leftover: Vec<u8>,
    /// The transport ended after the peer's close_notify.
    eof: bool,
    notes: EventNotes,
    /// Armed at the core's `poll_timeout` (keep-alive, idle timeout).
    timer: Option<Pin<Box<Sleep>>>,
    /// The core time the timer is armed for.
    timer_due: Option<Time>,
    /// Tasks whose write found the transport full. With a split stream the
    /// reader (sending a pong) and the writer may both wait; the transport
    /// remembers only the last one, so whoever makes progress wakes both.
    write_waiters: [Option<Waker>; 2],
    /// An acceptor's connection slot and memory-budget charge.
    charge: Option<Charge>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Stream<IO> {
    pub(super) fn new(conn: Connection, io: IO) -> Self {
        Self {
            conn,
            io,
            leftover: Vec::new(),
            eof: false,
            notes: EventNotes::default(),
            timer: None,
            timer_due: None,
            write_waiters: [None, None],
            charge: None,
        }
    }

    /// Charges the stream's buffered input against an acceptor's budget.
    pub(super) fn set_charge(&mut self, charge: Charge) {
        self.charge = Some(charge);
        self.recharge();
    }

    /// Updates the charge to what the stream holds now.
    fn recharge(&mut self) {
        if let Some(charge) = &mut self.charge {
            charge.set(
                self.conn
                    .buffered_len()
                    .saturating_add(self.leftover.capacity()),
            );
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
        self.notes.drain(&mut self.conn);
        self.notes.early_data.take()
    }

    /// Client: whether the server accepted the early data sent with
    /// [`Connection::client_with_replayable_early_data`] (`None` when none
    /// was sent).
    pub fn early_data_accepted(&self) -> Option<bool> {
        self.notes.early_data_accepted
    }

    /// Client: the server keys the server announced in its handshake, once
    /// (see [`Event::ServerKeysAnnounced`](crate::Event::ServerKeysAnnounced)).
    pub fn take_announced_server_keys(&mut self) -> Option<Vec<PublicKey>> {
        self.notes.drain(&mut self.conn);
        self.notes.announced_keys.take()
    }

    /// The next event of the connection the application has not seen
    /// (handshake complete, key updated, pong, peer closed...), oldest
    /// first; the 32 most recent are kept.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.notes.drain(&mut self.conn);
        self.notes.events.pop_front()
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
    pub async fn send_message(&mut self, message: &[u8]) -> io::Result<()> {
        poll_fn(|cx| self.poll_send_ready(cx)).await?;
        self.conn.send_message(message)?;
        poll_fn(|cx| self.poll_flush_all(cx)).await
    }

    /// Receives the next whole message; `None` once the peer has closed
    /// gracefully. Cancel safe.
    pub async fn recv_message(&mut self) -> io::Result<Option<Bytes>> {
        poll_fn(|cx| self.poll_recv_message(cx)).await
    }

    /// Closes gracefully: sends close_notify, flushes and shuts the
    /// transport down for writing (the same as `AsyncWriteExt::shutdown`).
    pub async fn close(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_close(cx)).await
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
            if self.conn.is_peer_closed() || self.eof {
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
        if !self.leftover.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let mut storage = [MaybeUninit::<u8>::uninit(); 2048];
        let mut buf = ReadBuf::uninit(&mut storage);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
        if buf.filled().is_empty() {
            return Poll::Ready(Err(ErrorKind::UnexpectedEof.into()));
        }
        self.leftover.extend_from_slice(buf.filled());
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
                    if let Some(slot) = self.write_waiters.get_mut(who) {
                        *slot = Some(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.conn.consume_output(n);
                    self.write_waiters
                        .iter_mut()
                        .filter_map(Option::take)
                        .for_each(Waker::wake);
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
        let consumed = if self.leftover.is_empty() {
            let mut storage = [MaybeUninit::<u8>::uninit(); READ_BUF_LEN];
            let mut buf = ReadBuf::uninit(&mut storage);
            if Pin::new(&mut self.io).poll_read(cx, &mut buf)?.is_pending() {
                if !self.conn.wants_write() && self.conn.next_message_len().is_none() {
                    // Idle: keep only secrets while waiting (see the core's docs).
                    self.conn.release_idle_memory();
                    self.recharge();
                }
                return Poll::Pending;
            }
            let data = buf.filled();
            if data.is_empty() {
                if let Err(e) = self.conn.handle_eof() {
                    return Poll::Ready(Err(self.fatal(cx, e)));
                }
                self.eof = true;
                return Poll::Ready(Ok(()));
            }
            let n = match self.conn.handle_input(data, Time::now()) {
                Ok(n) => n,
                Err(e) => return Poll::Ready(Err(self.fatal(cx, e))),
            };
            self.leftover
                .extend_from_slice(data.get(n..).unwrap_or_default());
            n.max(1) // bytes were read: progress even if all were kept
        } else {
            match self.conn.handle_input(&self.leftover, Time::now()) {
                Ok(n) => {
                    self.leftover.drain(..n.min(self.leftover.len()));
                    if self.leftover.is_empty() {
                        self.leftover = Vec::new();
                    }
                    n
                }
                Err(e) => return Poll::Ready(Err(self.fatal(cx, e))),
            }
        };
        self.notes.drain(&mut self.conn);
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
                (self.timer, self.timer_due) = (None, None);
                return Ok(());
            };
            let now = Time::now();
            if due <= now {
                if let Err(e) = self.conn.handle_timeout(now) {
                    return Err(self.fatal(cx, e));
                }
                let _ = self.poll_write_pending(cx, READER)?;
                continue;
            }
            if self.timer_due.is_none_or(|armed| armed > due) {
                let wait = Duration::from_millis(due.as_millis().saturating_sub(now.as_millis()));
                let deadline = Instant::now()
                    .checked_add(wait)
                    .unwrap_or_else(Instant::now);
                match &mut self.timer {
                    Some(sleep) => sleep.as_mut().reset(deadline),
                    None => self.timer = Some(Box::pin(::tokio::time::sleep_until(deadline))),
                }
                self.timer_due = Some(due);
            }
            if let Some(sleep) = &mut self.timer {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Ok(());
                }
            }
            self.timer_due = None;
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
            if this.conn.is_peer_closed() || this.eof {
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
            .field("leftover", &self.leftover.len())
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

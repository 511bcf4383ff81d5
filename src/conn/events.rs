//! What a connection tells its application: [`Event`]s, queued in order.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::crypto::dh::PublicKey;
use crate::ticket::ResumptionTicket;

/// Most `KeyUpdated` and `Pong` events kept waiting for the application;
/// further ones are dropped, so a peer cannot grow the queue without bound.
const MAX_QUEUED_EVENTS: usize = 32;

/// Something that happened on a connection, returned by [`Connection::poll_event`](crate::Connection::poll_event).
///
/// `KeyUpdated` and `Pong` are informational: while 32 events are waiting,
/// further ones are dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Server: a client's first flight was read and the connection waits
    /// for the application's decision. Look at
    /// [`Connection::client_hello`](crate::Connection::client_hello), then call
    /// [`Connection::accept_client`](crate::Connection::accept_client) or [`Connection::reject_client`](crate::Connection::reject_client).
    ClientHello,
    /// The handshake finished and both sides are authenticated as the
    /// pattern promises: on a client, once the ServerHello is read; on a
    /// server, once the client's key confirmation arrived (a replayed first
    /// flight never gets here).
    HandshakeComplete,
    /// The peer switched to new sending keys (a key update was received).
    KeyUpdated,
    /// The answer to a [`Connection::ping`](crate::Connection::ping), with the ping's payload.
    Pong(Bytes),
    /// The peer closed gracefully: it will send nothing more. Messages
    /// received before the close are still returned by `recv_message`.
    PeerClosed,
    /// Server: the client's first flight carried this early data and the
    /// replay guard accepted it (reported when the client is accepted,
    /// before its key confirmation, so a reply can go out at once).
    /// **Replayable and not forward secret**: treat it as a request that may
    /// arrive twice (across servers without a shared guard), from a client
    /// not yet confirmed, readable by anyone holding the server's static key.
    EarlyData(Bytes),
    /// Client: the server accepted the early data of the first flight.
    EarlyDataAccepted,
    /// Client: the server announced, inside the authenticated handshake, the
    /// server keys to pin from now on, in order (`spec/PROTOCOL.md` section
    /// 4.4, `server_keys`). If the key this connection used is not among
    /// them, it is being retired. Store them (atomically) and connect with
    /// the first next time; see [`ClientConfig::set_pinned_keys`](crate::ClientConfig::set_pinned_keys).
    ServerKeysAnnounced(Vec<PublicKey>),
    /// Client: the early data was not accepted (the server has no replay
    /// guard, the flight was outside its time window or looked like a
    /// replay), or was not sent at all because the server answered with a
    /// Retry. Send it again as a normal message if it is still needed.
    EarlyDataRejected,
    /// Client: the server sent a resumption ticket (after this connection's
    /// handshake was confirmed). Keep it, as a secret, and pass it to
    /// [`Connection::resume`](crate::Connection::resume) next time: the
    /// server then skips its static-key work. Each ticket is for one use.
    ResumptionTicket(ResumptionTicket),
}

/// The queue of events waiting for the application.
#[derive(Default)]
pub(super) struct Events(VecDeque<Event>);

impl Events {
    /// Queues an event the application must see.
    pub(super) fn push(&mut self, event: Event) {
        self.0.push_back(event);
    }

    /// Queues an informational event unless too many are waiting.
    pub(super) fn push_info(&mut self, event: Event) {
        if self.0.len() < MAX_QUEUED_EVENTS {
            self.0.push_back(event);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn pop(&mut self) -> Option<Event> {
        self.0.pop_front()
    }

    /// Frees the queue's memory if it is empty.
    pub(super) fn release(&mut self) {
        if self.0.is_empty() {
            self.0 = VecDeque::new();
        }
    }
}

//! What the blocking and tokio adapters share: the events they keep for the
//! application, how a write becomes messages, the read buffer size, and
//! their observability (metrics, and spans and events with the `tracing`
//! feature: [`observe`]).

use std::collections::VecDeque;

pub(crate) mod observe;

use bytes::Bytes;

use crate::{Connection, Error, Event, PublicKey, ResumptionTicket};

/// Bytes read from the transport per call: one full record.
pub(crate) const READ_BUF_LEN: usize = crate::wire::limits::MAX_RECORD_LEN;

/// Most events kept for the application; older ones are dropped (the core
/// bounds informational events the same way).
const MAX_KEPT_EVENTS: usize = 32;

/// Queues as much of `buf` as one message holds (`max_message_size`, learnt
/// from the core's refusal) and returns how many bytes that was.
pub(crate) fn send_prefix(conn: &mut Connection, buf: &[u8]) -> Result<usize, Error> {
    match conn.send_message(buf) {
        Ok(()) => Ok(buf.len()),
        Err(Error::MessageTooLargeToSend { limit }) if limit > 0 && limit < buf.len() => {
            conn.send_message(buf.get(..limit).unwrap_or_default())?;
            Ok(limit)
        }
        Err(e) => Err(e),
    }
}

/// The core's events, drained by the adapters as they drive the
/// connection: early data, announced keys and the resumption ticket are
/// kept where the stream's accessors find them, and every event is passed
/// on (bounded) through the stream's `poll_event`, so a `ping()` made
/// through `conn_mut()` shows its pong. The ticket, a secret, is handed out
/// once: taking it through either way forgets the other copy.
#[derive(Debug, Default)]
pub(crate) struct EventNotes {
    pub(crate) early_data: Option<Bytes>,
    pub(crate) early_data_accepted: Option<bool>,
    pub(crate) announced_keys: Option<Vec<PublicKey>>,
    pub(crate) resumption_ticket: Option<ResumptionTicket>,
    pub(crate) events: VecDeque<Event>,
}

impl EventNotes {
    /// Keeps one event taken from the connection.
    pub(crate) fn note(&mut self, event: Event) {
        match &event {
            Event::EarlyData(data) => self.early_data = Some(data.clone()),
            Event::EarlyDataAccepted => self.early_data_accepted = Some(true),
            Event::EarlyDataRejected => self.early_data_accepted = Some(false),
            Event::ServerKeysAnnounced(keys) => self.announced_keys = Some(keys.clone()),
            Event::ResumptionTicket(ticket) => self.resumption_ticket = Some(ticket.clone()),
            _ => {}
        }
        if self.events.len() >= MAX_KEPT_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// The next event for the application (the stream's `poll_event`).
    pub(crate) fn pop_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        if matches!(event, Event::ResumptionTicket(_)) {
            self.resumption_ticket = None;
        }
        Some(event)
    }

    /// The resumption ticket, once (the stream's `take_resumption_ticket`):
    /// its event is dropped from the queue too.
    pub(crate) fn take_resumption_ticket(&mut self) -> Option<ResumptionTicket> {
        let ticket = self.resumption_ticket.take()?;
        self.events
            .retain(|e| !matches!(e, Event::ResumptionTicket(_)));
        Some(ticket)
    }

    /// Whether nothing is kept (the tokio stream then frees its box).
    #[cfg(feature = "tokio")]
    pub(crate) fn is_empty(&self) -> bool {
        self.early_data.is_none()
            && self.early_data_accepted.is_none()
            && self.announced_keys.is_none()
            && self.resumption_ticket.is_none()
            && self.events.is_empty()
    }
}

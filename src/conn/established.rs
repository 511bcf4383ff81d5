//! The established state: record keys, the session's flags and timers, and
//! what each received record means (`spec/PROTOCOL.md` sections 4.10, 6-9).

use bytes::Bytes;

use super::decision::Identity;
use super::deframer::Frame;
use super::events::{Event, Events};
use super::inbox::Inbox;
use super::timers::{Due, Timers};
use super::transport::{Transport, UPDATE_NOT_REQUESTED, UPDATE_REQUESTED};
use crate::error::{AlertCode, Error};
use crate::error::{DecodeReason, UnexpectedReason};
use crate::record::{ContentType, Output};
use crate::ticket::{self, MAX_TICKET_LIFETIME, ResumptionTicket, TicketContents};
use crate::time::Time;
use std::time::Duration;

/// Largest ping payload.
pub const MAX_PING_LEN: usize = 64;

/// Why processing stopped, and whether an alert goes to the peer (never in
/// answer to the peer's own alert).
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) error: Error,
    pub(super) send_alert: bool,
}

impl Failure {
    /// A failure the peer is told about.
    pub(super) fn alert(error: Error) -> Self {
        Self {
            error,
            send_alert: true,
        }
    }

    /// A failure nothing is sent for.
    pub(super) fn silent(error: Error) -> Self {
        Self {
            error,
            send_alert: false,
        }
    }
}

/// A connection with keys: the handshake messages are done. A server's
/// client is `confirmed` once its key confirmation arrived.
pub(super) struct Established {
    pub(super) keys: Transport,
    pub(super) confirmed: bool,
    /// The application's identity for the peer, from the server's decision.
    pub(super) identity: Option<Identity>,
    pub(super) peer_closed: bool,
    pub(super) local_closed: bool,
    timers: Timers,
}

impl Established {
    pub(super) fn new(
        keys: Transport,
        confirmed: bool,
        identity: Option<Identity>,
        now: Time,
    ) -> Self {
        let timers = Timers::start(keys.config(), now);
        Self {
            keys,
            confirmed,
            identity,
            peer_closed: false,
            local_closed: false,
            timers,
        }
    }

    /// Handles one record. Messages go to `inbox`, answers (pong, key
    /// update) to `tx`, what the application should know to `events`.
    #[inline]
    pub(super) fn receive(
        &mut self,
        frame: Frame,
        inbox: &mut Inbox,
        tx: &mut Output,
        events: &mut Events,
        now: Time,
    ) -> Result<(), Failure> {
        let Frame {
            header_bytes: header,
            body: mut record,
            pinned,
            ..
        } = frame;
        self.timers.received(now);
        if self.peer_closed {
            return Err(Failure::alert(Error::UnexpectedMessage(
                UnexpectedReason::RecordAfterCloseNotify,
            )));
        }
        let (content_type, len) = self
            .keys
            .open(&header, &mut record)
            .map_err(Failure::alert)?;
        record.truncate(len);
        if !self.confirmed {
            return self.confirm(content_type, &record, tx, events, now);
        }
        match content_type {
            ContentType::MessageContinues | ContentType::MessageEnd => {
                if content_type == ContentType::MessageContinues && record.is_empty() {
                    return Err(Failure::alert(Error::Decode(DecodeReason::EmptyFragment)));
                }
                let limit = self.keys.config().max_message_size;
                if inbox.partial_len().saturating_add(record.len()) > limit {
                    return Err(Failure::alert(Error::MessageTooLarge { limit }));
                }
                if content_type == ContentType::MessageContinues {
                    self.timers.fragment_received();
                    inbox.push_fragment(&record);
                } else {
                    self.timers.message_completed();
                    inbox.push_last(record, pinned);
                }
                Ok(())
            }
            _ => self.control(content_type, &record, inbox, tx, events, now),
        }
    }

    /// A server's first record from the client: its key confirmation.
    fn confirm(
        &mut self,
        content_type: ContentType,
        payload: &[u8],
        tx: &mut Output,
        events: &mut Events,
        now: Time,
    ) -> Result<(), Failure> {
        if content_type != ContentType::Confirm {
            return Err(Failure::alert(Error::UnexpectedMessage(
                UnexpectedReason::RecordBeforeConfirmation,
            )));
        }
        if !payload.is_empty() {
            return Err(Failure::alert(Error::Decode(
                DecodeReason::ConfirmWithPayload,
            )));
        }
        self.confirmed = true;
        self.timers = Timers::start(self.keys.config(), now);
        events.push(Event::HandshakeComplete);
        self.send_ticket(tx, now).map_err(Failure::alert)
    }

    /// Server, once the client confirmed: seals a ticket for the session
    /// under the current ticket key and sends it (section 4.11). Nothing is
    /// sent without ticket keys.
    fn send_ticket(&mut self, tx: &mut Output, now: Time) -> Result<(), Error> {
        let Some(authenticated_at) = self.keys.ticket_due.take() else {
            return Ok(());
        };
        let Some(config) = self.keys.server_config() else {
            return Ok(());
        };
        let Some(keyring) = config.ticket_keyring() else {
            return Ok(());
        };
        let contents = TicketContents {
            issued_at: now,
            lifetime: config.ticket_lifetime,
            authenticated_at,
            pattern: self.keys.pattern,
            psk: self.keys.resumption_secret()?,
            device: self.keys.peer_static,
            identity: self.identity.as_ref().map(Identity::shared_bytes),
        };
        let lifetime = u32::try_from(config.ticket_lifetime.as_secs())
            .map_err(|_| Error::Internal("ticket lifetime"))?;
        let mut payload = Vec::with_capacity(4 + ticket::MAX_SEALED_LEN);
        payload.extend_from_slice(&lifetime.to_be_bytes());
        ticket::seal(
            &keyring.keys(),
            config.rng.as_ref(),
            &contents,
            &mut payload,
        )?;
        self.keys.seal(tx, ContentType::Ticket, &payload)?;
        self.timers.sent();
        Ok(())
    }

    /// Client: a ticket record (at most one), reported with the
    /// connection's resumption secret.
    fn receive_ticket(
        &mut self,
        payload: &[u8],
        events: &mut Events,
        now: Time,
    ) -> Result<(), Failure> {
        if self.keys.side == super::Side::Server {
            return Err(Failure::alert(Error::UnexpectedMessage(
                UnexpectedReason::TicketToServer,
            )));
        }
        // At most one ticket per connection, whatever a second one holds
        // (spec 4.11: checked before its payload).
        if self.keys.ticket_received {
            return Err(Failure::alert(Error::UnexpectedMessage(
                UnexpectedReason::SecondTicket,
            )));
        }
        let bad = || Failure::alert(Error::Decode(DecodeReason::TicketRecord));
        let (lifetime, ticket) = payload.split_first_chunk::<4>().ok_or_else(bad)?;
        let lifetime = Duration::from_secs(u64::from(u32::from_be_bytes(*lifetime)));
        if lifetime.is_zero() || lifetime > MAX_TICKET_LIFETIME {
            return Err(bad());
        }
        crate::wire::hello::check_ticket_len(ticket.len()).map_err(Failure::alert)?;
        self.keys.ticket_received = true;
        events.push(Event::ResumptionTicket(ResumptionTicket {
            ticket: Bytes::copy_from_slice(ticket),
            psk: self.keys.resumption_secret().map_err(Failure::alert)?,
            expires: now.saturating_add(lifetime),
            pattern: self.keys.pattern,
        }));
        Ok(())
    }

    /// A control record (key update, ping, pong, alert, confirm).
    fn control(
        &mut self,
        content_type: ContentType,
        payload: &[u8],
        inbox: &Inbox,
        tx: &mut Output,
        events: &mut Events,
        now: Time,
    ) -> Result<(), Failure> {
        match content_type {
            ContentType::MessageContinues | ContentType::MessageEnd => Err(Failure::alert(
                Error::Internal("a message record reached control handling"),
            )),
            ContentType::Confirm => Err(Failure::alert(Error::UnexpectedMessage(
                UnexpectedReason::ConfirmAfterHandshake,
            ))),
            ContentType::Ticket => self.receive_ticket(payload, events, now),
            ContentType::KeyUpdate => {
                let request = match payload {
                    [UPDATE_NOT_REQUESTED] => false,
                    [UPDATE_REQUESTED] => true,
                    _ => {
                        return Err(Failure::alert(Error::Decode(
                            DecodeReason::KeyUpdatePayload,
                        )));
                    }
                };
                self.keys.peer_updated_keys().map_err(Failure::alert)?;
                // Coalesced (section 8): keys that have protected nothing
                // yet are as fresh as an update would make them, so a run
                // of requests is answered once.
                if request && !self.local_closed && self.keys.sent_under_current_keys() {
                    self.keys.update_keys(tx, false).map_err(Failure::alert)?;
                    self.timers.sent();
                }
                events.push_info(Event::KeyUpdated);
                Ok(())
            }
            ContentType::Ping => {
                if payload.len() > MAX_PING_LEN {
                    return Err(Failure::alert(Error::Decode(DecodeReason::PingTooLong)));
                }
                if !self.local_closed {
                    self.keys
                        .seal(tx, ContentType::Pong, payload)
                        .map_err(Failure::alert)?;
                    self.timers.sent();
                }
                Ok(())
            }
            ContentType::Pong => {
                if payload.len() > MAX_PING_LEN {
                    return Err(Failure::alert(Error::Decode(DecodeReason::PongTooLong)));
                }
                if !(payload.is_empty() && self.timers.keepalive_pong()) {
                    // A copy, so as not to keep the receive buffer alive.
                    events.push_info(Event::Pong(Bytes::copy_from_slice(payload)));
                }
                Ok(())
            }
            ContentType::Alert => {
                let code = match payload {
                    [code] => AlertCode::from_u8(*code),
                    _ => return Err(Failure::alert(Error::Decode(DecodeReason::AlertPayload))),
                };
                if code != AlertCode::CloseNotify {
                    return Err(Failure::silent(Error::from_alert(code, true)));
                }
                // A close inside a message would cut it silently (spec 7,
                // 9.2): that is not a clean end.
                if inbox.partial_len() > 0 {
                    return Err(Failure::alert(Error::UnexpectedMessage(
                        UnexpectedReason::CloseNotifyInsideMessage,
                    )));
                }
                self.peer_closed = true;
                events.push(Event::PeerClosed);
                Ok(())
            }
        }
    }

    /// Runs a sealing step unless this side has closed.
    #[inline]
    pub(super) fn seal_with(
        &mut self,
        tx: &mut Output,
        step: impl FnOnce(&mut Transport, &mut Output) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if self.local_closed {
            return Err(Error::Closed);
        }
        step(&mut self.keys, tx)?;
        self.timers.sent();
        Ok(())
    }

    /// Queues close_notify; nothing can be sent after it.
    pub(super) fn close(&mut self, tx: &mut Output) -> Result<(), Error> {
        self.seal_with(tx, |keys, tx| {
            keys.seal(tx, ContentType::Alert, &[AlertCode::CloseNotify.to_u8()])
        })?;
        self.local_closed = true;
        Ok(())
    }

    /// Queues `code` as a protected alert, unless this side has closed.
    pub(super) fn send_alert(&mut self, tx: &mut Output, code: AlertCode) {
        if !self.local_closed {
            let _ = self.keys.seal(tx, ContentType::Alert, &[code.to_u8()]);
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should run next (the
    /// client's timers only start once it confirmed).
    pub(super) fn poll_timeout(&self) -> Option<Time> {
        self.confirmed
            .then(|| self.timers.next_due(self.keys.config()))
            .flatten()
    }

    /// Runs the timers due at `now`.
    pub(super) fn handle_timeout(&mut self, now: Time, tx: &mut Output) -> Result<(), Error> {
        if !self.confirmed {
            return Ok(());
        }
        match self.timers.due(self.keys.config(), now) {
            Due::Nothing => Ok(()),
            Due::IdleTimeout => Err(Error::Timeout),
            Due::PartialMessageTimeout => Err(Error::PartialMessageTimeout),
            // The keep-alive ping does not count as "something sent".
            Due::Ping if self.local_closed => Ok(()),
            Due::Ping => {
                self.keys.seal(tx, ContentType::Ping, &[])?;
                self.timers.keepalive_sent();
                Ok(())
            }
        }
    }
}

//! Server handshake states: waiting for a ClientHello, then waiting for the
//! caller's decision on it.

use std::sync::Arc;

use bytes::Bytes;

use super::Side;
use super::decision::{
    Acceptance, ClientHello, EarlyDataOffer, EarlyDataRefusal, Identity, Resumption,
};
use super::transport::{Negotiated, Transport};
use crate::config::{ServerConfig, ServerOptions};
use crate::cookie;
use crate::error::Error;
use crate::error::{CookieReason, DecodeReason, IllegalReason, UnexpectedReason};
use crate::noise::{HandshakeState, Initialize, LocalKey, NoisePattern};
use crate::record::Output;
use crate::suite::{Pattern, Suite};
use crate::ticket::{self, TicketContents, TicketRefusal};
use crate::time::Time;
use crate::wire::Reader;
use crate::wire::extensions::{self, Message};
use crate::wire::frame::{FrameHeader, FrameType, HEADER_LEN, write_frame};
use crate::wire::hello::{ClientHelloHeader, FLAG_EARLY_DATA, PROLOGUE_LABEL, Retry};

/// Room for a ticket record with a long identity: frame header, lifetime,
/// ticket, content type and tag.
const TICKET_RECORD_ROOM: usize = 3 + 4 + ticket::MAX_SEALED_LEN + 1 + 16;

/// The server waits for a ClientHello. It keeps no per-client state until
/// one is read: a Retry is answered statelessly.
pub(crate) struct ExpectClientHello {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) options: ServerOptions,
}

/// Message 1 was read; the server waits for the caller to accept or reject
/// the client (`spec/PROTOCOL.md` section 4.3, step 8).
pub(crate) struct AwaitDecision {
    config: Arc<ServerConfig>,
    pattern: Pattern,
    suite: Suite,
    noise: HandshakeState,
    pub(crate) hello: ClientHello,
    /// Whether the flight resumed with a ticket.
    resumed: bool,
    /// The early data, kept only while the connection's own checks allow it.
    early_data: Option<Bytes>,
}

/// Where a server goes after a ClientHello.
pub(crate) enum ServerNext {
    /// A Retry was queued; wait for the retried ClientHello.
    Again(ExpectClientHello),
    /// Message 1 was read: ask the caller.
    Decide(Box<AwaitDecision>),
}

impl ExpectClientHello {
    /// The suite the server selects: the client's most preferred one that the
    /// server accepts.
    fn select_suite(&self, offered: &[u8]) -> Option<Suite> {
        offered
            .iter()
            .filter_map(|code| Suite::from_u8(*code))
            .find(|s| self.config.suites.contains(s))
    }

    /// Steps 5 and 6 of `spec/PROTOCOL.md` section 4.3: everything decided
    /// before any Diffie-Hellman work. Returns the Retry to send, if any.
    fn precheck(
        &self,
        header: &ClientHelloHeader<'_>,
        selected: Suite,
        now: Time,
    ) -> Result<Option<Retry>, Error> {
        let mut cookie_ok = false;
        if let Some(retry) = &header.retry {
            if retry.suite != header.suite {
                return Err(Error::IllegalParameter(
                    IllegalReason::RetryEchoSuiteMismatch,
                ));
            }
            if !retry.cookie.is_empty() {
                cookie::verify(
                    self.config.provider.hash,
                    self.config.cookie_secret()?,
                    &retry.cookie,
                    &self.options.peer_address,
                    now,
                    self.config.cookie_lifetime,
                )?;
                cookie_ok = true;
            }
        }
        let need_cookie = self.options.demand_cookie && !cookie_ok;
        if selected.to_u8() == header.suite && !need_cookie {
            return Ok(None);
        }
        if header.retry.is_some() {
            return Err(if need_cookie {
                Error::InvalidCookie(CookieReason::Required)
            } else {
                Error::IllegalParameter(IllegalReason::RetriedSuiteNotSelected)
            });
        }
        let cookie = if self.options.demand_cookie {
            cookie::make(
                self.config.provider.hash,
                self.config.cookie_secret()?,
                now,
                &self.options.peer_address,
            )?
        } else {
            Vec::new()
        };
        Ok(Some(Retry {
            suite: selected.to_u8(),
            cookie,
        }))
    }

    /// Step 4a of section 4.3 for a resumption: opens the ticket. `Err`
    /// means a full handshake is needed (ResumeRefused).
    fn open_ticket(&self, ticket: &[u8], now: Time) -> Result<TicketContents, TicketRefusal> {
        let keys = self
            .config
            .ticket_keyring()
            .ok_or(TicketRefusal::NotEnabled)?
            .keys();
        let contents = ticket::open(&keys, ticket, now, self.config.resumption_max_age)?;
        if !self.config.patterns.contains(&contents.pattern) {
            return Err(TicketRefusal::NotEnabled);
        }
        Ok(contents)
    }

    /// Handles a ClientHello: a stateless Retry, or message 1 read and the
    /// decision handed to the caller. No ephemeral key is generated here: a
    /// flight that fails to decrypt costs one Diffie-Hellman. Message 1 is
    /// decrypted in place, in `body` (the frame in the receive buffer).
    pub(crate) fn handle(
        self,
        frame_type: FrameType,
        body: &mut [u8],
        out: &mut Output,
        now: Time,
    ) -> Result<ServerNext, Error> {
        if frame_type != FrameType::ClientHello {
            return Err(Error::UnexpectedMessage(
                UnexpectedReason::ExpectedClientHello,
            ));
        }
        let (header, header_len) = {
            let mut r = Reader::new(body);
            let (header, header_bytes) = ClientHelloHeader::decode(&mut r, body)?;
            (header, header_bytes.len())
        };
        if header.ticket.is_none() {
            let pattern = header.pattern()?;
            if !self.config.patterns.contains(&pattern) {
                return Err(Error::UnsupportedPattern);
            }
        }
        let key = self
            .config
            .key_for_id(&header.key_id)
            .ok_or(Error::UnknownServerKey)?;
        let selected = self
            .select_suite(&header.suites)
            .ok_or(Error::NoCommonSuite)?;
        let resumed = match header.ticket {
            None => None,
            Some(ticket) => match self.open_ticket(ticket, now) {
                Ok(contents) => Some(contents),
                Err(_refusal) => {
                    out.put(&[FrameType::ResumeRefused.to_u8(), 0, 0]);
                    return Ok(ServerNext::Again(self));
                }
            },
        };
        if let Some(retry) = self.precheck(&header, selected, now)? {
            let mut retry_body = Vec::with_capacity(retry.cookie.len().saturating_add(2));
            retry.encode(&mut retry_body)?;
            let mut frame = Vec::with_capacity(retry_body.len().saturating_add(3));
            write_frame(&mut frame, FrameType::Retry, &retry_body)?;
            out.put(&frame);
            return Ok(ServerNext::Again(self));
        }
        // What the rest needs of the header, which borrows the body.
        let flagged = header.flags & FLAG_EARLY_DATA != 0;
        let retry_echoed = header.retry.is_some();
        let key_id = header.key_id;
        let full_pattern = match &resumed {
            None => Some(header.pattern()?),
            Some(_) => None,
        };
        let (header_bytes, message) = body
            .split_at_mut_checked(header_len)
            .ok_or(Error::Decode(DecodeReason::HeaderBounds))?;
        let (noise_pattern, s, psk) = match &resumed {
            None => (
                full_pattern.ok_or(Error::Internal("no pattern"))?.into(),
                Some(key.clone()),
                None,
            ),
            Some(contents) => (NoisePattern::NNpsk0, None, Some(contents.psk.clone())),
        };
        let mut noise = HandshakeState::initialize(Initialize {
            provider: self.config.provider,
            pattern: noise_pattern,
            suite: selected,
            initiator: false,
            prologue: &[PROLOGUE_LABEL, header_bytes],
            s,
            e: None,
            rs: None,
            psk,
        })?;
        let payload = noise.read_message(message)?;
        let exts = extensions::parse(payload, Message::ClientHello)?;
        let early = match (flagged, exts.early_data, exts.timestamp) {
            (true, Some(data), Some(ts)) => Some((data, Time::from_millis(ts))),
            (false, None, _) => None,
            _ => {
                return Err(Error::IllegalParameter(IllegalReason::EarlyDataMismatch));
            }
        };
        let (pattern, client_key, resumption) = match resumed {
            None => (
                full_pattern.ok_or(Error::Internal("no pattern"))?,
                noise.remote_static(),
                None,
            ),
            Some(contents) => (
                contents.pattern,
                contents.device,
                Some(Resumption {
                    authenticated_at: contents.authenticated_at,
                    identity: contents.identity.and_then(|id| Identity::new(id).ok()),
                }),
            ),
        };
        let mut early_data = None;
        let offer = match early {
            None => None,
            Some((data, timestamp)) => {
                let flight = noise
                    .remote_ephemeral()
                    .ok_or(Error::Internal("no remote ephemeral after message 1"))?;
                let window = self.config.early_data_window();
                let refused = match window {
                    None => Some(EarlyDataRefusal::NotEnabled),
                    Some(_) if retry_echoed => Some(EarlyDataRefusal::AfterRetry),
                    Some(w) if !within_window(timestamp, now, w) => {
                        Some(EarlyDataRefusal::OutsideWindow)
                    }
                    Some(_) => None,
                };
                if refused.is_none() {
                    early_data = Some(Bytes::copy_from_slice(data));
                }
                Some(EarlyDataOffer {
                    len: data.len(),
                    timestamp,
                    flight_id: *flight.as_bytes(),
                    device: client_key,
                    window: window.unwrap_or_default(),
                    refused,
                })
            }
        };
        let hello = ClientHello {
            pattern,
            suite: selected,
            key_id,
            client_key,
            peer_address: Bytes::copy_from_slice(&self.options.peer_address),
            peer_socket_addr: self.options.socket_addr(),
            retry_echoed,
            early_data: offer,
            resumption,
        };
        Ok(ServerNext::Decide(Box::new(AwaitDecision {
            config: self.config,
            pattern,
            suite: selected,
            resumed: hello.resumption.is_some(),
            noise,
            hello,
            early_data,
        })))
    }
}

/// `now - W <= t <= now + W` (section 4.9, rule 2).
fn within_window(t: Time, now: Time, window: std::time::Duration) -> bool {
    t.saturating_add(window) >= now && t <= now.saturating_add(window)
}

impl AwaitDecision {
    /// Accepts the client: generates the ephemeral key, writes message 2
    /// (with `early_data_status` when early data was offered) straight into
    /// the send buffer as a ServerHello frame, and derives the transport
    /// keys. Returns the transport, unconfirmed, and the early data if it
    /// was accepted. Nothing is queued on failure.
    pub(crate) fn accept(
        mut self,
        acceptance: Acceptance,
        out: &mut Output,
        now: Time,
    ) -> Result<(Transport, Option<Bytes>), Error> {
        let accepted = match self.early_data.take() {
            Some(data) if acceptance.early_data_fresh => Some(data),
            _ => None,
        };
        let mut reply_payload = Vec::new();
        if self.hello.early_data.is_some() {
            extensions::push(
                &mut reply_payload,
                extensions::EARLY_DATA_STATUS,
                &[u8::from(accepted.is_some())],
            )?;
        }
        let announced = self.config.announced_server_keys();
        if !announced.is_empty() {
            let keys: Vec<u8> = announced.iter().flat_map(|k| *k.as_bytes()).collect();
            extensions::push(&mut reply_payload, extensions::SERVER_KEYS, &keys)?;
        }
        let e = LocalKey::generate(self.config.provider, self.config.rng.as_ref())?;
        self.noise.set_ephemeral(e);
        let len = self.noise.message_len(reply_payload.len())?;
        let header = FrameHeader::encode(FrameType::ServerHello, len)?;
        if self.config.ticket_keyring().is_some() {
            // The ticket record follows the key confirmation: room for it
            // now saves the send buffer a reallocation then.
            out.reserve(
                HEADER_LEN
                    .saturating_add(len)
                    .saturating_add(TICKET_RECORD_ROOM),
            );
        }
        let (mark, frame) = out.append(HEADER_LEN.saturating_add(len));
        let result = self.write_server_hello(&header, &reply_payload, frame);
        let transport = result.and_then(|()| {
            // With ticket keys, the next ticket keeps the time of the
            // client's last full handshake.
            let ticket_base = self.config.ticket_keyring().map(|_| {
                self.hello
                    .resumption
                    .as_ref()
                    .map_or(now, |r| r.authenticated_at)
            });
            Transport::from_handshake(
                self.config.provider,
                &self.noise,
                Negotiated {
                    side: Side::Server,
                    pattern: self.pattern,
                    suite: self.suite,
                    peer_static: self.hello.client_key,
                    resumed: self.resumed,
                    ticket_base,
                },
                self.config.clone(),
            )
        });
        match transport {
            Ok(transport) => Ok((transport, accepted)),
            Err(e) => {
                out.truncate(mark);
                Err(e)
            }
        }
    }

    /// Fills `frame` (exactly the frame's length) with the ServerHello:
    /// `header`, then message 2 written in place.
    fn write_server_hello(
        &mut self,
        header: &[u8; HEADER_LEN],
        payload: &[u8],
        frame: &mut [u8],
    ) -> Result<(), Error> {
        let (head, message) = frame
            .split_first_chunk_mut::<HEADER_LEN>()
            .ok_or(Error::Internal("ServerHello frame shorter than its header"))?;
        *head = *header;
        let written = self.noise.write_message_to(payload, message)?;
        if written != message.len() {
            return Err(Error::Internal("ServerHello length"));
        }
        Ok(())
    }
}

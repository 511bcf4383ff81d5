//! Client handshake states.

use std::sync::Arc;

use bytes::Bytes;

use super::Side;
use super::transport::{Negotiated, Transport};
use crate::config::ClientConfig;
use crate::crypto::dh::PublicKey;
use crate::error::Error;
use crate::error::{IllegalReason, UnexpectedReason};
use crate::noise::{HandshakeState, Initialize, LocalKey, NoisePattern};
use crate::record::{ContentType, Output};
use crate::suite::{Pattern, Suite};
use crate::ticket::ResumptionTicket;
use crate::time::Time;
use crate::wire::extensions::{self, Message};
use crate::wire::frame::{FrameType, write_frame};
use crate::wire::hello::{
    ClientHelloHeader, FLAG_EARLY_DATA, PROLOGUE_LABEL, RESUME_PATTERN, Retry, SuiteList,
};

/// The client has sent its ClientHello and waits for the server's answer.
pub(crate) struct ExpectServerHello {
    config: Arc<ClientConfig>,
    suite: Suite,
    noise: HandshakeState,
    /// Whether this ClientHello already answers a Retry (only one is allowed).
    retried: bool,
    /// Early data sent in this ClientHello.
    early_data: Option<Bytes>,
    /// Early data was dropped because the server answered with a Retry
    /// or a ResumeRefused (it is never sent in a second ClientHello).
    early_data_dropped: bool,
    /// The Retry this ClientHello echoes, kept to echo it again in a full
    /// ClientHello after a ResumeRefused.
    echo: Option<Retry>,
    /// The ticket this ClientHello resumes with (sent again after a Retry).
    ticket: Option<ResumptionTicket>,
}

/// Where a client goes after a frame.
pub(crate) enum ClientNext {
    Again(Box<ExpectServerHello>),
    /// Established; with early data, whether the server accepted it, and
    /// the server keys it announced, if any.
    Established(Box<Transport>, Option<bool>, Option<Vec<PublicKey>>),
}

/// The Noise payload of message 1: a timestamp and the early data, if any.
fn first_payload(early_data: Option<&Bytes>, now: Time) -> Result<Vec<u8>, Error> {
    let mut payload = Vec::new();
    if let Some(data) = early_data {
        payload.reserve(data.len().saturating_add(16));
        extensions::push(
            &mut payload,
            extensions::TIMESTAMP,
            &now.as_millis().to_be_bytes(),
        )?;
        extensions::push(&mut payload, extensions::EARLY_DATA, data)?;
    }
    Ok(payload)
}

impl ExpectServerHello {
    /// Builds and queues a ClientHello (answering `retry` if given;
    /// resuming with `ticket` if given).
    pub(crate) fn start(
        config: Arc<ClientConfig>,
        retry: Option<Retry>,
        ticket: Option<ResumptionTicket>,
        early_data: Option<Bytes>,
        now: Time,
        out: &mut Output,
    ) -> Result<Box<Self>, Error> {
        let suite = match &retry {
            None => *config
                .suites
                .first()
                .ok_or(Error::InvalidConfig("no suites"))?,
            Some(r) => Suite::from_u8(r.suite)
                .filter(|s| config.suites.contains(s))
                .ok_or(Error::IllegalParameter(IllegalReason::RetrySuiteNotOffered))?,
        };
        let retried = retry.is_some();
        let echo = retry.clone();
        let header = ClientHelloHeader {
            pattern: if ticket.is_some() {
                RESUME_PATTERN
            } else {
                config.pattern().to_u8()
            },
            suite: suite.to_u8(),
            suites: SuiteList::new(config.suites.iter().map(|s| s.to_u8()))?,
            key_id: config.server_key().key_id_with(config.provider.hash),
            flags: if early_data.is_some() {
                FLAG_EARLY_DATA
            } else {
                0
            },
            retry,
            ticket: ticket.as_ref().map(|t| &t.ticket[..]),
        };
        let mut body = Vec::with_capacity(128);
        header.encode(&mut body)?;
        let e = LocalKey::generate(config.provider, config.rng.as_ref())?;
        let (pattern, s, rs, psk) = match &ticket {
            None => (
                config.pattern().into(),
                config.client_key().cloned(),
                Some(config.server_key()),
                None,
            ),
            Some(t) => (NoisePattern::NNpsk0, None, None, Some(t.psk.clone())),
        };
        let mut noise = HandshakeState::initialize(Initialize {
            provider: config.provider,
            pattern,
            suite,
            initiator: true,
            prologue: &[PROLOGUE_LABEL, &body],
            s,
            e: Some(e),
            rs,
            psk,
        })?;
        noise.write_message(&first_payload(early_data.as_ref(), now)?, &mut body)?;
        let mut frame = Vec::with_capacity(body.len().saturating_add(3));
        write_frame(&mut frame, FrameType::ClientHello, &body)?;
        out.put(&frame);
        Ok(Box::new(Self {
            config,
            suite,
            noise,
            retried,
            early_data,
            early_data_dropped: false,
            echo,
            ticket,
        }))
    }

    /// The pattern of the full handshake behind this one (the ticket's, when
    /// resuming).
    fn pattern(&self) -> Pattern {
        self.ticket
            .as_ref()
            .map_or(self.config.pattern(), ResumptionTicket::pattern)
    }

    /// Handles a ServerHello or a Retry (alerts are handled by the
    /// connection). After a ServerHello the confirm record (section 4.10) is
    /// queued at once.
    pub(crate) fn handle(
        mut self: Box<Self>,
        frame_type: FrameType,
        body: &mut [u8],
        out: &mut Output,
        now: Time,
    ) -> Result<ClientNext, Error> {
        match frame_type {
            FrameType::ServerHello => {
                let payload = self.noise.read_message(body)?;
                let exts = extensions::parse(payload, Message::ServerHello)?;
                let early_status = match (&self.early_data, exts.early_data_status) {
                    (Some(_), Some(status)) => Some(status),
                    (None, None) if self.early_data_dropped => Some(false),
                    (Some(_), None) => {
                        return Err(Error::IllegalParameter(
                            IllegalReason::EarlyDataStatusMissing,
                        ));
                    }
                    (None, Some(_)) => {
                        return Err(Error::IllegalParameter(
                            IllegalReason::EarlyDataStatusUnexpected,
                        ));
                    }
                    (None, None) => None,
                };
                let resumed = self.ticket.is_some();
                let mut transport = Transport::from_handshake(
                    self.config.provider,
                    &self.noise,
                    Negotiated {
                        side: Side::Client,
                        pattern: self.pattern(),
                        suite: self.suite,
                        // A resumed handshake authenticates the fleet that
                        // holds the ticket key, not the static key.
                        peer_static: (!resumed).then(|| self.config.server_key()),
                        resumed,
                        ticket_base: None,
                    },
                    self.config.clone(),
                )?;
                transport.seal(out, ContentType::Confirm, &[])?;
                let announced = exts
                    .server_keys
                    .map(|keys| keys.into_iter().map(PublicKey::from_bytes).collect());
                Ok(ClientNext::Established(
                    Box::new(transport),
                    early_status,
                    announced,
                ))
            }
            FrameType::Retry => {
                if self.retried {
                    return Err(Error::UnexpectedMessage(UnexpectedReason::SecondRetry));
                }
                let retry = Retry::decode_body(body)?;
                if retry.suite == self.suite.to_u8() && retry.cookie.is_empty() {
                    return Err(Error::IllegalParameter(IllegalReason::RetryChangesNothing));
                }
                // Early data is never sent again after a Retry: an attacker
                // could replay the first flight once the server stops
                // demanding cookies. The application resends it as a
                // message (reported as rejected).
                let dropped = self.early_data.is_some() || self.early_data_dropped;
                let mut next = Self::start(self.config, Some(retry), self.ticket, None, now, out)?;
                next.early_data_dropped = dropped;
                Ok(ClientNext::Again(next))
            }
            FrameType::ResumeRefused => {
                if self.ticket.is_none() {
                    return Err(Error::UnexpectedMessage(
                        UnexpectedReason::ResumeRefusedWithoutTicket,
                    ));
                }
                // A full handshake on the same connection, echoing the
                // Retry already answered (its cookie is still good), never
                // with early data (section 4.11). The ticket is dropped.
                let dropped = self.early_data.is_some() || self.early_data_dropped;
                let mut next = Self::start(self.config, self.echo, None, None, now, out)?;
                next.early_data_dropped = dropped;
                Ok(ClientNext::Again(next))
            }
            _ => Err(Error::UnexpectedMessage(
                UnexpectedReason::ExpectedServerHelloOrRetry,
            )),
        }
    }
}

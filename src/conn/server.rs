//! Server handshake state.

use std::sync::Arc;

use bytes::Bytes;

use crate::Side;
use crate::config::{ServerConfig, ServerOptions};
use crate::conn::transport::Transport;
use crate::cookie;
use crate::crypto::dh::StaticKeyPair;
use crate::error::Error;
use crate::noise::HandshakeState;
use crate::record::Output;
use crate::suite::Suite;
use crate::time::Time;
use crate::wire::Reader;
use crate::wire::extensions::{self, Message};
use crate::wire::frame::{FrameType, write_frame};
use crate::wire::hello::{ClientHelloHeader, FLAG_EARLY_DATA, Retry, prologue};

/// The server waits for a ClientHello. It keeps no per-client state until
/// one is accepted: a Retry is answered statelessly.
pub(crate) struct ExpectClientHello {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) options: ServerOptions,
}

/// Where a server goes after a frame.
pub(crate) enum ServerNext {
    /// A Retry was queued; wait for the retried ClientHello.
    Again(ExpectClientHello),
    /// Established; with the early data the replay guard accepted, if any.
    Established(Box<Transport>, Option<Bytes>),
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

    /// Steps 1 to 6 of `spec/PROTOCOL.md` section 4.3: everything decided
    /// before any Diffie-Hellman work. Returns the Retry to send, if any.
    fn precheck(
        &self,
        header: &ClientHelloHeader,
        selected: Suite,
        now: Time,
    ) -> Result<Option<Retry>, Error> {
        let mut cookie_ok = false;
        if let Some(retry) = &header.retry {
            if retry.suite != header.suite {
                return Err(Error::IllegalParameter(
                    "Retry echo does not match the ClientHello suite",
                ));
            }
            if !retry.cookie.is_empty() {
                cookie::verify(
                    self.config.cookie_secret(),
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
                Error::InvalidCookie("a cookie is required")
            } else {
                Error::IllegalParameter(
                    "retried ClientHello uses a suite the server did not select",
                )
            });
        }
        let cookie = if self.options.demand_cookie {
            cookie::make(self.config.cookie_secret(), now, &self.options.peer_address)?
        } else {
            Vec::new()
        };
        Ok(Some(Retry {
            suite: selected.to_u8(),
            cookie,
        }))
    }

    pub(crate) fn handle(
        self,
        frame_type: FrameType,
        body: &[u8],
        out: &mut Output,
        now: Time,
    ) -> Result<ServerNext, Error> {
        if frame_type != FrameType::ClientHello {
            return Err(Error::UnexpectedMessage("expected ClientHello"));
        }
        let mut r = Reader::new(body);
        let (header, header_bytes) = ClientHelloHeader::decode(&mut r, body)?;
        let pattern = header.pattern()?;
        if !self.config.patterns.contains(&pattern) {
            return Err(Error::UnsupportedPattern);
        }
        let key = self
            .config
            .key_for_id(&header.key_id)
            .ok_or(Error::UnknownServerKey)?;
        let selected = self
            .select_suite(&header.suites)
            .ok_or(Error::NoCommonSuite)?;
        if let Some(retry) = self.precheck(&header, selected, now)? {
            // Stateless Retry before any DH work.
            let mut retry_body = Vec::with_capacity(retry.cookie.len().saturating_add(2));
            retry.encode(&mut retry_body)?;
            let mut frame = Vec::with_capacity(retry_body.len().saturating_add(3));
            write_frame(&mut frame, FrameType::Retry, &retry_body)?;
            out.put(&frame);
            return Ok(ServerNext::Again(self));
        }
        let e = StaticKeyPair::generate_with(self.config.provider, self.config.rng.as_ref())?;
        let mut noise = HandshakeState::initialize(
            self.config.provider,
            pattern,
            selected,
            false,
            &prologue(header_bytes),
            Some(key.clone()),
            e,
            None,
        )?;
        let payload = noise.read_message(r.rest())?;
        let exts = extensions::parse(&payload, Message::ClientHello)?;
        let flagged = header.flags & FLAG_EARLY_DATA != 0;
        let early = match (flagged, exts.early_data, exts.timestamp) {
            (true, Some(data), Some(ts)) => Some((data, Time::from_millis(ts))),
            (false, None, _) => None,
            _ => {
                return Err(Error::IllegalParameter(
                    "early data flag, data and timestamp disagree",
                ));
            }
        };
        let client_key = noise.remote_static();
        if let Some(client_key) = &client_key {
            if !self.config.authorize(client_key) {
                return Err(Error::ClientRejected);
            }
        }
        let mut accepted = None;
        let mut reply_payload = Vec::new();
        if let Some((data, timestamp)) = early {
            let flight = noise
                .remote_ephemeral()
                .ok_or(Error::UnexpectedMessage("no ephemeral"))?;
            let ok = self
                .config
                .early_data_policy()
                .is_some_and(|p| p.accept(flight.as_bytes(), client_key.as_ref(), timestamp, now));
            if ok {
                accepted = Some(Bytes::copy_from_slice(data));
            }
            extensions::push(
                &mut reply_payload,
                extensions::EARLY_DATA_STATUS,
                &[u8::from(ok)],
            )?;
        }
        let mut reply = Vec::with_capacity(64);
        noise.write_message(&reply_payload, &mut reply)?;
        let transport = Transport::from_handshake(
            self.config.provider,
            Side::Server,
            pattern,
            selected,
            &noise,
            client_key,
            self.config.transport.clone(),
        )?;
        let mut frame = Vec::with_capacity(reply.len().saturating_add(3));
        write_frame(&mut frame, FrameType::ServerHello, &reply)?;
        out.put(&frame);
        Ok(ServerNext::Established(Box::new(transport), accepted))
    }
}

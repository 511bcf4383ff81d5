//! Server handshake state.

use std::sync::Arc;

use bytes::BytesMut;

use crate::Side;
use crate::config::ServerConfig;
use crate::conn::transport::Transport;
use crate::crypto::dh::StaticKeyPair;
use crate::error::Error;
use crate::noise::HandshakeState;
use crate::suite::Suite;
use crate::wire::Reader;
use crate::wire::extensions;
use crate::wire::frame::{FrameType, write_frame};
use crate::wire::hello::{ClientHelloHeader, Retry, prologue};

/// The server waits for a ClientHello. It keeps no per-client state until
/// one is accepted: a Retry is answered statelessly.
pub(crate) struct ExpectClientHello {
    pub(crate) config: Arc<ServerConfig>,
}

/// Where a server goes after a frame.
pub(crate) enum ServerNext {
    /// A Retry was queued; wait for the retried ClientHello.
    Again(ExpectClientHello),
    Established(Box<Transport>),
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

    pub(crate) fn handle(
        self,
        frame_type: FrameType,
        body: &[u8],
        out: &mut BytesMut,
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
        if let Some(retry) = &header.retry {
            if retry.suite != header.suite {
                return Err(Error::IllegalParameter(
                    "Retry echo does not match the ClientHello suite",
                ));
            }
            if !retry.cookie.is_empty() {
                return Err(Error::IllegalParameter(
                    "cookie echoed to a server that sent none",
                ));
            }
        }
        if selected.to_u8() != header.suite {
            if header.retry.is_some() {
                return Err(Error::IllegalParameter(
                    "retried ClientHello uses a suite the server did not select",
                ));
            }
            // Stateless Retry before any DH work.
            let mut retry_body = Vec::with_capacity(2);
            Retry {
                suite: selected.to_u8(),
                cookie: Vec::new(),
            }
            .encode(&mut retry_body)?;
            let mut frame = Vec::with_capacity(5);
            write_frame(&mut frame, FrameType::Retry, &retry_body)?;
            out.extend_from_slice(&frame);
            return Ok(ServerNext::Again(self));
        }
        let e = StaticKeyPair::generate(self.config.rng.as_ref())?;
        let mut noise = HandshakeState::initialize(
            pattern,
            selected,
            false,
            &prologue(header_bytes),
            Some(key.clone()),
            e,
            None,
        )?;
        let payload = noise.read_message(r.rest())?;
        extensions::parse(&payload)?;
        let client_key = noise.remote_static();
        if let Some(client_key) = &client_key {
            if !self.config.authorize(client_key) {
                return Err(Error::ClientRejected);
            }
        }
        let mut reply = Vec::with_capacity(64);
        noise.write_message(&[], &mut reply)?;
        let transport = Transport::from_handshake(
            Side::Server,
            pattern,
            selected,
            &noise,
            client_key,
            self.config.transport.clone(),
        )?;
        let mut frame = Vec::with_capacity(reply.len().saturating_add(3));
        write_frame(&mut frame, FrameType::ServerHello, &reply)?;
        out.extend_from_slice(&frame);
        Ok(ServerNext::Established(Box::new(transport)))
    }
}

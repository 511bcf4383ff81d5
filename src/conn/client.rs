//! Client handshake states.

use std::sync::Arc;

use bytes::BytesMut;

use crate::Side;
use crate::config::ClientConfig;
use crate::conn::transport::Transport;
use crate::crypto::dh::StaticKeyPair;
use crate::error::Error;
use crate::noise::HandshakeState;
use crate::suite::Suite;
use crate::wire::extensions;
use crate::wire::frame::{FrameType, write_frame};
use crate::wire::hello::{ClientHelloHeader, Retry, prologue};

/// The client has sent its ClientHello and waits for the server's answer.
pub(crate) struct ExpectServerHello {
    config: Arc<ClientConfig>,
    suite: Suite,
    noise: HandshakeState,
    /// Whether this ClientHello already answers a Retry (only one is allowed).
    retried: bool,
}

/// Where a client goes after a frame.
pub(crate) enum ClientNext {
    Again(Box<ExpectServerHello>),
    Established(Box<Transport>),
}

impl ExpectServerHello {
    /// Builds and queues a ClientHello (answering `retry` if given).
    pub(crate) fn start(
        config: Arc<ClientConfig>,
        retry: Option<Retry>,
        out: &mut BytesMut,
    ) -> Result<Box<Self>, Error> {
        let suite = match &retry {
            None => *config
                .suites
                .first()
                .ok_or(Error::InvalidConfig("no suites"))?,
            Some(r) => Suite::from_u8(r.suite)
                .filter(|s| config.suites.contains(s))
                .ok_or(Error::IllegalParameter(
                    "Retry selected a suite the client did not offer",
                ))?,
        };
        let retried = retry.is_some();
        let header = ClientHelloHeader {
            pattern: config.pattern().to_u8(),
            suite: suite.to_u8(),
            suites: config.suites.iter().map(|s| s.to_u8()).collect(),
            key_id: config.server_key().key_id(),
            flags: 0,
            retry,
        };
        let mut body = Vec::with_capacity(128);
        header.encode(&mut body)?;
        let e = StaticKeyPair::generate(config.rng.as_ref())?;
        let mut noise = HandshakeState::initialize(
            config.pattern(),
            suite,
            true,
            &prologue(&body),
            config.client_key().cloned(),
            e,
            Some(config.server_key()),
        )?;
        noise.write_message(&[], &mut body)?;
        let mut frame = Vec::with_capacity(body.len().saturating_add(3));
        write_frame(&mut frame, FrameType::ClientHello, &body)?;
        out.extend_from_slice(&frame);
        Ok(Box::new(Self {
            config,
            suite,
            noise,
            retried,
        }))
    }

    /// Handles a ServerHello or a Retry (alerts are handled by the connection).
    pub(crate) fn handle(
        mut self: Box<Self>,
        frame_type: FrameType,
        body: &[u8],
        out: &mut BytesMut,
    ) -> Result<ClientNext, Error> {
        match frame_type {
            FrameType::ServerHello => {
                let payload = self.noise.read_message(body)?;
                extensions::parse(&payload)?;
                let transport = Transport::from_handshake(
                    Side::Client,
                    self.config.pattern(),
                    self.suite,
                    &self.noise,
                    Some(self.config.server_key()),
                    self.config.transport.clone(),
                )?;
                Ok(ClientNext::Established(Box::new(transport)))
            }
            FrameType::Retry => {
                if self.retried {
                    return Err(Error::UnexpectedMessage("a second Retry"));
                }
                let retry = Retry::decode_body(body)?;
                if retry.suite == self.suite.to_u8() && retry.cookie.is_empty() {
                    return Err(Error::IllegalParameter("Retry that changes nothing"));
                }
                Ok(ClientNext::Again(Self::start(
                    self.config,
                    Some(retry),
                    out,
                )?))
            }
            _ => Err(Error::UnexpectedMessage("expected ServerHello or Retry")),
        }
    }
}

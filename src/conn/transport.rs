//! The established state: record keys for both directions, key update and
//! the exporter.

use std::sync::Arc;

use super::Side;
use crate::config::{ClientConfig, ServerConfig, TransportConfig};
use crate::crypto::CryptoProvider;
use crate::crypto::dh::PublicKey;
use crate::crypto::hash::HASH_LEN;
use crate::error::Error;
use crate::key_schedule::{self, HandshakeSecrets, Secret};
use crate::noise::HandshakeState;
use crate::record::{ContentType, DirectionKeys, Output};
use crate::suite::{Pattern, Suite};
use crate::time::Time;
use crate::wire::frame::HEADER_LEN;
use crate::wire::limits::MAX_FRAGMENT_LEN as FRAGMENT_LEN;

/// Key update payload: the sender does not ask the receiver to update.
pub(crate) const UPDATE_NOT_REQUESTED: u8 = 0;
/// Key update payload: the receiver must update its sending keys too.
pub(crate) const UPDATE_REQUESTED: u8 = 1;

/// The configuration a connection was made from, shared with every other
/// connection made from it: the one home of its [`TransportConfig`] (a
/// pointer per connection instead of a copy).
#[derive(Clone)]
pub(crate) enum SharedConfig {
    Client(Arc<ClientConfig>),
    Server(Arc<ServerConfig>),
    /// A connection from another implementation's `Split()`, which has only
    /// transport settings.
    #[cfg(feature = "dangerous")]
    Transport(Arc<TransportConfig>),
}

impl SharedConfig {
    /// The settings of the established connection.
    #[inline]
    pub(crate) fn transport(&self) -> &TransportConfig {
        match self {
            Self::Client(c) => &c.transport,
            Self::Server(s) => &s.transport,
            #[cfg(feature = "dangerous")]
            Self::Transport(t) => t,
        }
    }
}

impl From<Arc<ClientConfig>> for SharedConfig {
    fn from(config: Arc<ClientConfig>) -> Self {
        Self::Client(config)
    }
}

impl From<Arc<ServerConfig>> for SharedConfig {
    fn from(config: Arc<ServerConfig>) -> Self {
        Self::Server(config)
    }
}

pub(crate) struct Transport {
    provider: &'static CryptoProvider,
    pub(crate) side: Side,
    pub(crate) pattern: Pattern,
    pub(crate) suite: Suite,
    send: DirectionKeys,
    recv: DirectionKeys,
    exporter: Secret,
    pub(crate) handshake_hash: [u8; HASH_LEN],
    pub(crate) peer_static: Option<PublicKey>,
    /// Whether the handshake resumed a session with a ticket.
    pub(crate) resumed: bool,
    /// Client: a ticket record has arrived (at most one per connection).
    pub(crate) ticket_received: bool,
    /// Server with ticket keys, until its ticket is sent: when the client
    /// last ran a full handshake (section 4.11).
    pub(crate) ticket_due: Option<Time>,
    config: SharedConfig,
}

/// What a handshake negotiated, besides keys.
#[derive(Clone, Copy)]
pub(crate) struct Negotiated {
    pub(crate) side: Side,
    /// The pattern of the full handshake (for a resumption, the one the
    /// ticket descends from).
    pub(crate) pattern: Pattern,
    pub(crate) suite: Suite,
    pub(crate) peer_static: Option<PublicKey>,
    pub(crate) resumed: bool,
    /// Server: a ticket is to be sent after the key confirmation, carrying
    /// this time of the client's last full handshake.
    pub(crate) ticket_base: Option<Time>,
}

/// What a Noise `Split()` hands over: the two keys (initiator-to-responder
/// first), the final handshake hash and what was negotiated.
pub(crate) struct SplitKeys<'a> {
    pub(crate) k1: &'a [u8; HASH_LEN],
    pub(crate) k2: &'a [u8; HASH_LEN],
    pub(crate) handshake_hash: [u8; HASH_LEN],
    pub(crate) negotiated: Negotiated,
}

impl Transport {
    pub(crate) fn from_handshake(
        provider: &'static CryptoProvider,
        noise: &HandshakeState,
        negotiated: Negotiated,
        config: impl Into<SharedConfig>,
    ) -> Result<Self, Error> {
        let (k1, k2, h) = noise.split()?;
        let split = SplitKeys {
            k1: &k1,
            k2: &k2,
            handshake_hash: h,
            negotiated,
        };
        Self::from_split(provider, &split, config.into())
    }

    /// Builds the transport from Noise `Split()` output and the handshake hash.
    pub(crate) fn from_split(
        provider: &'static CryptoProvider,
        split: &SplitKeys<'_>,
        config: SharedConfig,
    ) -> Result<Self, Error> {
        let SplitKeys {
            k1,
            k2,
            handshake_hash,
            negotiated:
                Negotiated {
                    side,
                    pattern,
                    suite,
                    peer_static,
                    resumed,
                    ticket_base,
                },
        } = *split;
        let secrets = HandshakeSecrets::derive(provider, k1, k2, &handshake_hash)?;
        let c2s = DirectionKeys::new(provider, suite, secrets.client_to_server)?;
        let s2c = DirectionKeys::new(provider, suite, secrets.server_to_client)?;
        let (send, recv) = match side {
            Side::Client => (c2s, s2c),
            Side::Server => (s2c, c2s),
        };
        Ok(Self {
            provider,
            side,
            pattern,
            suite,
            send,
            recv,
            exporter: secrets.exporter,
            handshake_hash,
            peer_static,
            resumed,
            ticket_received: false,
            ticket_due: ticket_base,
            config,
        })
    }

    /// The server configuration, on a server's connection.
    pub(crate) fn server_config(&self) -> Option<&ServerConfig> {
        match &self.config {
            SharedConfig::Server(s) => Some(s),
            _ => None,
        }
    }

    /// The connection's settings.
    #[inline]
    pub(crate) fn config(&self) -> &TransportConfig {
        self.config.transport()
    }

    /// Seals one record, updating the sending keys first when the configured
    /// record count under the current key is reached.
    #[inline]
    pub(crate) fn seal(
        &mut self,
        out: &mut Output,
        content_type: ContentType,
        payload: &[u8],
    ) -> Result<(), Error> {
        if self.send.seq() >= self.config().key_update_after_records {
            self.update_keys(out, false)?;
        }
        let padding = &self.config.transport().padding;
        self.send.seal(out, content_type, payload, padding)
    }

    /// Sends a key_update record under the current key, then switches to the
    /// next traffic secret.
    pub(crate) fn update_keys(
        &mut self,
        out: &mut Output,
        request_peer: bool,
    ) -> Result<(), Error> {
        let payload = [if request_peer {
            UPDATE_REQUESTED
        } else {
            UPDATE_NOT_REQUESTED
        }];
        let padding = &self.config.transport().padding;
        self.send
            .seal(out, ContentType::KeyUpdate, &payload, padding)?;
        self.send.update()
    }

    /// Seals `message` as one or more records (fragments of at most 16384 bytes).
    pub(crate) fn send_message(&mut self, out: &mut Output, message: &[u8]) -> Result<(), Error> {
        let limit = self.config().max_message_size;
        if message.len() > limit {
            return Err(Error::MessageTooLargeToSend { limit });
        }
        if message.len() <= FRAGMENT_LEN {
            // One record (the common case): `seal` reserves exactly.
            return self.seal(out, ContentType::MessageEnd, message);
        }
        let records = message.len().div_ceil(FRAGMENT_LEN);
        out.reserve(
            message
                .len()
                .saturating_add(records.saturating_mul(HEADER_LEN + 17 + 256)),
        );
        let mut chunks = message.chunks(FRAGMENT_LEN).peekable();
        while let Some(chunk) = chunks.next() {
            let ct = if chunks.peek().is_some() {
                ContentType::MessageContinues
            } else {
                ContentType::MessageEnd
            };
            self.seal(out, ct, chunk)?;
        }
        Ok(())
    }

    /// Opens one record in place (see [`DirectionKeys::open`]).
    pub(crate) fn open(
        &mut self,
        header: &[u8; HEADER_LEN],
        body: &mut [u8],
    ) -> Result<(ContentType, usize), Error> {
        self.recv.open(header, body)
    }

    /// Whether the current sending keys have protected any record.
    pub(crate) fn sent_under_current_keys(&self) -> bool {
        self.send.seq() > 0
    }

    /// The peer switched its sending keys: switch our receiving keys.
    pub(crate) fn peer_updated_keys(&mut self) -> Result<(), Error> {
        self.recv.update()
    }

    /// The connection's resumption secret (section 4.11).
    pub(crate) fn resumption_secret(&self) -> Result<Secret, Error> {
        key_schedule::resumption_secret(self.provider, &self.exporter)
    }

    pub(crate) fn export(&self, label: &[u8], context: &[u8], out: &mut [u8]) -> Result<(), Error> {
        key_schedule::export(self.provider, &self.exporter, label, context, out)
    }

    /// The current traffic secrets (sending, receiving), for vectors.
    pub(crate) fn traffic_secrets(&self) -> (&[u8; HASH_LEN], &[u8; HASH_LEN]) {
        (self.send.secret(), self.recv.secret())
    }

    /// Drops both directions' expanded AEAD keys (rebuilt on next use).
    pub(crate) fn release_keys(&mut self) {
        self.send.release();
        self.recv.release();
    }

    /// The provider this connection computes with.
    pub(crate) fn provider(&self) -> &'static CryptoProvider {
        self.provider
    }

    /// Sequence numbers of the next record (sending, receiving).
    pub(crate) fn sequence_numbers(&self) -> (u64, u64) {
        (self.send.seq(), self.recv.seq())
    }
}

//! A connection from another Noise implementation's `Split()` (feature
//! `dangerous`): the door for interoperability tests and for peers that run
//! the Noise handshake themselves.

use super::established::Established;
use super::transport::{Negotiated, SharedConfig, SplitKeys, Transport};
use super::{Connection, Side, State};
use crate::config::TransportConfig;
use crate::crypto::dh::PublicKey;
use crate::error::Error;
use crate::record::{ContentType, Output};
use crate::suite::{Pattern, Suite};
use crate::time::Time;

/// What another Noise implementation's `Split()` hands over, for
/// [`Connection::dangerous_from_noise_split`].
#[cfg_attr(docsrs, doc(cfg(feature = "dangerous")))]
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct NoiseSplit<'a> {
    /// This connection's side.
    pub side: Side,
    /// The handshake pattern that was run.
    pub pattern: Pattern,
    /// The suite that was run.
    pub suite: Suite,
    /// `Split()`'s initiator-to-responder key.
    pub k1: &'a [u8; 32],
    /// `Split()`'s responder-to-initiator key.
    pub k2: &'a [u8; 32],
    /// The final handshake hash `h`.
    pub handshake_hash: [u8; 32],
    /// The peer's static key, if the pattern authenticated one.
    pub peer_static: Option<PublicKey>,
}

impl<'a> NoiseSplit<'a> {
    /// The split of a handshake run with `pattern` and `suite`, on `side`,
    /// ending in keys `k1`, `k2` and hash `handshake_hash`, with no peer
    /// static key.
    pub fn new(
        side: Side,
        pattern: Pattern,
        suite: Suite,
        k1: &'a [u8; 32],
        k2: &'a [u8; 32],
        handshake_hash: [u8; 32],
    ) -> Self {
        Self {
            side,
            pattern,
            suite,
            k1,
            k2,
            handshake_hash,
            peer_static: None,
        }
    }

    /// The peer's static key (the server's on a client, the client's on an
    /// IK server).
    pub fn with_peer_static(mut self, key: PublicKey) -> Self {
        self.peer_static = Some(key);
        self
    }
}

impl Connection {
    /// A connection from a `Split()` done by another Noise implementation.
    ///
    /// This is the door for interoperability tests and for peers that run
    /// the Noise handshake themselves; nothing here checks that the
    /// handshake really happened, hence the name. The connection is in the
    /// state right after the handshake messages: a client has queued its
    /// confirm record (section 4.10), a server waits for it. It uses
    /// [`crypto::default_provider`](crate::crypto::default_provider).
    #[cfg_attr(docsrs, doc(cfg(feature = "dangerous")))]
    pub fn dangerous_from_noise_split(
        split: NoiseSplit<'_>,
        config: TransportConfig,
        now: Time,
    ) -> Result<Self, Error> {
        config.validate()?;
        let keys = SplitKeys {
            k1: split.k1,
            k2: split.k2,
            handshake_hash: split.handshake_hash,
            negotiated: Negotiated {
                side: split.side,
                pattern: split.pattern,
                suite: split.suite,
                peer_static: split.peer_static,
                resumed: false,
                ticket_base: None,
            },
        };
        let config = SharedConfig::Transport(std::sync::Arc::new(config));
        let mut transport =
            Transport::from_split(crate::crypto::default_provider(), &keys, config)?;
        let mut tx = Output::default();
        let confirmed = split.side == Side::Client;
        if confirmed {
            transport.seal(&mut tx, ContentType::Confirm, &[])?;
        }
        let established = Established::new(transport, confirmed, None, now);
        let mut conn = Self::new(split.side, State::Established(Box::new(established)), tx);
        if confirmed {
            conn.buffers_mut()
                .events
                .push(super::Event::HandshakeComplete);
        }
        Ok(conn)
    }
}

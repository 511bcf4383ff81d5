//! Key material for tests and interoperability: a connection built from a
//! `Split()` another Noise implementation did, and the current secrets.
//! Anyone holding these can read and forge the connection, hence the
//! `dangerous_` names.

use zeroize::Zeroizing;

use super::established::Established;
use super::transport::{SplitKeys, Transport};
use super::{Connection, Side, State};
use crate::config::TransportConfig;
use crate::crypto::dh::PublicKey;
use crate::error::Error;
use crate::key_schedule;
use crate::record::{ContentType, Output};
use crate::suite::{Pattern, Suite};
use crate::time::Time;

/// The current key material of one direction, from
/// [`Connection::dangerous_extract_secrets`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectionSecrets {
    /// The traffic secret.
    pub secret: Zeroizing<[u8; 32]>,
    /// The AEAD key derived from it.
    pub key: Zeroizing<[u8; 32]>,
    /// The IV derived from it.
    pub iv: [u8; 12],
    /// The sequence number of the next record.
    pub seq: u64,
}

impl std::fmt::Debug for DirectionSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectionSecrets(<redacted>)")
    }
}

/// A connection's current key material, both directions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtractedSecrets {
    /// What this side sends with.
    pub send: DirectionSecrets,
    /// What this side receives with.
    pub recv: DirectionSecrets,
}

/// What another Noise implementation's `Split()` hands over, for
/// [`Connection::dangerous_from_noise_split`].
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
    pub fn dangerous_from_noise_split(
        split: NoiseSplit<'_>,
        config: TransportConfig,
        now: Time,
    ) -> Result<Self, Error> {
        config.validate()?;
        let keys = SplitKeys {
            side: split.side,
            pattern: split.pattern,
            suite: split.suite,
            k1: split.k1,
            k2: split.k2,
            handshake_hash: split.handshake_hash,
            peer_static: split.peer_static,
        };
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
            conn.events.push(super::Event::HandshakeComplete);
        }
        Ok(conn)
    }

    /// The current traffic secrets, keys and IVs. For test vectors and
    /// debugging only: anyone holding them can read and forge this connection.
    pub fn dangerous_extract_secrets(&self) -> Option<ExtractedSecrets> {
        let t = &self.established()?.keys;
        let (send, recv) = t.traffic_secrets();
        let (send_seq, recv_seq) = t.sequence_numbers();
        let direction = |secret: &[u8; 32], seq| {
            let (key, iv) = key_schedule::record_key_iv(t.provider(), secret).ok()?;
            Some(DirectionSecrets {
                secret: Zeroizing::new(*secret),
                key,
                iv,
                seq,
            })
        };
        Some(ExtractedSecrets {
            send: direction(send, send_seq)?,
            recv: direction(recv, recv_seq)?,
        })
    }
}

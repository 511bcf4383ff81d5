//! The server's decision point (`spec/PROTOCOL.md` section 4.3, step 8):
//! what the server knows about a client once its first flight has been
//! read, and the caller's answer.
//!
//! Nothing here runs user code or does I/O: the connection pauses with a
//! [`ClientHello`] and waits for [`Connection::accept_client`] or
//! [`Connection::reject_client`]. The adapters ask asynchronous policies
//! (a device table, a replay guard on Redis) and answer with a deadline.
//!
//! [`Connection::accept_client`]: crate::Connection::accept_client
//! [`Connection::reject_client`]: crate::Connection::reject_client

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

use crate::crypto::dh::{KEY_ID_LEN, PublicKey};
use crate::error::Error;
use crate::suite::{Pattern, Suite};
use crate::time::Time;

/// Longest [`Identity`] in bytes.
pub const MAX_IDENTITY_LEN: usize = 256;

/// What a server knows about a client when it decides whether to let it in:
/// the cleartext negotiation and what message 1 of the handshake proved.
///
/// **Nothing here proves the client is present.** Message 1 can be recorded
/// and replayed: an IK client key here is one that *some* holder of the
/// device's private key sent at some time. The connection reports the
/// client as authenticated only after its key confirmation
/// ([`Event::HandshakeComplete`](crate::Event::HandshakeComplete)).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub(crate) pattern: Pattern,
    pub(crate) suite: Suite,
    pub(crate) key_id: [u8; KEY_ID_LEN],
    pub(crate) client_key: Option<PublicKey>,
    pub(crate) peer_address: Bytes,
    pub(crate) peer_socket_addr: Option<SocketAddr>,
    pub(crate) retry_echoed: bool,
    pub(crate) early_data: Option<EarlyDataOffer>,
    pub(crate) resumption: Option<Resumption>,
}

impl ClientHello {
    /// The handshake pattern the client uses.
    pub fn pattern(&self) -> Pattern {
        self.pattern
    }

    /// The suite selected for this connection.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The identifier of the server static key the client pinned.
    pub fn server_key_id(&self) -> [u8; KEY_ID_LEN] {
        self.key_id
    }

    /// IK: the client's static (device) key, as message 1 claims it. The
    /// `ss` Diffie-Hellman proves that the key's holder wrote message 1,
    /// not that it sent *this* copy: a replay carries the same key. `None`
    /// for NK.
    pub fn claimed_client_key(&self) -> Option<PublicKey> {
        self.client_key
    }

    /// The client's address as the caller supplied it
    /// ([`ServerOptions::peer_address`](crate::ServerOptions::peer_address)).
    pub fn peer_address(&self) -> &[u8] {
        &self.peer_address
    }

    /// The client's socket address, when the caller supplied one with
    /// [`ServerOptions::for_peer`](crate::ServerOptions::for_peer).
    pub fn peer_socket_addr(&self) -> Option<SocketAddr> {
        self.peer_socket_addr
    }

    /// Whether this ClientHello answers a Retry (and so carries the echo;
    /// a cookie in it was verified).
    pub fn retry_echoed(&self) -> bool {
        self.retry_echoed
    }

    /// The early data the first flight offers, if any.
    pub fn early_data(&self) -> Option<&EarlyDataOffer> {
        self.early_data.as_ref()
    }

    /// Whether the client resumes a session with a ticket (then
    /// [`pattern`](Self::pattern) and
    /// [`claimed_client_key`](Self::claimed_client_key) are those of the
    /// full handshake the ticket descends from), and what the ticket says.
    pub fn resumption(&self) -> Option<&Resumption> {
        self.resumption.as_ref()
    }
}

/// What a resumption ticket tells a server about a returning client
/// ([`ClientHello::resumption`]). The ticket opened under the fleet's ticket
/// key, so the server (or a server of its fleet) issued it to a client that
/// completed a handshake; like the rest of the first flight it may be a
/// replay until the key confirmation arrives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resumption {
    pub(crate) authenticated_at: Time,
    pub(crate) identity: Option<Identity>,
}

impl Resumption {
    /// When the client last ran a full handshake (the server's clock): a
    /// server may insist on a fresh one for sensitive operations.
    pub fn authenticated_at(&self) -> Time {
        self.authenticated_at
    }

    /// The application identity the server gave the client before. It is
    /// carried over unless the acceptance names another
    /// ([`Acceptance::with_identity`]).
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }
}

impl fmt::Debug for ClientHello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHello")
            .field("pattern", &self.pattern)
            .field("suite", &self.suite)
            .field("server_key_id", &KeyId(self.key_id))
            .field("claimed_client_key", &self.client_key)
            .field("peer_address", &String::from_utf8_lossy(&self.peer_address))
            .field("retry_echoed", &self.retry_echoed)
            .field("early_data", &self.early_data)
            .field("resumption", &self.resumption)
            .finish()
    }
}

struct KeyId([u8; KEY_ID_LEN]);

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Early data offered by a first flight, before anyone decided to accept
/// it (`spec/PROTOCOL.md` section 4.9). The data itself is delivered only
/// once accepted, as [`Event::EarlyData`](crate::Event::EarlyData).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EarlyDataOffer {
    pub(crate) len: usize,
    pub(crate) timestamp: Time,
    pub(crate) flight_id: [u8; 32],
    pub(crate) device: Option<PublicKey>,
    pub(crate) window: Duration,
    pub(crate) refused: Option<EarlyDataRefusal>,
}

impl EarlyDataOffer {
    /// Length of the early data in bytes (at most 8192).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the early data is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The client's clock when it sent the flight, as the flight claims it.
    pub fn timestamp(&self) -> Time {
        self.timestamp
    }

    /// What identifies this flight for a replay guard: the client's
    /// ephemeral public key, unique to one first flight.
    pub fn flight_id(&self) -> &[u8; 32] {
        &self.flight_id
    }

    /// IK: the claimed device key, whose timestamps must increase.
    pub fn device(&self) -> Option<PublicKey> {
        self.device
    }

    /// The server's anti-replay window `W`.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Why the connection itself already refused the early data, if it did
    /// (then no replay guard needs to be asked, and a "fresh" verdict is
    /// ignored).
    pub fn refused(&self) -> Option<EarlyDataRefusal> {
        self.refused
    }

    /// Whether the caller must ask its replay guard before accepting: the
    /// connection's own checks (enabled, no Retry, within the window)
    /// passed.
    pub fn needs_replay_check(&self) -> bool {
        self.refused.is_none()
    }
}

impl fmt::Debug for EarlyDataOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EarlyDataOffer")
            .field("len", &self.len)
            .field("timestamp", &self.timestamp)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

/// Why a connection refused early data before any replay guard was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EarlyDataRefusal {
    /// The server is not configured to accept early data.
    NotEnabled,
    /// The ClientHello answers a Retry: early data is never accepted from a
    /// retried ClientHello (an attacker could replay the first one).
    AfterRetry,
    /// The flight's timestamp is outside the window around the server's clock.
    OutsideWindow,
}

impl fmt::Display for EarlyDataRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotEnabled => "early data is not enabled on this server",
            Self::AfterRetry => "early data is never accepted after a Retry",
            Self::OutsideWindow => "the flight's timestamp is outside the anti-replay window",
        })
    }
}

/// An application's name for an accepted client (a user or device id, at
/// most [`MAX_IDENTITY_LEN`] bytes), given when accepting it and carried by
/// the connection from then on ([`Connection::peer_identity`]).
///
/// [`Connection::peer_identity`]: crate::Connection::peer_identity
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Identity(Bytes);

impl Identity {
    /// An identity from `bytes`; fails when longer than [`MAX_IDENTITY_LEN`].
    pub fn new(bytes: impl Into<Bytes>) -> Result<Self, Error> {
        let bytes = bytes.into();
        if bytes.len() > MAX_IDENTITY_LEN {
            return Err(Error::InvalidArgument("identity longer than 256 bytes"));
        }
        Ok(Self(bytes))
    }

    /// The identity's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The identity's bytes, shared (no copy).
    pub(crate) fn shared_bytes(&self) -> Bytes {
        self.0.clone()
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// The caller's answer that lets a client in
/// ([`Connection::accept_client`](crate::Connection::accept_client)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acceptance {
    pub(crate) identity: Option<Identity>,
    pub(crate) early_data_fresh: bool,
}

impl Acceptance {
    /// Accept, with no application identity, refusing any early data.
    pub fn new() -> Self {
        Self::default()
    }

    /// The application's identity for this client; the connection reports it
    /// once the client has confirmed the handshake.
    pub fn with_identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The replay guard's verdict on the offered early data: `true` when it
    /// had not seen the flight before and recorded it. The early data is
    /// accepted only if this is `true` and the connection's own checks
    /// passed ([`EarlyDataOffer::needs_replay_check`]).
    pub fn with_fresh_early_data(mut self, fresh: bool) -> Self {
        self.early_data_fresh = fresh;
        self
    }
}

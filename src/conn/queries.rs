//! What a [`Connection`] reports about itself: its side and state, the
//! ClientHello waiting for a decision, the negotiated pattern and suite, the
//! authenticated peer, the handshake hash and exported keying material.

use super::decision::{ClientHello, Identity};
use super::established::Established;
use super::{Connection, Side, State};
use crate::crypto::dh::PublicKey;
use crate::crypto::hash::HASH_LEN;
use crate::error::Error;
use crate::suite::{Pattern, Suite};

impl Connection {
    /// Which side this is.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Whether the handshake is still running (not complete, not failed). A
    /// server is handshaking until the client's key confirmation arrives.
    pub fn is_handshaking(&self) -> bool {
        match &self.state {
            State::Client(_) | State::Server(_) | State::Deciding(_) | State::HandshakeStep => true,
            State::Established(e) => !e.confirmed,
            State::Failed(_) => false,
        }
    }

    /// Whether the handshake completed (on a server: the client confirmed
    /// it) and the connection has not failed.
    pub fn is_established(&self) -> bool {
        self.confirmed().is_some()
    }

    /// Server: whether the ServerHello was sent and the client's key
    /// confirmation is awaited. Messages may already be sent (0.5-RTT data,
    /// encrypted to the client the first flight names, which may be a
    /// replay); nothing about the client is authenticated yet.
    pub fn is_awaiting_confirmation(&self) -> bool {
        self.established().is_some_and(|e| !e.confirmed)
    }

    /// Server: what the client's first flight says, while the connection
    /// waits for [`accept_client`](Self::accept_client) or
    /// [`reject_client`](Self::reject_client); `None` otherwise.
    pub fn client_hello(&self) -> Option<&ClientHello> {
        match &self.state {
            State::Deciding(d) => Some(&d.hello),
            _ => None,
        }
    }

    /// The fatal error this connection failed with, if any.
    pub fn error(&self) -> Option<&Error> {
        match &self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the peer has closed gracefully.
    pub fn is_peer_closed(&self) -> bool {
        self.established().is_some_and(|e| e.peer_closed)
    }

    /// Whether this side has called [`close`](Self::close).
    pub fn is_closed(&self) -> bool {
        self.established().is_some_and(|e| e.local_closed)
    }

    pub(super) fn established(&self) -> Option<&Established> {
        match &self.state {
            State::Established(e) => Some(e),
            _ => None,
        }
    }

    /// The established state once the peer is confirmed.
    pub(super) fn confirmed(&self) -> Option<&Established> {
        self.established().filter(|e| e.confirmed)
    }

    /// The negotiated suite, once the keys exist.
    pub fn suite(&self) -> Option<Suite> {
        self.established().map(|e| e.keys.suite)
    }

    /// The handshake pattern, once the keys exist.
    pub fn pattern(&self) -> Option<Pattern> {
        self.established().map(|e| e.keys.pattern)
    }

    /// Whether the handshake resumed a session with a ticket (see
    /// [`Connection::resume`]); `false` while handshaking and after a full
    /// handshake (including one that followed a refused ticket).
    pub fn is_resumed(&self) -> bool {
        self.established().is_some_and(|e| e.keys.resumed)
    }

    /// The peer's authenticated static key: the server's key on a client
    /// (`None` on a resumed client, see [`Connection::resume`]), the
    /// client's device key on an IK server once the client confirmed the
    /// handshake (for a resumed IK session, the key the ticket carries),
    /// `None` on an NK server.
    pub fn peer_static_key(&self) -> Option<PublicKey> {
        self.confirmed().and_then(|e| e.keys.peer_static)
    }

    /// Server: the application identity given to
    /// [`accept_client`](Self::accept_client), once the client confirmed
    /// the handshake.
    pub fn peer_identity(&self) -> Option<&Identity> {
        self.confirmed().and_then(|e| e.identity.as_ref())
    }

    /// The Noise handshake hash: a channel binding both sides share, unique
    /// to this connection. Not secret.
    pub fn handshake_hash(&self) -> Option<[u8; HASH_LEN]> {
        self.established().map(|e| e.keys.handshake_hash)
    }

    /// Fills `out` with keying material bound to this connection, `label`
    /// (non-empty, at most 249 bytes) and `context` (any bytes). Both sides
    /// derive the same bytes; `out` may be up to 8160 bytes.
    pub fn export_keying_material(
        &self,
        label: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        self.confirmed()
            .ok_or(Error::HandshakeNotComplete)?
            .keys
            .export(label, context, out)
    }
}

//! What an application tells a connection to do: send, update keys, ping,
//! close, decide on a client; and how a connection fails.

use super::established::{Established, MAX_PING_LEN};
use super::transport::Transport;
use super::{Acceptance, Connection, Event, State};
use crate::error::{Error, Rejection};
use crate::record::{ContentType, Output};
use crate::time::Time;

impl Connection {
    /// Runs a sealing step on the established state. API misuse (sending
    /// before the handshake, after `close`, a message over the limit)
    /// changes nothing; any other failure is fatal.
    #[inline]
    fn sealing(
        &mut self,
        step: impl FnOnce(&mut Transport, &mut Output) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let (state, buffers) = self.parts();
        let result = match state {
            State::Established(e) => e.seal_with(&mut buffers.tx, step),
            State::Failed(e) => return Err(e.clone()),
            State::Client(_) | State::Server(_) | State::Deciding(_) | State::HandshakeStep => {
                return Err(Error::HandshakeNotComplete);
            }
        };
        match result {
            Err(e) if !e.is_fatal() => Err(e),
            Err(e) => Err(self.fail(e, true)),
            Ok(()) => Ok(()),
        }
    }

    /// Queues `message` for sending, split into records as needed. The peer
    /// receives it whole. At most `max_message_size` bytes.
    pub fn send_message(&mut self, message: &[u8]) -> Result<(), Error> {
        self.sealing(|t, tx| t.send_message(tx, message))
    }

    /// Updates this side's sending keys now; with `request_peer`, asks the
    /// peer to update its sending keys too. Keys are also updated
    /// automatically after `key_update_after_records` records.
    pub fn update_keys(&mut self, request_peer: bool) -> Result<(), Error> {
        self.sealing(|t, tx| t.update_keys(tx, request_peer))
    }

    /// Sends a keep-alive ping with up to 64 bytes of payload; the answer
    /// arrives as [`Event::Pong`].
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > MAX_PING_LEN {
            return Err(Error::InvalidArgument("ping payload longer than 64 bytes"));
        }
        self.sealing(|t, tx| t.seal(tx, ContentType::Ping, payload))
    }

    /// Closes gracefully: queues a close_notify alert and refuses further
    /// sends. Receiving continues until the peer closes too. Before the
    /// keys exist (before the ServerHello) the connection is abandoned and
    /// nothing is sent.
    pub fn close(&mut self) -> Result<(), Error> {
        let (state, buffers) = self.parts();
        match state {
            State::Established(e) if e.local_closed => Ok(()),
            State::Established(e) => match e.close(&mut buffers.tx) {
                Ok(()) => Ok(()),
                Err(err) => Err(self.fail(err, true)),
            },
            State::Failed(e) => Err(e.clone()),
            State::Client(_) | State::Server(_) | State::Deciding(_) | State::HandshakeStep => {
                self.state = State::Failed(Error::Closed);
                Ok(())
            }
        }
    }

    /// Server, before any ClientHello arrived: whether to demand a Retry
    /// cookie from the client (see
    /// [`ServerOptions::with_cookie_demanded`](crate::ServerOptions::with_cookie_demanded)).
    /// Adapters decide this once the client has sent something, so that
    /// idle sockets do not count as handshakes in progress. Fails with
    /// [`Error::HandshakeNotComplete`] in any other state.
    pub fn set_cookie_demanded(&mut self, demand: bool) -> Result<(), Error> {
        match &mut self.state {
            State::Server(hs) => {
                hs.options.demand_cookie = demand;
                Ok(())
            }
            _ => Err(Error::HandshakeNotComplete),
        }
    }

    /// Server: lets the client whose first flight
    /// [`client_hello`](Self::client_hello) shows in: generates the
    /// ephemeral key, queues the ServerHello and derives the keys. Early
    /// data is accepted only if the acceptance says the replay guard found
    /// it fresh and the connection's own checks passed; it is then queued
    /// as [`Event::EarlyData`]. The client is reported as authenticated
    /// (with the acceptance's identity) once its key confirmation arrives.
    ///
    /// Fails with [`Error::HandshakeNotComplete`] when no decision is
    /// pending (nothing changes).
    pub fn accept_client(&mut self, acceptance: Acceptance, now: Time) -> Result<(), Error> {
        self.check_alive()?;
        let State::Deciding(_) = self.state else {
            return Err(Error::HandshakeNotComplete);
        };
        let State::Deciding(decision) = std::mem::replace(&mut self.state, State::HandshakeStep)
        else {
            return Err(Error::Internal("decision state vanished"));
        };
        // A resumed client keeps the identity its ticket carries unless
        // the acceptance names another.
        let identity = acceptance.identity.clone().or_else(|| {
            decision
                .hello
                .resumption
                .as_ref()
                .and_then(|r| r.identity.clone())
        });
        let buffers = self.buffers.get_or_insert_with(Box::default);
        match decision.accept(acceptance, &mut buffers.tx, now) {
            Ok((keys, early_data)) => {
                if let Some(data) = early_data {
                    buffers.events.push(Event::EarlyData(data));
                }
                self.state =
                    State::Established(Box::new(Established::new(keys, false, identity, now)));
                Ok(())
            }
            Err(e) => Err(self.fail(e, true)),
        }
    }

    /// Server: refuses the client whose first flight
    /// [`client_hello`](Self::client_hello) shows: queues the reason's
    /// alert (in the clear) and fails the connection with
    /// [`Error::ClientRejected`], which it returns. Returns
    /// [`Error::HandshakeNotComplete`] (and changes nothing) when no
    /// decision is pending.
    pub fn reject_client(&mut self, reason: Rejection) -> Error {
        if let Err(e) = self.check_alive() {
            return e;
        }
        if !matches!(self.state, State::Deciding(_)) {
            return Error::HandshakeNotComplete;
        }
        self.fail(Error::ClientRejected(reason), true)
    }

    /// Makes the connection fail with `err`, queueing at most one alert:
    /// protected once there are keys, in the clear before.
    pub(super) fn fail(&mut self, err: Error, send_alert: bool) -> Error {
        if let (true, Some(code)) = (send_alert, err.alert()) {
            let (state, buffers) = self.parts();
            match state {
                State::Established(e) => e.send_alert(&mut buffers.tx, code),
                State::Client(_) | State::Server(_) | State::Deciding(_) | State::HandshakeStep => {
                    self.queue_cleartext_alert(&err)
                }
                State::Failed(_) => {}
            }
        }
        if let Some(b) = self.buffers.as_deref_mut() {
            b.deframer.clear();
            b.inbox.discard_partial();
        }
        self.state = State::Failed(err.clone());
        err
    }

    /// Frees what an idle connection does not need: empty receive and send
    /// buffers, empty queues (with the box that holds them all, when every
    /// one is empty) and the expanded AEAD keys (only the 32-byte traffic
    /// secrets stay; keys are rebuilt on the next record, which costs about
    /// as much as one key update). Call it when the connection goes
    /// idle (the adapters do when a read would block with nothing pending);
    /// buffers are kept between calls so that busy connections do not
    /// allocate per message. Returns nothing and never fails.
    pub fn release_idle_memory(&mut self) {
        match self.buffers.as_deref_mut() {
            Some(b) if b.is_unused() => self.buffers = None,
            Some(b) => b.release(),
            None => {}
        }
        if let State::Established(e) = &mut self.state {
            e.keys.release_keys();
        }
    }
}

//! Blocking TCP with deadlines, frame by frame, and what the tester saw.

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::wire::{self, Direction, alert_name};

/// What a read from the peer produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Got {
    Frame(u8, Vec<u8>),
    /// The peer closed its side cleanly (FIN); `partial` bytes of an
    /// unfinished frame were left.
    Eof {
        partial: usize,
    },
    /// The connection was reset.
    Reset,
    /// Nothing arrived before the deadline.
    Timeout,
}

/// A TCP connection with a receive buffer and a deadline.
pub struct Wire {
    pub tcp: TcpStream,
    buf: Vec<u8>,
    pub deadline: Instant,
}

impl Wire {
    pub fn new(tcp: TcpStream, timeout: Duration) -> Self {
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_write_timeout(Some(timeout));
        Wire {
            tcp,
            buf: Vec::new(),
            deadline: Instant::now() + timeout,
        }
    }

    /// Sends bytes; a failure (the peer already closed) is not an error for
    /// the tester: what the peer did is judged from what it sends.
    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.tcp.write_all(bytes);
        let _ = self.tcp.flush();
    }

    /// Closes the sending direction (TCP FIN).
    pub fn shutdown_write(&mut self) {
        let _ = self.tcp.shutdown(std::net::Shutdown::Write);
    }

    fn fill(&mut self, until: Instant) -> Result<usize, Got> {
        let now = Instant::now();
        if now >= until {
            return Err(Got::Timeout);
        }
        let _ = self
            .tcp
            .set_read_timeout(Some((until - now).max(Duration::from_millis(1))));
        let mut chunk = [0u8; 65536];
        match self.tcp.read(&mut chunk) {
            Ok(0) => Ok(0),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(Got::Timeout)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(1),
            Err(_) => Err(Got::Reset),
        }
    }

    /// The next whole frame, before the scenario's deadline.
    pub fn read_frame(&mut self) -> Got {
        let until = self.deadline;
        self.read_frame_until(until)
    }

    /// The next whole frame, before `until` (at most the scenario deadline).
    pub fn read_frame_until(&mut self, until: Instant) -> Got {
        let until = until.min(self.deadline);
        loop {
            if self.buf.len() >= 3 {
                let len = usize::from(u16::from_be_bytes([self.buf[1], self.buf[2]]));
                if self.buf.len() >= 3 + len {
                    let ty = self.buf[0];
                    let body = self.buf[3..3 + len].to_vec();
                    self.buf.drain(..3 + len);
                    return Got::Frame(ty, body);
                }
            }
            match self.fill(until) {
                Ok(0) => {
                    return Got::Eof {
                        partial: self.buf.len(),
                    };
                }
                Ok(_) => {}
                Err(got) => return got,
            }
        }
    }

    /// Waits for the peer to close; returns what came instead, if anything.
    pub fn expect_close(&mut self, within: Duration) -> Result<(), Got> {
        let until = Instant::now() + within;
        match self.read_frame_until(until) {
            Got::Eof { partial: 0 } | Got::Reset => Ok(()),
            other => Err(other),
        }
    }
}

/// What the peer did, as the tester reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// A cleartext alert frame with its code.
    ClearAlert(u8),
    /// A protected alert record with its code.
    Alert(u8),
    /// A protected record of content type `ct`.
    Record(u8, Vec<u8>),
    /// A whole message (its fragments reassembled).
    Message(Vec<u8>),
    /// A record that did not open under the expected keys.
    BadRecord,
    /// A record whose inner plaintext was all zeros.
    EmptyInner,
    /// Another frame.
    Frame(u8, Vec<u8>),
    Eof {
        partial: usize,
    },
    Reset,
    Timeout,
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::ClearAlert(c) => write!(f, "cleartext alert {}", alert_name(*c)),
            Seen::Alert(c) => write!(f, "protected alert {}", alert_name(*c)),
            Seen::Record(ct, p) => {
                write!(f, "record of content type {ct:#04x} ({} bytes)", p.len())
            }
            Seen::Message(m) => write!(f, "a message of {} bytes", m.len()),
            Seen::BadRecord => write!(f, "a record that does not open under the expected keys"),
            Seen::EmptyInner => write!(f, "a record without a content type"),
            Seen::Frame(wire::FRAME_RESUME_REFUSED, body) => {
                write!(f, "a ResumeRefused frame ({} bytes)", body.len())
            }
            Seen::Frame(ty, body) => write!(f, "frame type {ty:#04x} ({} bytes)", body.len()),
            Seen::Eof { partial: 0 } => write!(f, "close (no alert)"),
            Seen::Eof { partial } => write!(f, "close in the middle of a frame ({partial} bytes)"),
            Seen::Reset => write!(f, "connection reset (no alert)"),
            Seen::Timeout => write!(f, "nothing before the deadline"),
        }
    }
}

impl From<Got> for Seen {
    fn from(g: Got) -> Self {
        match g {
            Got::Frame(wire::FRAME_ALERT, body) if body.len() == 1 => Seen::ClearAlert(body[0]),
            Got::Frame(ty, body) => Seen::Frame(ty, body),
            Got::Eof { partial } => Seen::Eof { partial },
            Got::Reset => Seen::Reset,
            Got::Timeout => Seen::Timeout,
        }
    }
}

/// An established connection as the tester sees it: a wire and the two
/// directions' keys (`send` protects what the tester sends).
pub struct Session {
    pub wire: Wire,
    pub send: Direction,
    pub recv: Direction,
    /// The peer sent a key_update; the tester answers requests itself only
    /// when asked to (`answer_key_updates`).
    pub key_updates_seen: Vec<u8>,
    pub pongs_seen: Vec<Vec<u8>>,
    pub pings_seen: usize,
    pub answer_pings: bool,
    pub closed_by_peer: bool,
    /// The tester is the client: ticket records (section 4.11) are kept in
    /// `tickets` instead of being reported.
    pub take_tickets: bool,
    /// The payloads of the ticket records taken, in order.
    pub tickets: Vec<Vec<u8>>,
    /// The content types of the control records `observe` handled itself
    /// (key_update, ping, pong, ticket), in order.
    pub controls: Vec<u8>,
    /// The connection's resumption secret (section 4.11), when the tester
    /// derived it.
    pub resumption: Option<[u8; 32]>,
    partial: Vec<u8>,
}

impl Session {
    pub fn new(wire: Wire, send: Direction, recv: Direction) -> Self {
        Session {
            wire,
            send,
            recv,
            key_updates_seen: Vec::new(),
            pongs_seen: Vec::new(),
            pings_seen: 0,
            answer_pings: true,
            closed_by_peer: false,
            take_tickets: false,
            tickets: Vec::new(),
            controls: Vec::new(),
            resumption: None,
            partial: Vec::new(),
        }
    }

    /// A session from a finished handshake (section 5); `client` says which
    /// side the tester plays.
    pub fn from_handshake(
        wire: Wire,
        hs: &mut snow::HandshakeState,
        suite: u8,
        client: bool,
    ) -> Self {
        let k = wire::secrets(hs, suite);
        let mut s = if client {
            Session::new(wire, k.c2s, k.s2c)
        } else {
            Session::new(wire, k.s2c, k.c2s)
        };
        s.take_tickets = client;
        s.resumption = Some(k.resumption);
        s
    }

    /// Seals and sends one record.
    pub fn record(&mut self, ct: u8, payload: &[u8]) {
        let r = self.send.seal(ct, payload, 0);
        self.wire.send(&r);
    }

    /// Seals one record without sending it.
    pub fn seal(&mut self, ct: u8, payload: &[u8]) -> Vec<u8> {
        self.send.seal(ct, payload, 0)
    }

    /// Sends a message, fragmented as section 7 says.
    pub fn message(&mut self, m: &[u8]) {
        let bytes = self.message_bytes(m);
        self.wire.send(&bytes);
    }

    pub fn message_bytes(&mut self, m: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut chunks: Vec<&[u8]> = m.chunks(wire::MAX_FRAGMENT).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let last = chunks.len() - 1;
        for (i, c) in chunks.into_iter().enumerate() {
            let ct = if i == last {
                wire::CT_MESSAGE_END
            } else {
                wire::CT_MESSAGE_CONTINUES
            };
            out.extend(self.send.seal(ct, c, 0));
        }
        out
    }

    /// Sends the key update of section 8 and moves to the next keys.
    pub fn key_update(&mut self, request: bool) {
        self.record(wire::CT_KEY_UPDATE, &[u8::from(request)]);
        self.send.update();
    }

    pub fn close_notify(&mut self) {
        self.record(wire::CT_ALERT, &[wire::alert::CLOSE_NOTIFY]);
    }

    /// The next thing the peer did that matters: a whole message, an
    /// alert, a confirm or unknown record, or the end. Key updates are
    /// applied, pings answered (unless `answer_pings` is off), pongs noted,
    /// ticket records kept when `take_tickets`, close_notify noted and
    /// reported as `Alert(0)`.
    pub fn observe(&mut self) -> Seen {
        loop {
            match self.wire.read_frame() {
                Got::Frame(wire::FRAME_RECORD, body) => {
                    let Some(inner) = self.recv.open(&body) else {
                        return Seen::BadRecord;
                    };
                    let Some((ct, payload)) = wire::split_inner(&inner) else {
                        return Seen::EmptyInner;
                    };
                    match ct {
                        wire::CT_MESSAGE_CONTINUES => self.partial.extend_from_slice(payload),
                        wire::CT_MESSAGE_END => {
                            self.partial.extend_from_slice(payload);
                            return Seen::Message(std::mem::take(&mut self.partial));
                        }
                        wire::CT_KEY_UPDATE if payload.len() == 1 && payload[0] <= 1 => {
                            self.controls.push(ct);
                            self.key_updates_seen.push(payload[0]);
                            self.recv.update();
                        }
                        wire::CT_TICKET if self.take_tickets => {
                            self.controls.push(ct);
                            self.tickets.push(payload.to_vec());
                        }
                        wire::CT_PING if payload.len() <= wire::MAX_PING => {
                            self.controls.push(ct);
                            self.pings_seen += 1;
                            if self.answer_pings {
                                let p = payload.to_vec();
                                self.record(wire::CT_PONG, &p);
                            }
                        }
                        wire::CT_PONG if payload.len() <= wire::MAX_PING => {
                            self.controls.push(ct);
                            self.pongs_seen.push(payload.to_vec());
                        }
                        wire::CT_ALERT if payload.len() == 1 => {
                            if payload[0] == 0 {
                                self.closed_by_peer = true;
                            }
                            return Seen::Alert(payload[0]);
                        }
                        _ => return Seen::Record(ct, payload.to_vec()),
                    }
                }
                Got::Frame(wire::FRAME_ALERT, body) if body.len() == 1 => {
                    return Seen::ClearAlert(body[0]);
                }
                other => return other.into(),
            }
        }
    }

    /// Waits for a message; anything else is returned as the error.
    pub fn expect_message(&mut self) -> Result<Vec<u8>, Seen> {
        match self.observe() {
            Seen::Message(m) => Ok(m),
            other => Err(other),
        }
    }
}

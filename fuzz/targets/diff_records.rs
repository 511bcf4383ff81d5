//! Differential: lwsec's record layer against the spec reference
//! (`lwsec_test_support::spec_reference`, spec sections 3, 5, 6, 8 and 9,
//! from the raw AEAD and HKDF crates).
//!
//! An lwsec connection `L` (client or server, either suite, a padding
//! policy, an automatic key update after 1 to 7 records or the default) is
//! built with `Connection::dangerous_from_noise_split` from fuzzer-chosen
//! `Split()` keys and handshake hash; the reference derives the same
//! secrets (spec 5) and plays the peer. A client `L` starts with its key
//! confirmation record queued (spec 4.10), which must be exactly the
//! reference's `confirm` record; a server `L` waits for the peer's: the
//! reference peer sends it first unless the input says otherwise, and
//! until it arrives any other first record fails `L` (spec 4.10), `L` does
//! not report the handshake complete and has no exporter. A sequence of
//! operations follows:
//!
//! * `L` sends a message (any length; fragments of 16384), updates its keys
//!   (requesting the peer's or not), pings, closes. The bytes `L` writes
//!   must be **exactly** the records the reference seals for the same
//!   keys, sequence numbers and padding (key update first when the record
//!   count under the current key reaches the limit), and the reference
//!   peer, with its own receiving state, must open them and find the same
//!   content types and payloads.
//! * The reference peer sends honest records (messages with any padding,
//!   key updates, pings, pongs, alerts), records with arbitrary inner
//!   plaintext (any content type byte, payload, padding, lengths over the
//!   limits), replays a record, drops one, or flips a bit of one. `L` must
//!   deliver exactly the messages and events the reference predicts, write
//!   exactly the predicted responses (pong, key update, a protected alert
//!   with the predicted code when it fails), and fail exactly when the
//!   reference fails, with the same alert.
//! * The exporter and, after every step, the secrets, keys, IVs and
//!   sequence numbers of both directions (`dangerous_peek_secrets`) must
//!   match the reference.
//!
//! The reference's receive rules are the spec's: frame type and length
//! checks (section 3), a record after close_notify (9.2), authentication
//! with the expected sequence number (6.1), the key confirmation first on a
//! server and never again (4.10), content type and payload rules (6.2),
//! one ticket record to a client and none to a server (4.11),
//! message size and no close_notify inside an unfinished message (7), key
//! update with coalesced requests (8), alerts (9).

use lwsec::{
    Connection, Error, Event, NoiseSplit, Padding, Pattern, Side, Suite, Time, TransportConfig,
};

use lwsec_test_support::fuzz_input::Input;
use lwsec_test_support::honest;
use lwsec_test_support::spec_reference::{self as spec, Direction, Pad};

const NOW: Time = Time::from_millis(0);
/// `L`'s maximum message size: a 16-bit length can exceed it.
const MAX_MESSAGE: usize = 40_000;
/// At most this many peer records wait before they are delivered, so that
/// `L`'s informational events (queue of 32) are never dropped.
const MAX_IN_FLIGHT: usize = 24;
/// Most operations per input.
const MAX_OPS: usize = 160;

/// How `L` must end a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fail {
    /// `L` fails with an error whose alert is this code (and sends it,
    /// unless it has sent close_notify).
    Alert(u8),
    /// `L` received a fatal alert with this code.
    PeerAlert(u8),
}

/// What `L` must do: write these bytes (these records), deliver these
/// messages and events, and maybe fail.
#[derive(Debug, Default)]
struct Expect {
    output: Vec<u8>,
    records: Vec<(u8, Vec<u8>)>,
    messages: Vec<Vec<u8>>,
    events: Vec<Event>,
    fail: Option<Fail>,
    /// A frame is incomplete: `L` waits for more bytes.
    waiting: bool,
}

/// The reference's model of the connection and its peer.
struct Model {
    pad: Pad,
    key_update_after: u64,
    /// `L`'s sending state: predicts its records.
    l_send: Direction,
    /// `L`'s receiving state: predicts its verdicts.
    l_recv: Direction,
    /// The peer's receiving state: opens `L`'s records on its own.
    peer_recv: Direction,
    /// The peer's sending state (ahead of `l_recv` after a dropped record).
    peer_send: Direction,
    exporter: [u8; 32],
    /// `L` sent close_notify.
    l_closed: bool,
    /// `L` received close_notify.
    peer_closed: bool,
    /// `L` has its peer's key confirmation (always for a client `L`).
    confirmed: bool,
    /// `L` is a client (it takes one ticket record; a server takes none).
    client: bool,
    /// A client `L` took its ticket record (spec 4.11: at most one).
    ticket_received: bool,
    /// `L`'s partial message.
    partial: Vec<u8>,
    /// The peer's records not yet given to `L`.
    in_flight: Vec<Vec<u8>>,
    /// The peer's last record (for a replay).
    last_record: Vec<u8>,
    /// Messages sent by the peer, for their contents.
    peer_messages: usize,
}

impl Model {
    /// `L` seals a record on its ordinary path: first a key update if the
    /// records under the current key reached the limit (`update_keys`'s own
    /// key_update record is sealed without this check).
    fn l_seal(&mut self, ct: u8, payload: &[u8], exp: &mut Expect) {
        if self.l_send.seq >= self.key_update_after {
            self.l_key_update(false, exp);
        }
        self.l_seal_now(ct, payload, exp);
    }

    fn l_seal_now(&mut self, ct: u8, payload: &[u8], exp: &mut Expect) {
        let inner_len = self.pad.padded_len(payload.len() + 1);
        exp.output.extend(self.l_send.seal(ct, payload, inner_len));
        exp.records.push((ct, payload.to_vec()));
    }

    /// `L` sends key_update and switches to its next sending secret.
    fn l_key_update(&mut self, request: bool, exp: &mut Expect) {
        self.l_seal_now(spec::CT_KEY_UPDATE, &[u8::from(request)], exp);
        self.l_send.update();
    }

    /// `L` sends a message: fragments of 16384 bytes, the last one
    /// message_end (one empty record for an empty message).
    fn l_message(&mut self, message: &[u8], exp: &mut Expect) {
        let count = message.len().div_ceil(spec::MAX_FRAGMENT).max(1);
        for i in 0..count {
            let chunk =
                &message[i * spec::MAX_FRAGMENT..message.len().min((i + 1) * spec::MAX_FRAGMENT)];
            let ct = if i + 1 == count {
                spec::CT_MESSAGE_END
            } else {
                spec::CT_MESSAGE_CONTINUES
            };
            self.l_seal(ct, chunk, exp);
        }
    }

    /// `L` fails with `alert`: one protected alert unless it has closed.
    fn l_fail(&mut self, alert: u8, exp: &mut Expect) -> bool {
        if !self.l_closed {
            self.l_seal(spec::CT_ALERT, &[alert], exp);
        }
        exp.fail = Some(Fail::Alert(alert));
        false
    }

    /// What `L` must do with the bytes `stream` from the peer; false when
    /// `L` fails or waits for the rest of a frame.
    fn l_receive(&mut self, mut stream: &[u8], exp: &mut Expect) -> bool {
        while !stream.is_empty() {
            // Frame header: type, then length, checked before the body (spec 3).
            if stream.len() < 3 {
                exp.waiting = true;
                return false;
            }
            let ty = stream[0];
            let len = usize::from(u16::from_be_bytes([stream[1], stream[2]]));
            let max = match ty {
                spec::FRAME_CLIENT_HELLO => spec::MAX_CLIENT_HELLO_BODY,
                spec::FRAME_SERVER_HELLO | spec::FRAME_RETRY => spec::MAX_HANDSHAKE_BODY,
                spec::FRAME_ALERT => 1,
                spec::FRAME_RESUME_REFUSED => 0,
                spec::FRAME_RECORD => spec::MAX_RECORD_BODY,
                _ => return self.l_fail(spec::ALERT_DECODE_ERROR, exp),
            };
            if len > max {
                return self.l_fail(spec::ALERT_RECORD_OVERFLOW, exp);
            }
            if stream.len() < 3 + len {
                exp.waiting = true;
                return false;
            }
            let (frame, rest) = stream.split_at(3 + len);
            stream = rest;
            // Only records after the handshake (spec 10), none after
            // close_notify (9.2).
            if ty != spec::FRAME_RECORD || self.peer_closed {
                return self.l_fail(spec::ALERT_UNEXPECTED_MESSAGE, exp);
            }
            let Some(inner) = self.l_recv.open(frame) else {
                return self.l_fail(spec::ALERT_BAD_RECORD_MAC, exp);
            };
            let Some((ct, payload)) = spec::parse_inner(&inner) else {
                return self.l_fail(spec::ALERT_UNEXPECTED_MESSAGE, exp);
            };
            // A server's first record from the client is its key
            // confirmation: `confirm`, empty (spec 4.10).
            if !self.confirmed {
                if ct != spec::CT_CONFIRM {
                    return self.l_fail(spec::ALERT_UNEXPECTED_MESSAGE, exp);
                }
                if !payload.is_empty() {
                    return self.l_fail(spec::ALERT_DECODE_ERROR, exp);
                }
                self.confirmed = true;
                exp.events.push(Event::HandshakeComplete);
                continue;
            }
            match ct {
                spec::CT_MESSAGE_END | spec::CT_MESSAGE_CONTINUES => {
                    if ct == spec::CT_MESSAGE_CONTINUES && payload.is_empty() {
                        return self.l_fail(spec::ALERT_DECODE_ERROR, exp);
                    }
                    if self.partial.len() + payload.len() > MAX_MESSAGE {
                        return self.l_fail(spec::ALERT_MESSAGE_TOO_LARGE, exp);
                    }
                    self.partial.extend_from_slice(payload);
                    if ct == spec::CT_MESSAGE_END {
                        exp.messages.push(std::mem::take(&mut self.partial));
                    }
                }
                spec::CT_KEY_UPDATE => match payload {
                    [request @ (0 | 1)] => {
                        self.l_recv.update();
                        // Coalesced: answered only when the current sending
                        // keys protected a record (spec 8).
                        if *request == 1 && !self.l_closed && self.l_send.seq > 0 {
                            self.l_key_update(false, exp);
                        }
                        exp.events.push(Event::KeyUpdated);
                    }
                    _ => return self.l_fail(spec::ALERT_DECODE_ERROR, exp),
                },
                spec::CT_PING => {
                    if payload.len() > spec::MAX_PING {
                        return self.l_fail(spec::ALERT_DECODE_ERROR, exp);
                    }
                    if !self.l_closed {
                        let payload = payload.to_vec();
                        self.l_seal(spec::CT_PONG, &payload, exp);
                    }
                }
                spec::CT_PONG => {
                    if payload.len() > spec::MAX_PING {
                        return self.l_fail(spec::ALERT_DECODE_ERROR, exp);
                    }
                    exp.events.push(Event::Pong(payload.to_vec().into()));
                }
                spec::CT_ALERT => match payload {
                    // A close must not cut a message (spec 7).
                    [spec::ALERT_CLOSE_NOTIFY] if !self.partial.is_empty() => {
                        return self.l_fail(spec::ALERT_UNEXPECTED_MESSAGE, exp);
                    }
                    [spec::ALERT_CLOSE_NOTIFY] => {
                        self.peer_closed = true;
                        exp.events.push(Event::PeerClosed);
                    }
                    [code] => {
                        exp.fail = Some(Fail::PeerAlert(*code));
                        return false;
                    }
                    _ => return self.l_fail(spec::ALERT_DECODE_ERROR, exp),
                },
                // A ticket: to a client only, once, whatever a second one
                // holds, then its payload's rules (spec 4.11).
                spec::CT_TICKET => {
                    if !self.client || self.ticket_received {
                        return self.l_fail(spec::ALERT_UNEXPECTED_MESSAGE, exp);
                    }
                    let Some((lifetime, ticket)) = spec::parse_ticket_record(payload) else {
                        return self.l_fail(spec::ALERT_DECODE_ERROR, exp);
                    };
                    self.ticket_received = true;
                    // What the client reports: the ticket, the connection's
                    // resumption secret, its expiry on the client's clock,
                    // the pattern (`ResumptionTicket::to_bytes`' layout).
                    let mut stored = b"lwt1".to_vec();
                    let expires = NOW.as_millis() + u64::from(lifetime) * 1000;
                    stored.extend_from_slice(&expires.to_be_bytes());
                    stored.push(Pattern::Nk.to_u8());
                    stored.extend_from_slice(&spec::resumption_secret(&self.exporter));
                    stored.extend_from_slice(&(ticket.len() as u16).to_be_bytes());
                    stored.extend_from_slice(ticket);
                    let ticket = lwsec::ResumptionTicket::from_bytes(&stored)
                        .expect("the stored form of a valid ticket");
                    exp.events.push(Event::ResumptionTicket(ticket));
                }
                _ => return self.l_fail(spec::ALERT_UNEXPECTED_MESSAGE, exp),
            }
        }
        true
    }

    /// The peer seals a record with inner plaintext `payload || ct ||
    /// zeros(pad)` and puts it in flight.
    fn peer_send(&mut self, ct: u8, payload: &[u8], pad: usize) {
        let record = self.peer_send.seal(ct, payload, payload.len() + 1 + pad);
        self.last_record = record.clone();
        self.in_flight.push(record);
    }

    /// The peer sends a whole message of `len` bytes, each record padded
    /// with up to `pad` zeros.
    fn peer_message(&mut self, len: usize, pad: usize) {
        let message = honest::honest_message(1000 + self.peer_messages, len);
        self.peer_messages += 1;
        let count = len.div_ceil(spec::MAX_FRAGMENT).max(1);
        for i in 0..count {
            let chunk = &message[i * spec::MAX_FRAGMENT..len.min((i + 1) * spec::MAX_FRAGMENT)];
            let ct = if i + 1 == count {
                spec::CT_MESSAGE_END
            } else {
                spec::CT_MESSAGE_CONTINUES
            };
            self.peer_send(ct, chunk, pad.min(spec::MAX_INNER - chunk.len() - 1));
        }
    }

    /// The peer opens the records `L` wrote, with its own receiving state,
    /// and finds the content the reference meant.
    fn peer_open(&mut self, mut bytes: &[u8], records: &[(u8, Vec<u8>)]) {
        for (ct, payload) in records {
            let (ty, body, rest) = spec::split_frame(bytes).expect("a whole record from L");
            assert_eq!(ty, spec::FRAME_RECORD);
            let inner = self
                .peer_recv
                .open(&bytes[..3 + body.len()])
                .expect("the reference opens L's record");
            assert_eq!(
                spec::parse_inner(&inner),
                Some((*ct, &payload[..])),
                "content of L's record"
            );
            if *ct == spec::CT_KEY_UPDATE {
                self.peer_recv.update();
            }
            bytes = rest;
        }
        assert!(bytes.is_empty(), "L wrote more records than expected");
    }
}

/// `L` and what it did, observed from outside.
#[derive(Debug, Default, PartialEq, Eq)]
struct Observed {
    output: Vec<u8>,
    messages: Vec<Vec<u8>>,
    events: Vec<Event>,
}

fn observe(conn: &mut Connection, seen: &mut Observed) {
    let out = conn.pending_output();
    let n = out.len();
    seen.output.extend_from_slice(out);
    conn.consume_output(n);
    while let Some(m) = conn.recv_message() {
        seen.messages.push(m.to_vec());
    }
    seen.events.extend(std::iter::from_fn(|| conn.poll_event()));
}

/// One input, being run.
struct Run {
    l: Connection,
    model: Model,
    /// Deliver each peer record at once (else at `Flush` or when
    /// [`MAX_IN_FLIGHT`] are waiting).
    immediate: bool,
    /// `L` holds an incomplete frame.
    waiting: bool,
    /// `L` failed or the stream ended: nothing more to do.
    done: bool,
    outcome: Outcome,
}

/// What an input did, for the tests that check the target itself.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Records `L` wrote.
    pub records_sent: usize,
    /// Messages `L` delivered.
    pub messages_delivered: usize,
    /// Key updates `L` received.
    pub key_updates_received: usize,
    /// The error `L` failed with, if any.
    pub error: Option<Error>,
    /// `L`'s verdict at the end of the stream, if it got there.
    pub eof: Option<Result<(), Error>>,
}

/// Runs one input.
pub fn run(data: &[u8]) {
    run_outcome(data);
}

/// Runs one input and says what happened.
pub fn run_outcome(data: &[u8]) -> Outcome {
    let mut input = Input::new(data);
    let mut run = Run::new(&mut input);
    let mut ops = 0;
    while !input.is_empty() && !run.done && ops < MAX_OPS {
        run.step(&mut input);
        ops += 1;
    }
    if !run.done {
        run.flush(usize::MAX);
        run.eof();
    }
    run.outcome
}

impl Run {
    /// Input layout: `flags, pad_param (2)`, bucket sizes if the padding
    /// policy is buckets (`(pad_param % 4) + 1` sizes of 2 bytes), `k1`,
    /// `k2`, `h` (32 bytes each), then operations (see [`Run::step`]).
    ///
    /// `flags`: bit 0 ChaCha20-Poly1305; bit 1 `L` is the server; bits 2-3
    /// padding (none, multiple of, buckets, none); bits 4-6 automatic key
    /// update after that many records (0: the default, 2^24); bit 7 deliver
    /// each peer record at once. `pad_param` bit 15 (otherwise unused):
    /// when `L` is the server, the peer does not start with its key
    /// confirmation.
    fn new(input: &mut Input<'_>) -> Self {
        let flags = input.u8();
        let pad_param = input.u16();
        let (pad, padding) = match (flags >> 2) & 3 {
            1 => {
                let n = pad_param % 16384 + 1;
                (Pad::MultipleOf(n), Padding::MultipleOf(n))
            }
            2 => {
                let mut sizes: Vec<u16> = (0..pad_param % 4 + 1)
                    .map(|_| input.u16() % 16385 + 1)
                    .collect();
                sizes.sort_unstable();
                sizes.dedup();
                (Pad::Buckets(sizes.clone()), Padding::Buckets(sizes))
            }
            _ => (Pad::None, Padding::None),
        };
        let k1: [u8; 32] = input.array(0x31);
        let k2: [u8; 32] = input.array(0x32);
        let h: [u8; 32] = input.array(0x33);
        let suite = if flags & 1 != 0 {
            Suite::ChaCha20Poly1305
        } else {
            Suite::Aes256Gcm
        };
        let side = if flags & 2 != 0 {
            Side::Server
        } else {
            Side::Client
        };
        let key_update_after = match (flags >> 4) & 7 {
            0 => lwsec::DEFAULT_KEY_UPDATE_AFTER_RECORDS,
            n => u64::from(n),
        };
        let mut config = TransportConfig::default();
        config.max_message_size = MAX_MESSAGE;
        config.padding = padding;
        config.key_update_after_records = key_update_after;
        let mut l = Connection::dangerous_from_noise_split(
            NoiseSplit::new(side, Pattern::Nk, suite, &k1, &k2, h),
            config,
            NOW,
        )
        .unwrap();
        assert_eq!(l.handshake_hash(), Some(h));
        // A client is done with its handshake (its confirm record queued);
        // a server waits for the confirmation.
        let confirmed = side == Side::Client;
        assert_eq!(
            l.poll_event(),
            confirmed.then_some(Event::HandshakeComplete)
        );
        assert_eq!(l.is_established(), confirmed);
        assert_eq!(l.is_handshaking(), !confirmed);

        let code = suite.to_u8();
        let secrets = spec::key_schedule(&k1, &k2, &h);
        let (l_send, l_recv) = match side {
            Side::Client => (secrets.c2s, secrets.s2c),
            Side::Server => (secrets.s2c, secrets.c2s),
        };
        let model = Model {
            pad,
            key_update_after,
            l_send: Direction::new(code, l_send),
            l_recv: Direction::new(code, l_recv),
            peer_recv: Direction::new(code, l_send),
            peer_send: Direction::new(code, l_recv),
            exporter: secrets.exporter,
            l_closed: false,
            peer_closed: false,
            confirmed,
            client: side == Side::Client,
            ticket_received: false,
            partial: Vec::new(),
            in_flight: Vec::new(),
            last_record: Vec::new(),
            peer_messages: 0,
        };
        let mut run = Self {
            l,
            model,
            immediate: flags & 0x80 != 0,
            waiting: false,
            done: false,
            outcome: Outcome::default(),
        };
        let mut exp = Expect::default();
        if confirmed {
            // The client's key confirmation: `confirm`, empty, padded by
            // the policy, c2s seq 0 (spec 4.10).
            run.model.l_seal(spec::CT_CONFIRM, &[], &mut exp);
        } else if pad_param & 0x8000 == 0 {
            run.model.peer_send(spec::CT_CONFIRM, &[], 0);
        }
        run.check_command(Ok(()), Ok(()), exp);
        run.check_secrets();
        run
    }

    /// `L`'s keys and sequence numbers are the reference's.
    fn check_secrets(&self) {
        let got = self.l.dangerous_peek_secrets().expect("alive");
        for (what, d, want) in [
            ("send", &got.send, &self.model.l_send),
            ("recv", &got.recv, &self.model.l_recv),
        ] {
            assert_eq!(*d.secret, want.secret, "{what} secret");
            assert_eq!(*d.key, want.key, "{what} key");
            assert_eq!(d.iv, want.iv, "{what} iv");
            assert_eq!(d.seq, want.seq, "{what} sequence number");
        }
    }

    /// Checks the result of a command of `L` against `exp` (which must
    /// not fail).
    fn check_command(
        &mut self,
        result: Result<(), Error>,
        expected: Result<(), Error>,
        exp: Expect,
    ) {
        assert_eq!(result, expected, "command result");
        let mut seen = Observed::default();
        observe(&mut self.l, &mut seen);
        assert!(
            seen.output == exp.output,
            "L's records differ from the reference's"
        );
        assert!(seen.messages.is_empty() && seen.events.is_empty());
        self.model.peer_open(&seen.output, &exp.records);
        self.outcome.records_sent += exp.records.len();
    }

    /// One operation: `opcode % 16` and its arguments.
    fn step(&mut self, input: &mut Input<'_>) {
        let m = &mut self.model;
        let mut exp = Expect::default();
        match input.u8() % 16 {
            // L sends a message.
            0 => {
                let len = usize::from(input.u16());
                let message = honest::honest_message(len, len);
                let expected = if m.l_closed {
                    Err(Error::Closed)
                } else if len > MAX_MESSAGE {
                    Err(Error::MessageTooLargeToSend { limit: MAX_MESSAGE })
                } else {
                    m.l_message(&message, &mut exp);
                    Ok(())
                };
                let r = self.l.send_message(&message);
                self.check_command(r, expected, exp);
            }
            // L updates its keys.
            1 => {
                let request = input.u8() & 1 != 0;
                let expected = if m.l_closed {
                    Err(Error::Closed)
                } else {
                    m.l_key_update(request, &mut exp);
                    Ok(())
                };
                let r = self.l.update_keys(request);
                self.check_command(r, expected, exp);
            }
            // L pings.
            2 => {
                let payload = honest::honest_message(7, usize::from(input.u8() % 80));
                let expected = if payload.len() > spec::MAX_PING {
                    Err(Error::InvalidArgument("ping payload longer than 64 bytes"))
                } else if m.l_closed {
                    Err(Error::Closed)
                } else {
                    m.l_seal(spec::CT_PING, &payload, &mut exp);
                    Ok(())
                };
                let r = self.l.ping(&payload);
                let r = match (r, &expected) {
                    // The text of an API-misuse error is not the spec's business.
                    (Err(Error::InvalidArgument(_)), Err(Error::InvalidArgument(_))) => {
                        expected.clone()
                    }
                    (r, _) => r,
                };
                self.check_command(r, expected, exp);
            }
            // L closes.
            3 => {
                if !m.l_closed {
                    m.l_seal(spec::CT_ALERT, &[spec::ALERT_CLOSE_NOTIFY], &mut exp);
                    m.l_closed = true;
                }
                let r = self.l.close();
                self.check_command(r, Ok(()), exp);
            }
            // The peer sends a message.
            4 => {
                let len = usize::from(input.u16()) % (MAX_MESSAGE + 2000);
                let pad = usize::from(input.u8());
                m.peer_message(len, pad);
            }
            // The peer updates its keys.
            5 => {
                let request = input.u8() & 1;
                m.peer_send(spec::CT_KEY_UPDATE, &[request], 0);
                m.peer_send.update();
            }
            // The peer pings or pongs (any length).
            6 | 7 => {
                let ct = if input.u8() & 1 == 0 {
                    spec::CT_PING
                } else {
                    spec::CT_PONG
                };
                let payload = honest::honest_message(3, usize::from(input.u8() % 100));
                m.peer_send(ct, &payload, 0);
            }
            // The peer sends an alert (close_notify or fatal), maybe malformed.
            8 => {
                let code = input.u8() % 100;
                let payload = match input.u8() % 4 {
                    0 => vec![code, code],
                    1 => Vec::new(),
                    _ => vec![code],
                };
                m.peer_send(spec::CT_ALERT, &payload, 0);
            }
            // The peer sends an arbitrary inner plaintext.
            9 => {
                let ct = input.u8();
                let len = usize::from(input.u16()) % (spec::MAX_INNER + 20);
                let pad = usize::from(input.u16()) % 300;
                let payload = match input.u8() {
                    0 => vec![0; len],
                    seed => honest::honest_message(usize::from(seed), len),
                };
                let pad = pad.min(spec::MAX_INNER + 20 - len);
                m.peer_send(ct, &payload, pad);
            }
            // The peer's record is lost on the way.
            10 => {
                m.peer_message(usize::from(input.u8()), 0);
                m.in_flight.pop();
            }
            // The peer's last record arrives again.
            11 => {
                if !m.last_record.is_empty() {
                    m.in_flight.push(m.last_record.clone());
                }
            }
            // A bit of a new record is flipped; delivered, then the stream ends.
            12 => {
                let pos = usize::from(input.u16());
                let bit = input.u8() % 8;
                m.peer_message(usize::from(input.u8()), 0);
                let mut record = m.in_flight.pop().unwrap();
                let i = pos % record.len();
                record[i] ^= 1 << bit;
                m.in_flight.push(record);
                self.flush(usize::MAX);
                self.eof();
                return;
            }
            // Deliver what is in flight, in chunks.
            13 => {
                let c = usize::from(input.u8());
                self.flush(1 + c * c);
            }
            // The exporter.
            14 => {
                let label = honest::honest_message(11, usize::from(input.u8()));
                let context = honest::honest_message(13, usize::from(input.u8()));
                let len = usize::from(input.u16()) % 9000;
                let mut out = vec![0u8; len];
                let r = self.l.export_keying_material(&label, &context, &mut out);
                match spec::export(&m.exporter, &label, &context, len) {
                    // Bound to an authenticated peer only (spec 4.10).
                    _ if !m.confirmed => assert_eq!(r, Err(Error::HandshakeNotComplete)),
                    Some(want) => {
                        assert_eq!(r, Ok(()));
                        assert!(out == want, "exporter output");
                    }
                    None => assert!(
                        r.is_err(),
                        "exporter accepted label {} / length {len}",
                        label.len()
                    ),
                }
            }
            // The peer's stream ends.
            _ => {
                self.flush(usize::MAX);
                self.eof();
                return;
            }
        }
        if !self.done
            && (self.model.in_flight.len() >= MAX_IN_FLIGHT
                || (self.immediate && !self.model.in_flight.is_empty()))
        {
            self.flush(usize::MAX);
        }
        if !self.done {
            self.check_secrets();
        }
    }

    /// Delivers the records in flight to `L` in chunks of `chunk` bytes and
    /// checks what it does against the reference.
    fn flush(&mut self, chunk: usize) {
        if self.done {
            return;
        }
        let stream = std::mem::take(&mut self.model.in_flight).concat();
        let mut exp = Expect::default();
        self.model.l_receive(&stream, &mut exp);

        let mut seen = Observed::default();
        let mut result = Ok(());
        let mut offset = 0;
        let mut stalls = 0;
        while offset < stream.len() {
            let end = stream.len().min(offset.saturating_add(chunk));
            let r = self.l.handle_input(&stream[offset..end], NOW);
            observe(&mut self.l, &mut seen);
            match r {
                Ok(n) => {
                    assert!(n <= end - offset);
                    offset += n;
                    stalls = if n == 0 { stalls + 1 } else { 0 };
                    assert!(stalls < 2, "handle_input made no progress twice in a row");
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        assert_eq!(seen.messages, exp.messages, "messages delivered");
        assert_eq!(seen.events, exp.events, "events");
        assert!(
            seen.output == exp.output,
            "L's responses differ from the reference's ({} vs {} bytes)",
            seen.output.len(),
            exp.output.len()
        );
        self.model.peer_open(&seen.output, &exp.records);
        self.outcome.records_sent += exp.records.len();
        self.outcome.messages_delivered += seen.messages.len();
        self.outcome.key_updates_received += seen
            .events
            .iter()
            .filter(|e| **e == Event::KeyUpdated)
            .count();
        match (&exp.fail, result) {
            (None, Ok(())) => {}
            (Some(Fail::Alert(code)), Err(e)) => {
                assert_eq!(e.alert().map(|a| a.to_u8()), Some(*code), "{e:?}");
                self.failed(e);
            }
            (Some(Fail::PeerAlert(code)), Err(e)) => {
                // A protected alert is authenticated (spec 4.8, 9).
                let ok = matches!(
                    &e,
                    Error::PeerAlert { code: a, authenticated: true } if a.to_u8() == *code
                );
                assert!(ok, "alert {code} received, L reports {e:?}");
                self.failed(e);
            }
            (fail, r) => panic!("L: {r:?}, the reference: {fail:?}"),
        }
        if exp.waiting {
            // Whatever comes next would be read as the rest of that frame.
            self.waiting = true;
            self.eof();
        }
    }

    /// `L` failed with `e`: it keeps failing with it.
    fn failed(&mut self, e: Error) {
        assert_eq!(self.l.error(), Some(&e));
        self.outcome.error = Some(e.clone());
        honest::assert_sticky_error(&mut self.l);
        assert!(self.l.dangerous_peek_secrets().is_none());
        self.done = true;
    }

    /// The peer's stream ends: a clean end only after close_notify and
    /// with no partial frame (spec 9.2).
    fn eof(&mut self) {
        if self.done {
            return;
        }
        let r = self.l.handle_eof();
        if self.model.peer_closed && !self.waiting {
            assert_eq!(r, Ok(()));
        } else {
            assert_eq!(r, Err(Error::Truncated));
        }
        assert!(self.l.pending_output().is_empty(), "no alert on truncation");
        self.outcome.eof = Some(r);
        self.done = true;
    }
}

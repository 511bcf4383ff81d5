//! Two honest peers, a full handshake, and a hostile network.
//!
//! The input is a [`Schedule`]: the honest client and server send
//! messages, pings, key updates and closes, while the network between them
//! delivers bytes in arbitrary chunks and may reorder, duplicate, drop or
//! flip bytes in flight, or inject new ones. Whatever happens:
//! * each side delivers a prefix of what the other sent, in order, intact;
//! * if the bytes a side received differ from what its peer sent, that
//!   side fails (at once, or at EOF with `Error::Truncated`);
//! * if the network was honest, both sides deliver everything, with no error.

use arbitrary::{Arbitrary, Unstructured};
use lwsec::{Connection, Pattern, Suite};

use lwsec_test_support::honest;
use lwsec_test_support::peers::{self, NOW};

/// Which direction an operation concerns.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Dir {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

/// One step of the schedule.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// The sender of `dir` sends a message of `len % 70000` bytes (too large
    /// ones are refused locally).
    Send(Dir, u32),
    /// The sender of `dir` updates its keys.
    UpdateKeys(Dir, bool),
    /// The sender of `dir` sends a ping.
    Ping(Dir, u8),
    /// The sender of `dir` closes.
    Close(Dir),
    /// The network delivers up to `n` bytes in flight towards `dir`.
    Deliver(Dir, u16),
    /// Flip a bit of the bytes in flight.
    Flip(Dir, u16, u8),
    /// Insert bytes into the bytes in flight.
    Inject(Dir, u16, Vec<u8>),
    /// Drop a range of the bytes in flight.
    Drop(Dir, u16, u16),
    /// Duplicate a range of the bytes in flight.
    Duplicate(Dir, u16, u16),
    /// Swap two adjacent ranges of the bytes in flight.
    Swap(Dir, u16, u16, u16),
}

/// The whole input.
#[derive(Arbitrary, Debug)]
pub struct Schedule {
    /// IK instead of NK.
    pub ik: bool,
    /// The client prefers ChaCha20-Poly1305.
    pub chacha_first: bool,
    /// The server accepts only ChaCha20-Poly1305 (a Retry when the client
    /// prefers AES).
    pub server_chacha_only: bool,
    /// The steps.
    pub ops: Vec<Op>,
}

/// One side and what it has sent and received.
struct Peer {
    conn: Connection,
    /// Messages it sent successfully.
    sent: Vec<Vec<u8>>,
    /// Messages it delivered.
    delivered: Vec<Vec<u8>>,
    /// Every byte its peer produced for it (the honest stream).
    honest_in: Vec<u8>,
    /// Every byte it was actually offered and consumed.
    fed: Vec<u8>,
    /// Bytes in flight towards it.
    in_flight: Vec<u8>,
}

impl Peer {
    fn new(conn: Connection) -> Self {
        Self {
            conn,
            sent: Vec::new(),
            delivered: Vec::new(),
            honest_in: Vec::new(),
            fed: Vec::new(),
            in_flight: Vec::new(),
        }
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    if let Ok(schedule) = Schedule::arbitrary_take_rest(Unstructured::new(data)) {
        let _ = run_schedule(&schedule);
    }
}

/// Moves `from`'s output onto the wire towards `to`.
fn transmit(from: &mut Peer, to: &mut Peer) {
    let out = from.conn.pending_output().to_vec();
    from.conn.consume_output(out.len());
    to.honest_in.extend_from_slice(&out);
    to.in_flight.extend_from_slice(&out);
}

/// Offers up to `max` bytes in flight to `to`.
fn deliver(to: &mut Peer, max: usize) {
    if to.conn.error().is_some() {
        return;
    }
    let take = max.min(to.in_flight.len());
    let mut offered = 0;
    while offered < take {
        let chunk = &to.in_flight[offered..take];
        let result = to.conn.handle_input(chunk, NOW);
        if peers::server_after_input(&mut to.conn, NOW).is_err() {
            break;
        }
        while let Some(m) = to.conn.recv_message() {
            to.delivered.push(m.to_vec());
        }
        match result {
            Ok(n) => {
                to.fed.extend_from_slice(&chunk[..n]);
                offered += n;
                if n == 0 {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    to.in_flight.drain(..offered);
}

fn range(len: usize, at: u16, n: u16) -> std::ops::Range<usize> {
    let start = usize::from(at) % (len + 1);
    let end = (start + usize::from(n)).min(len);
    start..end
}

/// What happened, for tests of the target itself.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Messages delivered by the client and by the server.
    pub delivered: [usize; 2],
    /// Whether the client and the server failed.
    pub failed: [bool; 2],
}

/// Runs one schedule, checks it and returns what happened.
pub fn run_schedule(schedule: &Schedule) -> Outcome {
    let pattern = if schedule.ik {
        Pattern::Ik
    } else {
        Pattern::Nk
    };
    let suites = if schedule.chacha_first {
        [Suite::ChaCha20Poly1305, Suite::Aes256Gcm]
    } else {
        [Suite::Aes256Gcm, Suite::ChaCha20Poly1305]
    };
    let client = Connection::client(peers::client_config(pattern, &suites, b"peers"), NOW).unwrap();
    let mut server_cfg = (*peers::server_config(b"peers")).clone();
    if schedule.server_chacha_only {
        server_cfg.suites = vec![Suite::ChaCha20Poly1305];
    }
    let server = Connection::server(std::sync::Arc::new(server_cfg), NOW).unwrap();
    let mut peers = [Peer::new(client), Peer::new(server)];
    let mut count = 0usize;

    for op in schedule.ops.iter().take(200) {
        let (sender, _receiver) = match op {
            Op::Send(d, _) | Op::UpdateKeys(d, _) | Op::Ping(d, _) | Op::Close(d) => match d {
                Dir::ToServer => (0, 1),
                Dir::ToClient => (1, 0),
            },
            Op::Deliver(d, _)
            | Op::Flip(d, ..)
            | Op::Inject(d, ..)
            | Op::Drop(d, ..)
            | Op::Duplicate(d, ..)
            | Op::Swap(d, ..) => match d {
                Dir::ToServer => (0, 1),
                Dir::ToClient => (1, 0),
            },
        };
        let [a, b] = &mut peers;
        let (from, to) = if sender == 0 { (a, b) } else { (b, a) };
        match op {
            Op::Send(_, len) => {
                let len = (*len % 70_000) as usize;
                let message = honest::honest_message(count, len);
                count += 1;
                if from.conn.send_message(&message).is_ok() {
                    from.sent.push(message);
                }
            }
            Op::UpdateKeys(_, request) => {
                let _ = from.conn.update_keys(*request);
            }
            Op::Ping(_, len) => {
                let _ = from.conn.ping(&vec![*len; usize::from(*len % 65)]);
            }
            Op::Close(_) => {
                let _ = from.conn.close();
            }
            Op::Deliver(_, max) => {
                transmit(from, to);
                deliver(to, usize::from(*max));
            }
            Op::Flip(_, at, bit) => {
                let len = to.in_flight.len();
                if len > 0 {
                    to.in_flight[usize::from(*at) % len] ^= 1 << (bit % 8);
                }
            }
            Op::Inject(_, at, bytes) => {
                let at = usize::from(*at) % (to.in_flight.len() + 1);
                to.in_flight.splice(at..at, bytes.iter().copied());
            }
            Op::Drop(_, at, n) => {
                let r = range(to.in_flight.len(), *at, *n);
                to.in_flight.drain(r);
            }
            Op::Duplicate(_, at, n) => {
                let r = range(to.in_flight.len(), *at, *n);
                let copy = to.in_flight[r.clone()].to_vec();
                to.in_flight.splice(r.end..r.end, copy);
            }
            Op::Swap(_, at, n, m) => {
                let first = range(to.in_flight.len(), *at, *n);
                let second = range(to.in_flight.len(), first.end as u16, *m);
                let second = first.end..second.end.max(first.end);
                let mut swapped = to.in_flight[second.clone()].to_vec();
                swapped.extend_from_slice(&to.in_flight[first.clone()]);
                to.in_flight.splice(first.start..second.end, swapped);
            }
        }
        check_prefixes(&peers);
    }

    // Let the network deliver everything still in flight, honestly.
    for _ in 0..64 {
        let [a, b] = &mut peers;
        transmit(a, b);
        deliver(b, usize::MAX);
        transmit(b, a);
        deliver(a, usize::MAX);
        if peers
            .iter()
            .all(|p| p.in_flight.is_empty() && !p.conn.wants_write())
        {
            break;
        }
    }
    check_prefixes(&peers);

    let honest = peers
        .iter()
        .all(|p| p.fed == p.honest_in && p.in_flight.is_empty());
    for (i, p) in peers.iter_mut().enumerate() {
        if p.fed != p.honest_in && p.conn.error().is_none() {
            // It consumed bytes its peer never sent, or missed some: it must
            // fail, at the latest at EOF.
            assert!(
                p.conn.handle_eof().is_err(),
                "side {i} accepted tampered bytes"
            );
        }
    }
    if honest {
        for p in &peers {
            assert!(
                p.conn.error().is_none(),
                "honest network, error {:?}",
                p.conn.error()
            );
        }
        let [a, b] = &peers;
        assert_eq!(a.sent.len(), b.delivered.len(), "server lost messages");
        assert_eq!(b.sent.len(), a.delivered.len(), "client lost messages");
    }
    let [a, b] = &peers;
    Outcome {
        delivered: [a.delivered.len(), b.delivered.len()],
        failed: [a.conn.error().is_some(), b.conn.error().is_some()],
    }
}

fn check_prefixes(peers: &[Peer; 2]) {
    let [a, b] = peers;
    for (sender, receiver) in [(a, b), (b, a)] {
        assert!(
            receiver.delivered.len() <= sender.sent.len(),
            "delivered more than sent"
        );
        for (d, s) in receiver.delivered.iter().zip(&sender.sent) {
            assert!(d == s, "delivered a message that differs from the one sent");
        }
    }
}

//! Shared helpers for the fuzz targets and the tests that replay their
//! corpora: fixed keys, deterministic configurations, honest peers and a
//! receive loop that checks what a connection delivers.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use lwsec::rng::{DeterministicRandom, SecureRandom};
use lwsec::{
    Acceptance, ClientConfig, ClientHello, Connection, Error, Padding, Pattern, Rejection,
    ServerConfig, Side, StaticKeyPair, Suite, Time, TransportConfig,
};

/// The only time the targets use: the core never reads a clock.
pub const NOW: Time = Time::from_millis(0);
/// A small maximum message size so that limits are reached quickly.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Fixed Noise `Split()` keys for connections built without a handshake.
pub const K1: [u8; 32] = [0x31; 32];
/// See [`K1`].
pub const K2: [u8; 32] = [0x32; 32];

/// The server's fixed static key.
pub fn server_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x11; 32])
}

/// The IK client's fixed device key.
pub fn client_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x22; 32])
}

/// Transport settings used by the targets.
pub fn transport(padding: Padding) -> TransportConfig {
    let mut t = TransportConfig::default();
    t.max_message_size = MAX_MESSAGE;
    t.padding = padding;
    t
}

/// A padding policy chosen by one byte.
pub fn padding_from(byte: u8) -> Padding {
    match byte % 4 {
        0 | 1 => Padding::None,
        2 => Padding::MultipleOf(u16::from(byte >> 2).max(1)),
        _ => Padding::Buckets(vec![32, 256, 4096]),
    }
}

/// A suite chosen by one bit.
pub fn suite_from(bit: bool) -> Suite {
    if bit {
        Suite::ChaCha20Poly1305
    } else {
        Suite::Aes256Gcm
    }
}

/// A deterministic client configuration (its ephemeral key depends on `seed`).
pub fn client_config(pattern: Pattern, suites: &[Suite], seed: &[u8]) -> Arc<ClientConfig> {
    let mut cfg = match pattern {
        Pattern::Ik => ClientConfig::ik(server_key().public_key(), client_key()),
        _ => ClientConfig::nk(server_key().public_key()),
    };
    cfg.suites = suites.to_vec();
    cfg.transport = transport(Padding::None);
    cfg.rng = Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        &[b"client ", seed].concat(),
    ));
    Arc::new(cfg)
}

/// A deterministic server configuration accepting both patterns and suites.
pub fn server_config(seed: &[u8]) -> Arc<ServerConfig> {
    let mut cfg = ServerConfig::new(server_key());
    cfg.transport = transport(Padding::None);
    cfg.rng = Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        &[b"server ", seed].concat(),
    ));
    Arc::new(cfg)
}

/// An established (client, server) pair built from fixed split keys: no
/// Diffie-Hellman, so it is cheap to build on every fuzz input.
pub fn split_pair(suite: Suite, padding: Padding) -> (Connection, Connection) {
    let make = |side| {
        Connection::dangerous_from_noise_split(
            lwsec::NoiseSplit::new(side, Pattern::Nk, suite, &K1, &K2, [0x33; 32]),
            transport(padding.clone()),
            NOW,
        )
        .unwrap()
    };
    (make(Side::Client), make(Side::Server))
}

/// Moves all pending output of `from` into `to` until both are quiet.
/// Returns an error if `to` fails.
pub fn shuttle(from: &mut Connection, to: &mut Connection) -> Result<(), Error> {
    loop {
        let out = from.pending_output();
        if out.is_empty() {
            return Ok(());
        }
        let n = to.handle_input(out, NOW)?;
        from.consume_output(n);
        server_after_input(to, NOW)?;
        while to.recv_message().is_some() {}
        if n == 0 {
            return Ok(());
        }
    }
}

/// Runs a full handshake between two honest peers (through a Retry if the
/// server sends one).
pub fn handshake(client: &mut Connection, server: &mut Connection) {
    while client.is_handshaking() {
        let hello = client.pending_output().to_vec();
        client.consume_output(hello.len());
        let reply = server_read_client_hello(server, &hello, NOW).unwrap();
        assert_eq!(client.handle_input(&reply, NOW), Ok(reply.len()));
    }
    server_finish(server, client, NOW).unwrap();
    assert!(client.is_established() && server_is_established(server));
}

// ----- driving an lwsec server -----
//
// Every place where a target drives an lwsec server through its handshake,
// or asks whether it is established, goes through these functions, so that
// a change of the server's handshake API is adapted here once:
// `server_read_client_hello` and `server_finish` where a target drives the
// handshake step by step, `server_after_input` after every input a generic
// loop gives a server, `server_is_established` for the state.
//
// The server pauses after message 1 (spec 4.3 step 8) with a
// `ClientHello` view and waits for `accept_client` or `reject_client`; it
// reports the client as authenticated only after the client's key
// confirmation, its first record (spec 4.10).

/// Feeds one whole ClientHello frame to a server waiting for one, accepts
/// the client at the decision point (no identity, early data refused) and
/// returns what the server answers: a Retry frame, or the ServerHello frame.
/// On failure the server's pending output (its cleartext alert) is left in
/// place.
pub fn server_read_client_hello(
    server: &mut Connection,
    hello: &[u8],
    now: Time,
) -> Result<Vec<u8>, Error> {
    server_read_client_hello_with(server, hello, now, |_| Ok(Acceptance::new()))
}

/// Like [`server_read_client_hello`], with the decision made by `decide`
/// from the server's view of message 1 (`Err` rejects the client).
pub fn server_read_client_hello_with(
    server: &mut Connection,
    hello: &[u8],
    now: Time,
    decide: impl FnOnce(&ClientHello) -> Result<Acceptance, Rejection>,
) -> Result<Vec<u8>, Error> {
    let n = server.handle_input(hello, now)?;
    assert_eq!(
        n,
        hello.len(),
        "the server did not take the whole ClientHello"
    );
    if let Some(view) = server.client_hello() {
        assert!(
            server.pending_output().is_empty(),
            "a server answered before its decision"
        );
        match decide(view) {
            Ok(acceptance) => server.accept_client(acceptance, now)?,
            Err(rejection) => return Err(server.reject_client(rejection)),
        }
    }
    let out = server.pending_output().to_vec();
    server.consume_output(out.len());
    Ok(out)
}

/// Completes a server whose ServerHello `client` has read: delivers what the
/// client sent after it (its key confirmation record, spec 4.10), after
/// which the server treats the client as authenticated.
pub fn server_finish(
    server: &mut Connection,
    client: &mut Connection,
    now: Time,
) -> Result<(), Error> {
    let out = client.pending_output().to_vec();
    client.consume_output(out.len());
    if !out.is_empty() {
        let n = server.handle_input(&out, now)?;
        assert_eq!(n, out.len(), "the server did not take the client's flight");
    }
    Ok(())
}

/// Called after every input a generic loop (bytes in any chunks, not a
/// handshake driven step by step) gives a connection: a server paused at its
/// decision point is accepted here (no identity, early data refused);
/// anything else is left as it is.
pub fn server_after_input(conn: &mut Connection, now: Time) -> Result<(), Error> {
    if conn.client_hello().is_some() {
        conn.accept_client(Acceptance::new(), now)?;
    }
    Ok(())
}

/// Whether a server has completed its handshake (the client's key
/// confirmation arrived).
pub fn server_is_established(server: &Connection) -> bool {
    server.is_established()
}

// ----- fuzz input and injected randomness -----

/// Randomness that yields the given bytes, then fails: exact ephemeral keys
/// for lwsec connections (each ephemeral key takes 32 bytes).
#[derive(Debug)]
pub struct ReplayRandom(Mutex<VecDeque<u8>>);

impl ReplayRandom {
    /// Yields `bytes`, then fails with [`Error::Rng`].
    pub fn new(bytes: &[u8]) -> Self {
        Self(Mutex::new(bytes.iter().copied().collect()))
    }

    /// How many bytes are left to yield.
    pub fn remaining(&self) -> usize {
        self.0.lock().map_or(0, |q| q.len())
    }
}

impl SecureRandom for ReplayRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        let mut queue = self.0.lock().map_err(|_| Error::Rng)?;
        if queue.len() < dest.len() {
            return Err(Error::Rng);
        }
        for b in dest.iter_mut() {
            *b = queue.pop_front().ok_or(Error::Rng)?;
        }
        Ok(())
    }
}

/// A cursor over a fuzz input that reads zeros once the input is
/// exhausted, so that every prefix of an input (and of a seed) is valid.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// Whether the input is exhausted.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// The next `N` bytes, XORed with `mask` (so that an exhausted input
    /// still gives distinct keys per role).
    pub fn array<const N: usize>(&mut self, mask: u8) -> [u8; N] {
        std::array::from_fn(|_| self.u8() ^ mask)
    }

    /// The next `n` bytes (zero-filled past the end).
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let take = n.min(self.data.len());
        let (head, rest) = self.data.split_at(take);
        self.data = rest;
        let mut v = head.to_vec();
        v.resize(n, 0);
        v
    }
}

/// The `i`-th message an honest peer sends in the targets: its content is
/// a function of `i` and `len` only, so a receiver can check it.
pub fn honest_message(i: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|j| (i.wrapping_mul(131) ^ j.wrapping_mul(7)) as u8)
        .collect()
}

/// Message lengths of the honest stream used by the record targets and seeds.
pub const HONEST_LENS: [usize; 5] = [0, 1, 100, 1000, 16390];

/// The bytes an honest sender of `side` writes after the handshake: the
/// messages of [`HONEST_LENS`], with a ping and a key update in between.
pub fn honest_stream(sender: &mut Connection) -> Vec<u8> {
    for (i, len) in HONEST_LENS.iter().enumerate() {
        sender.send_message(&honest_message(i, *len)).unwrap();
        if i == 2 {
            sender.ping(b"ping").unwrap();
            sender.update_keys(true).unwrap();
        }
    }
    let out = sender.pending_output().to_vec();
    sender.consume_output(out.len());
    out
}

/// Feeds `data` to `conn` (taking messages as they arrive, discarding its
/// output) and returns the messages delivered. Stops at the first error.
pub fn feed(
    conn: &mut Connection,
    data: &[u8],
    chunk: usize,
    delivered: &mut Vec<Vec<u8>>,
) -> Result<(), Error> {
    let chunk = chunk.max(1);
    let mut offset = 0;
    let mut stalls = 0;
    while offset < data.len() {
        let end = data.len().min(offset + chunk);
        let n = conn.handle_input(&data[offset..end], NOW);
        let decided = server_after_input(conn, NOW);
        while let Some(m) = conn.recv_message() {
            delivered.push(m.to_vec());
        }
        let out = conn.pending_output().len();
        conn.consume_output(out);
        let n = n?;
        decided?;
        assert!(n <= end - offset, "consumed more than offered");
        offset += n;
        stalls = if n == 0 { stalls + 1 } else { 0 };
        // Blocked although messages and output were taken: a real peer would hang.
        assert!(stalls < 2, "handle_input made no progress twice in a row");
    }
    Ok(())
}

/// Asserts that a failed connection keeps failing with the same error.
pub fn assert_sticky_error(conn: &mut Connection) {
    if let Some(err) = conn.error().cloned() {
        assert_eq!(conn.handle_input(b"\x17\x00\x00", NOW), Err(err.clone()));
        assert_eq!(conn.send_message(b"x"), Err(err.clone()));
        assert_eq!(conn.handle_eof(), Err(err.clone()));
    }
}

/// Asserts `delivered` is a prefix of the honest stream's messages.
pub fn assert_honest_prefix(delivered: &[Vec<u8>]) {
    assert!(
        delivered.len() <= HONEST_LENS.len(),
        "more messages than sent"
    );
    for (i, m) in delivered.iter().enumerate() {
        assert_eq!(m.len(), HONEST_LENS[i], "message {i} has the wrong length");
        assert!(
            *m == honest_message(i, HONEST_LENS[i]),
            "message {i} altered"
        );
    }
}

/// Like [`feed`], with chunk sizes taken in turn from `chunks` (0 counts as 1).
pub fn feed_chunks(
    conn: &mut Connection,
    data: &[u8],
    chunks: &[u16],
    delivered: &mut Vec<Vec<u8>>,
) -> Result<(), Error> {
    let mut offset = 0;
    let mut i = 0;
    while offset < data.len() {
        let size = chunks
            .get(i % chunks.len().max(1))
            .map_or(data.len(), |c| usize::from(*c).max(1));
        i += 1;
        let end = data.len().min(offset + size);
        feed(conn, &data[offset..end], size, delivered)?;
        offset = end;
    }
    Ok(())
}

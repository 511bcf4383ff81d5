//! Fixed peers for the fuzz targets and the tests that replay their
//! corpora: fixed keys, deterministic configurations, connection pairs,
//! and the functions every target drives an lwsec server through.

use std::sync::Arc;

use lwsec::rng::DeterministicRandom;
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

/// The ticket secret of [`server_config`]'s servers.
pub const TICKET_SECRET: [u8; 32] = [0x5e; 32];

/// A deterministic server configuration accepting both patterns and suites
/// and resuming sessions (ticket key [`TICKET_SECRET`]).
pub fn server_config(seed: &[u8]) -> Arc<ServerConfig> {
    let mut cfg = ServerConfig::new(server_key());
    cfg.enable_resumption(Arc::new(lwsec::TicketKeyring::new(lwsec::TicketKeys::new(
        TICKET_SECRET,
    ))));
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

//! The vector connections: their configurations, built from a vector's
//! parties with replayed ephemeral keys, and the steps every handshake flow
//! shares (delivering bytes, the server's decision, the key confirmation).

use std::sync::Arc;

use lwsec::early_data::StrikeRegister;
use lwsec::{
    Acceptance, ClientConfig, Connection, Event, Pattern, ServerConfig, StaticKeyPair, Time,
};

use super::FIXED_TIME;
use super::encoding::{suites_from_codes, unhex32};
use super::keys::{public_of, traffic_keys};
use super::model::{Parties, TrafficKeys};
use crate::replay_random::ReplayRandom;

/// Delivers `bytes` to `conn`, requiring all of them to be consumed.
pub(super) fn deliver(conn: &mut Connection, bytes: &[u8]) {
    let n = conn.handle_input(bytes, FIXED_TIME).unwrap();
    assert_eq!(n, bytes.len(), "not all input consumed");
}

/// Takes every byte `conn` has queued.
pub(super) fn take_output(conn: &mut Connection) -> Vec<u8> {
    let out = conn.pending_output().to_vec();
    conn.consume_output(out.len());
    out
}

/// The client of `parties` (NK or IK by `pattern`), whose RNG yields `rng`
/// and then fails.
pub(super) fn client_config(pattern: Pattern, parties: &Parties, rng: &[u8]) -> Arc<ClientConfig> {
    let server_key =
        lwsec::PublicKey::from_bytes(unhex32(&public_of(&parties.server_static_private)));
    let mut config = match pattern {
        Pattern::Nk => ClientConfig::nk(server_key),
        _ => ClientConfig::ik(
            server_key,
            StaticKeyPair::from_private_bytes(unhex32(
                parties.client_static_private.as_ref().unwrap(),
            )),
        ),
    };
    config.suites = suites_from_codes(&parties.client_suites);
    config.rng = Arc::new(ReplayRandom::new(rng));
    Arc::new(config)
}

/// The server of `parties`, whose RNG yields `rng` and then fails.
pub(super) fn server_config(parties: &Parties, rng: &[u8]) -> ServerConfig {
    let mut config = ServerConfig::new(StaticKeyPair::from_private_bytes(unhex32(
        &parties.server_static_private,
    )));
    config.suites = suites_from_codes(&parties.server_suites);
    config.rng = Arc::new(ReplayRandom::new(rng));
    config
}

/// Server side of the decision point, as an adapter answers it: accept, with
/// the early data fresh if `guard` says so (no guard: refused).
pub(super) fn decide(server: &mut Connection, guard: Option<&StrikeRegister>, now: Time) {
    let hello = server
        .client_hello()
        .expect("the server waits for a decision");
    let fresh = match (hello.early_data(), guard) {
        (Some(offer), Some(g)) if offer.needs_replay_check() => g.check(offer, now),
        _ => false,
    };
    server
        .accept_client(Acceptance::new().with_fresh_early_data(fresh), now)
        .unwrap();
    assert_eq!(server.poll_event(), Some(Event::ClientHello));
}

/// A strike register that started long before the fixed time.
pub(super) fn strike_register() -> StrikeRegister {
    StrikeRegister::new(100_000, Time::from_millis(0))
}

/// Takes the client's key confirmation (its first record) and delivers it
/// to the server, which then reports the handshake complete.
pub(super) fn confirm(client: &mut Connection, server: &mut Connection, now: Time) -> Vec<u8> {
    let confirm = take_output(client);
    assert_eq!(confirm.len(), 3 + 1 + 16, "one empty confirm record");
    assert!(server.is_awaiting_confirmation());
    assert_eq!(server.handle_input(&confirm, now), Ok(confirm.len()));
    confirm
}

/// Delivers the client's key confirmation, checks that both sides finished
/// with matching secrets and returns them with the confirmation record.
pub(super) fn finished_secrets(
    client: &mut Connection,
    server: &mut Connection,
    now: Time,
) -> ([u8; 32], TrafficKeys, TrafficKeys, Vec<u8>) {
    assert_eq!(client.poll_event(), Some(Event::HandshakeComplete));
    let confirm = confirm(client, server, now);
    assert!(server.is_established());
    assert_eq!(server.poll_event(), Some(Event::HandshakeComplete));
    let hash = client.handshake_hash().unwrap();
    assert_eq!(server.handshake_hash(), Some(hash));
    let c = client.dangerous_peek_secrets().unwrap();
    let s = server.dangerous_peek_secrets().unwrap();
    assert_eq!(c.send, s.recv);
    assert_eq!(c.recv, s.send);
    (hash, traffic_keys(&c.send), traffic_keys(&c.recv), confirm)
}

//! 0-RTT early data with replay protection, stateless cookies and server key
//! rotation (`spec/PROTOCOL.md` sections 4.5, 4.9 and 12).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lwsec::early_data::StrikeRegister;
use lwsec::rng::{DeterministicRandom, SecureRandom};
use lwsec::{
    Acceptance, AlertCode, ClientConfig, Connection, CookieReason, EarlyDataRefusal, Error, Event,
    Pattern, ServerConfig, ServerOptions, StaticKeyPair, Suite, Time,
};

const NOW: Time = Time::from_millis(1_700_000_000_000);

fn key(n: u8) -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([n; 32])
}

/// An RNG that counts how often the server draws an ephemeral key: a server
/// does DH work only after drawing one.
#[derive(Debug)]
struct CountingRng {
    inner: DeterministicRandom,
    calls: AtomicUsize,
}

impl SecureRandom for CountingRng {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.fill(dest)
    }
}

fn counting_rng() -> Arc<CountingRng> {
    Arc::new(CountingRng {
        inner: DeterministicRandom::dangerous_from_seed_for_testing_only(b"server"),
        calls: AtomicUsize::new(0),
    })
}

fn client_cfg(pattern: Pattern, seed: &str) -> Arc<ClientConfig> {
    let mut cfg = match pattern {
        Pattern::Nk => ClientConfig::nk(key(1).public_key()),
        _ => ClientConfig::ik(key(1).public_key(), key(2)),
    };
    cfg.rng = Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        seed.as_bytes(),
    ));
    Arc::new(cfg)
}

/// A server configuration that takes early data within 10 s.
fn early_server_cfg() -> Arc<ServerConfig> {
    let mut cfg = ServerConfig::new(key(1));
    cfg.enable_replayable_early_data(Duration::from_secs(10));
    Arc::new(cfg)
}

/// A strike register started long before `NOW`.
fn guard() -> Arc<StrikeRegister> {
    Arc::new(StrikeRegister::new(100_000, Time::from_millis(0)))
}

/// Delivers all of `from`'s output to `to`; returns whether anything moved.
/// A server waiting for a decision lets the client in, asking `GUARD` (a
/// register per test thread) about early data, as an adapter would.
fn flight(from: &mut Connection, to: &mut Connection, now: Time) -> Result<bool, Error> {
    flight_with(from, to, now, None)
}

fn flight_with(
    from: &mut Connection,
    to: &mut Connection,
    now: Time,
    guard: Option<&StrikeRegister>,
) -> Result<bool, Error> {
    let bytes = from.pending_output().to_vec();
    if bytes.is_empty() {
        return Ok(false);
    }
    let used = to.handle_input(&bytes, now)?;
    from.consume_output(used);
    if let Some(hello) = to.client_hello() {
        let fresh = match (hello.early_data(), guard) {
            (Some(offer), Some(g)) if offer.needs_replay_check() => g.check(offer, now),
            _ => false,
        };
        to.accept_client(Acceptance::new().with_fresh_early_data(fresh), now)?;
    }
    Ok(true)
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

#[test]
fn early_data_is_delivered_once_and_the_client_is_told() {
    for pattern in [Pattern::Nk, Pattern::Ik] {
        let server_cfg = early_server_cfg();
        let guard = guard();
        let mut client = Connection::client_with_replayable_early_data(
            client_cfg(pattern, "c"),
            NOW,
            b"GET /inbox",
        )
        .unwrap();
        let first_flight = client.pending_output().to_vec();
        let mut server = Connection::server(server_cfg.clone(), NOW).unwrap();
        flight_with(&mut client, &mut server, NOW, Some(&guard)).unwrap();
        // Delivered when the client is accepted, before it confirms: the
        // answer can go out in the same round trip.
        assert_eq!(
            events(&mut server),
            vec![
                Event::ClientHello,
                Event::EarlyData(b"GET /inbox"[..].into())
            ]
        );
        flight(&mut server, &mut client, NOW).unwrap();
        assert_eq!(
            events(&mut client),
            vec![Event::HandshakeComplete, Event::EarlyDataAccepted]
        );
        flight(&mut client, &mut server, NOW).unwrap();
        assert_eq!(events(&mut server), vec![Event::HandshakeComplete]);

        // An attacker replays the recorded first flight to the same server.
        let mut replayed = Connection::server(server_cfg, NOW).unwrap();
        replayed.handle_input(&first_flight, NOW).unwrap();
        let offer = *replayed.client_hello().unwrap().early_data().unwrap();
        assert!(offer.needs_replay_check(), "only the guard can tell");
        assert!(!guard.check(&offer, NOW), "the guard has seen it");
        replayed
            .accept_client(Acceptance::new().with_fresh_early_data(false), NOW)
            .unwrap();
        let evs = events(&mut replayed);
        assert!(
            !evs.iter().any(|e| matches!(e, Event::EarlyData(_))),
            "replay delivered: {evs:?}"
        );
    }
}

#[test]
fn early_data_is_off_by_default_and_rejected_visibly() {
    let mut client =
        Connection::client_with_replayable_early_data(client_cfg(Pattern::Nk, "c"), NOW, b"hi")
            .unwrap();
    let mut server = Connection::server(Arc::new(ServerConfig::new(key(1))), NOW).unwrap();
    client.pending_output();
    server.handle_input(client.pending_output(), NOW).unwrap();
    let offer = server
        .client_hello()
        .unwrap()
        .early_data()
        .copied()
        .unwrap();
    assert_eq!(offer.refused(), Some(EarlyDataRefusal::NotEnabled));
    // A "fresh" verdict cannot override the connection's own refusal.
    server
        .accept_client(Acceptance::new().with_fresh_early_data(true), NOW)
        .unwrap();
    client.consume_output(client.pending_output().len());
    assert_eq!(events(&mut server), vec![Event::ClientHello]);
    flight(&mut server, &mut client, NOW).unwrap();
    assert_eq!(
        events(&mut client),
        vec![Event::HandshakeComplete, Event::EarlyDataRejected]
    );
    // The handshake itself succeeded: the application can resend normally.
    client.send_message(b"hi").unwrap();
    flight(&mut client, &mut server, NOW).unwrap();
    assert_eq!(server.recv_message().as_deref(), Some(&b"hi"[..]));
}

#[test]
fn early_data_outside_the_window_is_rejected() {
    let server_cfg = early_server_cfg();
    let guard = guard();
    for skew in [-11_000i64, 11_000] {
        let client_now = Time::from_millis(NOW.as_millis().saturating_add_signed(skew));
        let mut client = Connection::client_with_replayable_early_data(
            client_cfg(Pattern::Nk, "skew"),
            client_now,
            b"late",
        )
        .unwrap();
        let mut server = Connection::server(server_cfg.clone(), NOW).unwrap();
        server.handle_input(client.pending_output(), NOW).unwrap();
        let offer = server
            .client_hello()
            .unwrap()
            .early_data()
            .copied()
            .unwrap();
        assert_eq!(offer.refused(), Some(EarlyDataRefusal::OutsideWindow));
        client.consume_output(client.pending_output().len());
        server
            .accept_client(Acceptance::new().with_fresh_early_data(true), NOW)
            .unwrap();
        assert_eq!(events(&mut server), vec![Event::ClientHello], "skew {skew}");
        flight(&mut server, &mut client, NOW).unwrap();
        assert!(events(&mut client).contains(&Event::EarlyDataRejected));
    }
    assert!(guard.is_empty());
}

#[test]
fn early_data_replay_ik_device_timestamps_must_increase() {
    let server_cfg = early_server_cfg();
    let guard = guard();
    let later = NOW.saturating_add(Duration::from_millis(1));
    // Three distinct flights (fresh ephemeral keys) from the same device.
    for (seed, ts, accepted) in [("a", later, true), ("b", later, false), ("c", NOW, false)] {
        let mut client =
            Connection::client_with_replayable_early_data(client_cfg(Pattern::Ik, seed), ts, b"x")
                .unwrap();
        let mut server = Connection::server(server_cfg.clone(), later).unwrap();
        flight_with(&mut client, &mut server, later, Some(&guard)).unwrap();
        let delivered = events(&mut server)
            .iter()
            .any(|e| matches!(e, Event::EarlyData(_)));
        assert_eq!(delivered, accepted, "flight {seed}");
    }
}

#[test]
fn early_data_is_never_sent_after_a_retry() {
    let mut s = ServerConfig::new(key(1));
    s.suites = vec![Suite::ChaCha20Poly1305];
    s.enable_replayable_early_data(Duration::from_secs(10));
    let guard = guard();
    let mut client =
        Connection::client_with_replayable_early_data(client_cfg(Pattern::Nk, "r"), NOW, b"sync")
            .unwrap();
    let mut server = Connection::server(Arc::new(s), NOW).unwrap();
    while flight_with(&mut client, &mut server, NOW, Some(&guard)).unwrap()
        | flight(&mut server, &mut client, NOW).unwrap()
    {}
    // The retried ClientHello carries no early data; the client reports it
    // as rejected so the application resends it as a message.
    assert!(
        !events(&mut server)
            .iter()
            .any(|e| matches!(e, Event::EarlyData(_)))
    );
    assert_eq!(
        events(&mut client),
        vec![Event::HandshakeComplete, Event::EarlyDataRejected]
    );
    assert_eq!(client.suite(), Some(Suite::ChaCha20Poly1305));
    assert!(guard.is_empty(), "no flight reached the guard");
}

#[test]
fn early_data_reconnect_round_trips_are_counted() {
    // How many one-way flights until the server application holds the
    // client's first request?
    let server_cfg = early_server_cfg();
    let guard = guard();
    let mut client =
        Connection::client_with_replayable_early_data(client_cfg(Pattern::Ik, "z"), NOW, b"req")
            .unwrap();
    let mut server = Connection::server(server_cfg.clone(), NOW).unwrap();
    flight_with(&mut client, &mut server, NOW, Some(&guard)).unwrap();
    let zero_rtt_flights = 1;
    assert!(events(&mut server).contains(&Event::EarlyData(b"req"[..].into())));

    let mut client = Connection::client(client_cfg(Pattern::Ik, "full"), NOW).unwrap();
    let mut server = Connection::server(server_cfg, NOW).unwrap();
    let (mut flights, mut sent) = (0, false);
    loop {
        if client.is_established() && server.recv_message().is_some() {
            break;
        }
        if client.is_established() && !sent {
            // Rides with the key confirmation record.
            client.send_message(b"req").unwrap();
            sent = true;
        }
        flights += usize::from(flight(&mut client, &mut server, NOW).unwrap());
        if server.recv_message().is_some() {
            break;
        }
        flights += usize::from(flight(&mut server, &mut client, NOW).unwrap());
    }
    // Full handshake: ClientHello, ServerHello, then the request (1.5 RTT);
    // with early data the request rides in the first flight (0.5 RTT).
    assert_eq!((zero_rtt_flights, flights), (1, 3));
}

fn cookie_server(address: &[u8], demand: bool, rng: Arc<CountingRng>) -> Connection {
    let mut cfg = ServerConfig::new(key(1));
    cfg.set_cookie_secret([7; 32]);
    cfg.rng = rng;
    let options = ServerOptions::for_peer_address(address).with_cookie_demanded(demand);
    Connection::server_with_options(Arc::new(cfg), NOW, options).unwrap()
}

#[test]
fn cookie_round_trip_completes_and_spoofed_flights_cost_no_dh() {
    let rng = counting_rng();
    // A flood of spoofed first flights: each gets a Retry, none a DH.
    for i in 0..100u8 {
        let mut client =
            Connection::client(client_cfg(Pattern::Nk, &format!("spoof{i}")), NOW).unwrap();
        let mut server = cookie_server(&[10, 0, 0, i], true, rng.clone());
        flight(&mut client, &mut server, NOW).unwrap();
        assert_eq!(server.pending_output()[0], 0x03, "a Retry");
        assert!(server.is_handshaking());
    }
    assert_eq!(
        rng.calls.load(Ordering::SeqCst),
        0,
        "no ephemeral key drawn, so no DH"
    );

    // An honest client answers the Retry from the same address and completes.
    let mut client = Connection::client(client_cfg(Pattern::Ik, "honest"), NOW).unwrap();
    let mut server = cookie_server(b"192.0.2.1:4000", true, rng.clone());
    while flight(&mut client, &mut server, NOW).unwrap()
        | flight(&mut server, &mut client, NOW).unwrap()
    {}
    assert!(client.is_established() && server.is_established());
    assert_eq!(
        rng.calls.load(Ordering::SeqCst),
        1,
        "one ephemeral for the real handshake"
    );
}

/// Runs a client up to its retried ClientHello under a cookie-demanding
/// server at `address`; returns the retried ClientHello bytes.
fn retried_client_hello(address: &[u8]) -> Vec<u8> {
    let mut client = Connection::client(client_cfg(Pattern::Nk, "cookie"), NOW).unwrap();
    let mut server = cookie_server(address, true, counting_rng());
    flight(&mut client, &mut server, NOW).unwrap();
    flight(&mut server, &mut client, NOW).unwrap();
    client.pending_output().to_vec()
}

#[test]
fn cookie_forged_expired_or_from_another_address_is_rejected() {
    let addr = b"192.0.2.1:4000";
    let hello = retried_client_hello(addr);
    // Accepted as is, at the same address, within the lifetime.
    let mut ok = cookie_server(addr, true, counting_rng());
    ok.handle_input(&hello, NOW).unwrap();
    assert!(ok.client_hello().is_some_and(|h| h.retry_echoed()));

    let mut other = cookie_server(b"198.51.100.9:4000", true, counting_rng());
    let err = other.handle_input(&hello, NOW).unwrap_err();
    assert!(matches!(err, Error::InvalidCookie(_)), "{err:?}");
    assert_eq!(other.pending_output(), &[0x15, 0, 1, 94]);

    let mut late = cookie_server(addr, true, counting_rng());
    let t = NOW.saturating_add(Duration::from_secs(31));
    assert_eq!(
        late.handle_input(&hello, t),
        Err(Error::InvalidCookie(CookieReason::Expired))
    );

    // Forge: flip a byte of the cookie's MAC (the last bytes of the header).
    let header_len = hello.len() - (32 + 16); // NK msg 1 = e (32) + empty payload tag (16)
    let mut forged = hello.clone();
    forged[header_len - 1] ^= 0x01;
    let mut server = cookie_server(addr, true, counting_rng());
    assert!(matches!(
        server.handle_input(&forged, NOW),
        Err(Error::InvalidCookie(_))
    ));
}

#[test]
fn cookie_required_but_missing_fails_the_retried_hello() {
    // A retried ClientHello that echoes a suite-only Retry reaches a server
    // that now demands cookies: it must not get DH work for free.
    let mut s = ServerConfig::new(key(1));
    s.suites = vec![Suite::ChaCha20Poly1305];
    let mut client = Connection::client(client_cfg(Pattern::Nk, "race"), NOW).unwrap();
    let mut relaxed = Connection::server(Arc::new(s.clone()), NOW).unwrap();
    flight(&mut client, &mut relaxed, NOW).unwrap();
    flight(&mut relaxed, &mut client, NOW).unwrap();
    let options = ServerOptions::new().with_cookie_demanded(true);
    let mut strict = Connection::server_with_options(Arc::new(s), NOW, options).unwrap();
    let retried = client.pending_output().to_vec();
    assert_eq!(
        strict.handle_input(&retried, NOW),
        Err(Error::InvalidCookie(CookieReason::Required))
    );
}

#[test]
fn rotation_keeps_connected_clients_and_refuses_the_retired_key() {
    let (old, new) = (key(1), key(9));
    let mut both = ServerConfig::new(new.clone());
    both.add_key(old.clone());
    // A client pinned to the old key connects during the overlap.
    let mut client = Connection::client(client_cfg(Pattern::Nk, "rot"), NOW).unwrap();
    let mut server = Connection::server(Arc::new(both.clone()), NOW).unwrap();
    flight(&mut client, &mut server, NOW).unwrap();
    flight(&mut server, &mut client, NOW).unwrap();
    assert!(client.is_established());

    // The operator retires the old key: new connections use the new config.
    let mut retired = both;
    assert!(retired.retire_key(&old.public_key()));
    let retired = Arc::new(retired);
    let mut stale = Connection::client(client_cfg(Pattern::Nk, "stale"), NOW).unwrap();
    let mut fresh_server = Connection::server(retired.clone(), NOW).unwrap();
    assert_eq!(
        flight(&mut stale, &mut fresh_server, NOW),
        Err(Error::UnknownServerKey)
    );
    // The stale client sees only an unauthenticated alert.
    assert_eq!(
        flight(&mut fresh_server, &mut stale, NOW),
        Err(Error::PeerAlert {
            code: AlertCode::UnknownServerKey,
            authenticated: false
        })
    );

    // A client pinned to the new key connects to the rotated server...
    let mut updated_cfg = ClientConfig::nk(new.public_key());
    updated_cfg.rng = Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        b"u",
    ));
    let mut updated = Connection::client(Arc::new(updated_cfg), NOW).unwrap();
    let mut server2 = Connection::server(retired, NOW).unwrap();
    flight(&mut updated, &mut server2, NOW).unwrap();
    flight(&mut server2, &mut updated, NOW).unwrap();
    assert!(updated.is_established());

    // ...and the connection made with the old key was never dropped.
    client.send_message(b"still here").unwrap();
    flight(&mut client, &mut server, NOW).unwrap();
    assert_eq!(server.recv_message().as_deref(), Some(&b"still here"[..]));
}

//! Behaviour of the sans-IO connection, driven in memory on a virtual clock.

use std::sync::Arc;
use std::time::Duration;

use lwsec::rng::DeterministicRandom;
use lwsec::{
    Acceptance, AlertCode, ClientConfig, Connection, Error, Event, Identity, Padding, Pattern,
    Rejection, ServerConfig, StaticKeyPair, Suite, Time,
};

const T0: Time = Time::from_millis(1_000);

fn key(n: u8) -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([n; 32])
}

fn rng(seed: &str) -> Arc<DeterministicRandom> {
    Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        seed.as_bytes(),
    ))
}

fn client_cfg(pattern: Pattern, server: &StaticKeyPair) -> ClientConfig {
    let mut cfg = match pattern {
        Pattern::Nk => ClientConfig::nk(server.public_key()),
        _ => ClientConfig::ik(server.public_key(), key(2)),
    };
    cfg.rng = rng("client");
    cfg
}

fn server_cfg(server: StaticKeyPair) -> ServerConfig {
    let mut cfg = ServerConfig::new(server);
    cfg.rng = rng("server");
    cfg
}

/// Moves all pending output of `from` into `to`, in chunks of `chunk` bytes.
fn pump(from: &mut Connection, to: &mut Connection, chunk: usize) -> Result<(), Error> {
    while from.wants_write() {
        let out = from.pending_output();
        let n = out.len().min(chunk);
        let used = to.handle_input(&out[..n], T0)?;
        from.consume_output(used);
        if used == 0 {
            break;
        }
    }
    Ok(())
}

/// Runs the handshake; the server lets the client in with no identity.
fn handshake(client: &mut Connection, server: &mut Connection) -> Result<(), Error> {
    for _ in 0..4 {
        pump(client, server, usize::MAX)?;
        if server.client_hello().is_some() {
            server.accept_client(Acceptance::new(), T0)?;
        }
        pump(server, client, usize::MAX)?;
    }
    Ok(())
}

/// A cleartext alert as the receiver of `code` reports it.
fn cleartext(code: AlertCode) -> Error {
    Error::PeerAlert {
        code,
        authenticated: false,
    }
}

fn pair(pattern: Pattern, suite: Suite) -> (Connection, Connection) {
    let server_key = key(1);
    let mut c = client_cfg(pattern, &server_key);
    c.suites = vec![suite];
    let mut s = server_cfg(server_key);
    s.suites = vec![suite];
    let mut client = Connection::client(Arc::new(c), T0).unwrap();
    let mut server = Connection::server(Arc::new(s), T0).unwrap();
    handshake(&mut client, &mut server).unwrap();
    (client, server)
}

fn drain_events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

#[test]
fn every_pattern_and_suite_completes_and_agrees() {
    for pattern in [Pattern::Nk, Pattern::Ik] {
        for suite in Suite::ALL {
            let (mut client, mut server) = pair(pattern, suite);
            assert!(client.is_established() && server.is_established());
            assert_eq!(client.suite(), Some(suite));
            assert_eq!(server.pattern(), Some(pattern));
            assert_eq!(client.handshake_hash(), server.handshake_hash());
            assert_eq!(client.peer_static_key(), Some(key(1).public_key()));
            let expected_client_key = (pattern == Pattern::Ik).then(|| key(2).public_key());
            assert_eq!(server.peer_static_key(), expected_client_key);
            assert_eq!(drain_events(&mut client), vec![Event::HandshakeComplete]);
            assert_eq!(
                drain_events(&mut server),
                vec![Event::ClientHello, Event::HandshakeComplete]
            );
            let (mut a, mut b) = ([0u8; 40], [0u8; 40]);
            client
                .export_keying_material(b"app", b"ctx", &mut a)
                .unwrap();
            server
                .export_keying_material(b"app", b"ctx", &mut b)
                .unwrap();
            assert_eq!(a, b);
            server
                .export_keying_material(b"app", b"other", &mut b)
                .unwrap();
            assert_ne!(a, b);
        }
    }
}

#[test]
fn messages_of_every_size_round_trip_one_byte_at_a_time() {
    let (mut client, mut server) = pair(Pattern::Ik, Suite::ChaCha20Poly1305);
    let sizes = [0usize, 1, 100, 16383, 16384, 16385, 40_000];
    for &size in &sizes {
        let msg: Vec<u8> = (0..size).map(|i| (i * 7 + size) as u8).collect();
        client.send_message(&msg).unwrap();
        pump(
            &mut client,
            &mut server,
            if size < 20_000 { 1 } else { 997 },
        )
        .unwrap();
        assert_eq!(
            server.recv_message().as_deref(),
            Some(&msg[..]),
            "size {size}"
        );
        assert_eq!(server.recv_message(), None);
    }
}

#[test]
fn stream_view_reads_across_message_boundaries() {
    let (mut client, mut server) = pair(Pattern::Nk, Suite::Aes256Gcm);
    client.send_message(b"hello ").unwrap();
    client.send_message(b"world").unwrap();
    pump(&mut client, &mut server, usize::MAX).unwrap();
    let mut buf = [0u8; 4];
    let mut got = Vec::new();
    loop {
        let n = server.read(&mut buf);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"hello world");
}

#[test]
fn suite_mismatch_triggers_one_retry_bound_into_the_handshake() {
    let server_key = key(1);
    let mut c = client_cfg(Pattern::Nk, &server_key);
    c.suites = vec![Suite::Aes256Gcm, Suite::ChaCha20Poly1305];
    let mut s = server_cfg(server_key);
    s.suites = vec![Suite::ChaCha20Poly1305];
    let mut client = Connection::client(Arc::new(c), T0).unwrap();
    let mut server = Connection::server(Arc::new(s), T0).unwrap();
    pump(&mut client, &mut server, usize::MAX).unwrap();
    // The server answered with a Retry frame and kept no handshake.
    assert_eq!(server.pending_output()[0], 0x03);
    assert!(server.is_handshaking());
    handshake(&mut client, &mut server).unwrap();
    assert_eq!(client.suite(), Some(Suite::ChaCha20Poly1305));
    assert_eq!(server.suite(), Some(Suite::ChaCha20Poly1305));
}

#[test]
fn no_common_suite_is_reported_to_both_sides() {
    let server_key = key(1);
    let mut c = client_cfg(Pattern::Nk, &server_key);
    c.suites = vec![Suite::Aes256Gcm];
    let mut s = server_cfg(server_key);
    s.suites = vec![Suite::ChaCha20Poly1305];
    let mut client = Connection::client(Arc::new(c), T0).unwrap();
    let mut server = Connection::server(Arc::new(s), T0).unwrap();
    assert_eq!(
        pump(&mut client, &mut server, usize::MAX),
        Err(Error::NoCommonSuite)
    );
    assert_eq!(server.pending_output(), &[0x15, 0, 1, 40]);
    assert_eq!(
        pump(&mut server, &mut client, usize::MAX),
        Err(cleartext(AlertCode::HandshakeFailure))
    );
    // A failed connection keeps failing with the same error and queues nothing more.
    let queued = client.pending_output().len();
    assert_eq!(
        client.send_message(b"x"),
        Err(cleartext(AlertCode::HandshakeFailure))
    );
    assert_eq!(
        client.handle_input(&[0x17, 0, 0], T0),
        Err(cleartext(AlertCode::HandshakeFailure))
    );
    assert_eq!(client.pending_output().len(), queued);
}

#[test]
fn rotation_server_accepts_old_and_new_keys_and_rejects_retired() {
    let (old, new) = (key(10), key(11));
    let mut s = server_cfg(new.clone());
    s.add_key(old.clone());
    let s = Arc::new(s);
    for pinned in [&old, &new] {
        let mut client = Connection::client(Arc::new(client_cfg(Pattern::Nk, pinned)), T0).unwrap();
        let mut server = Connection::server(s.clone(), T0).unwrap();
        handshake(&mut client, &mut server).unwrap();
        assert_eq!(client.peer_static_key(), Some(pinned.public_key()));
    }
    let mut retired = (*s).clone();
    assert!(retired.retire_key(&old.public_key()));
    let mut client = Connection::client(Arc::new(client_cfg(Pattern::Nk, &old)), T0).unwrap();
    let mut server = Connection::server(Arc::new(retired), T0).unwrap();
    assert_eq!(
        pump(&mut client, &mut server, usize::MAX),
        Err(Error::UnknownServerKey)
    );
    // The client learns only that a cleartext alert arrived: it cannot
    // tell a real retirement from an attacker's forgery.
    let err = pump(&mut server, &mut client, usize::MAX).unwrap_err();
    assert_eq!(err, cleartext(AlertCode::UnknownServerKey));
    assert!(err.to_string().contains("unauthenticated"), "{err}");
}

#[test]
fn the_server_decides_on_the_claimed_client_key_and_reports_it_once_confirmed() {
    let server_key = key(1);
    let s = Arc::new(server_cfg(server_key.clone()));
    let mut client =
        Connection::client(Arc::new(client_cfg(Pattern::Ik, &server_key)), T0).unwrap();
    let mut server = Connection::server(s.clone(), T0).unwrap();
    pump(&mut client, &mut server, usize::MAX).unwrap();
    // Paused at the decision: nothing sent, nothing authenticated yet.
    assert_eq!(server.poll_event(), Some(Event::ClientHello));
    let hello = server.client_hello().unwrap().clone();
    assert_eq!(hello.claimed_client_key(), Some(key(2).public_key()));
    assert_eq!(hello.pattern(), Pattern::Ik);
    assert!(!server.wants_write() && server.peer_static_key().is_none());
    assert!(server.is_handshaking());
    let alice = Identity::new(&b"alice/phone"[..]).unwrap();
    server
        .accept_client(Acceptance::new().with_identity(alice.clone()), T0)
        .unwrap();
    assert!(server.is_awaiting_confirmation());
    // 0.5-RTT: the server may send before the client confirms...
    server.send_message(b"hello early").unwrap();
    // ...but reports no peer until the confirmation record arrives.
    assert_eq!(server.peer_static_key(), None);
    assert_eq!(server.peer_identity(), None);
    pump(&mut server, &mut client, usize::MAX).unwrap();
    assert_eq!(client.recv_message().as_deref(), Some(&b"hello early"[..]));
    pump(&mut client, &mut server, usize::MAX).unwrap();
    assert!(server.is_established());
    assert_eq!(server.poll_event(), Some(Event::HandshakeComplete));
    assert_eq!(server.peer_static_key(), Some(key(2).public_key()));
    assert_eq!(server.peer_identity(), Some(&alice));

    let mut other = ClientConfig::ik(server_key.public_key(), key(3));
    other.rng = rng("other");
    let mut client = Connection::client(Arc::new(other), T0).unwrap();
    let mut server = Connection::server(s, T0).unwrap();
    pump(&mut client, &mut server, usize::MAX).unwrap();
    assert_eq!(
        server.reject_client(Rejection::NotAuthorized),
        Error::ClientRejected(Rejection::NotAuthorized)
    );
    assert_eq!(
        server.error(),
        Some(&Error::ClientRejected(Rejection::NotAuthorized))
    );
    assert_eq!(
        pump(&mut server, &mut client, usize::MAX),
        Err(cleartext(AlertCode::ClientRejected))
    );
}

#[test]
fn a_decision_without_a_pending_client_changes_nothing() {
    let (mut client, mut server) = pair(Pattern::Nk, Suite::Aes256Gcm);
    assert_eq!(
        server.accept_client(Acceptance::new(), T0),
        Err(Error::HandshakeNotComplete)
    );
    assert_eq!(
        client.reject_client(Rejection::NotAuthorized),
        Error::HandshakeNotComplete
    );
    assert!(client.is_established() && server.is_established());
}

#[test]
fn server_can_refuse_a_pattern() {
    let server_key = key(1);
    let mut s = server_cfg(server_key.clone());
    s.patterns = vec![Pattern::Ik];
    let mut client =
        Connection::client(Arc::new(client_cfg(Pattern::Nk, &server_key)), T0).unwrap();
    let mut server = Connection::server(Arc::new(s), T0).unwrap();
    assert_eq!(
        pump(&mut client, &mut server, usize::MAX),
        Err(Error::UnsupportedPattern)
    );
}

#[test]
fn secrets_leave_a_connection_only_when_enabled_and_the_connection_goes_with_them() {
    // Off by default: no keys leave the connection.
    let (client, _) = pair(Pattern::Nk, Suite::Aes256Gcm);
    assert!(matches!(
        client.dangerous_extract_secrets(),
        Err(Error::InvalidConfig(_))
    ));
    // Before the handshake: nothing to hand over.
    let server_key = key(1);
    let mut c = client_cfg(Pattern::Nk, &server_key);
    c.transport.enable_secret_extraction = true;
    let fresh = Connection::client(Arc::new(c.clone()), T0).unwrap();
    assert_eq!(
        fresh.dangerous_extract_secrets().unwrap_err(),
        Error::HandshakeNotComplete
    );
    // Enabled: the keys and sequence numbers the peer receives with.
    let mut client = Connection::client(Arc::new(c), T0).unwrap();
    let mut server = Connection::server(Arc::new(server_cfg(server_key)), T0).unwrap();
    handshake(&mut client, &mut server).unwrap();
    client.send_message(b"one record").unwrap();
    pump(&mut client, &mut server, usize::MAX).unwrap();
    let server_view = server.dangerous_peek_secrets().unwrap();
    let extracted = client.dangerous_extract_secrets().unwrap();
    assert_eq!(extracted.send, server_view.recv);
    assert_eq!(extracted.recv, server_view.send);
    assert_eq!(extracted.send.seq, 2); // the confirm record and the message
}

#[test]
fn key_updates_on_request_and_automatically() {
    let (mut client, mut server) = pair(Pattern::Nk, Suite::Aes256Gcm);
    drain_events(&mut server);
    // The server's keys protect something, so a request is answered.
    server.send_message(b"hello").unwrap();
    pump(&mut server, &mut client, usize::MAX).unwrap();
    let before = client.dangerous_peek_secrets().unwrap();
    client.update_keys(true).unwrap();
    client.send_message(b"after update").unwrap();
    pump(&mut client, &mut server, usize::MAX).unwrap();
    assert_eq!(server.recv_message().as_deref(), Some(&b"after update"[..]));
    assert_eq!(drain_events(&mut server), vec![Event::KeyUpdated]);
    // The server answered the request with its own update.
    pump(&mut server, &mut client, usize::MAX).unwrap();
    assert!(drain_events(&mut client).contains(&Event::KeyUpdated));
    let after = client.dangerous_peek_secrets().unwrap();
    assert_ne!(before.send.secret, after.send.secret);
    assert_ne!(before.recv.secret, after.recv.secret);
    assert_eq!(after.send, server.dangerous_peek_secrets().unwrap().recv);

    // Automatic: with a limit of 3 records per key, 10 messages cause updates.
    let server_key = key(1);
    let mut c = client_cfg(Pattern::Nk, &server_key);
    c.transport.key_update_after_records = 3;
    let mut client = Connection::client(Arc::new(c), T0).unwrap();
    let mut server = Connection::server(Arc::new(server_cfg(server_key)), T0).unwrap();
    handshake(&mut client, &mut server).unwrap();
    drain_events(&mut server);
    for i in 0..10u8 {
        client.send_message(&[i; 10]).unwrap();
        assert!(client.dangerous_peek_secrets().unwrap().send.seq <= 3);
    }
    pump(&mut client, &mut server, usize::MAX).unwrap();
    for i in 0..10u8 {
        assert_eq!(server.recv_message().as_deref(), Some(&[i; 10][..]));
    }
    let updates = drain_events(&mut server)
        .iter()
        .filter(|e| **e == Event::KeyUpdated)
        .count();
    assert_eq!(updates, 3);
}

/// Issue 12, item 12: each 21-byte update_requested record used to cost
/// the server a key derivation and a reflected key_update record. Requests
/// are now coalesced (spec section 8): keys that protected nothing since
/// the last update are not updated again.
#[test]
fn key_update_requests_are_coalesced() {
    let (mut client, mut server) = pair(Pattern::Nk, Suite::ChaCha20Poly1305);
    server.send_message(b"used").unwrap();
    pump(&mut server, &mut client, usize::MAX).unwrap();
    assert_eq!(client.recv_message().as_deref(), Some(&b"used"[..]));
    for _ in 0..1000 {
        client.update_keys(true).unwrap();
    }
    pump(&mut client, &mut server, usize::MAX).unwrap();
    let reflected = server.pending_output().len();
    assert_eq!(reflected, 3 + 2 + 16, "one key_update record, not 1000");
    pump(&mut server, &mut client, usize::MAX).unwrap();
    // Both directions still agree.
    server.send_message(b"after the storm").unwrap();
    pump(&mut server, &mut client, usize::MAX).unwrap();
    assert_eq!(
        client.recv_message().as_deref(),
        Some(&b"after the storm"[..])
    );
    // Once the new keys protected a record, the next request is answered.
    client.update_keys(true).unwrap();
    pump(&mut client, &mut server, usize::MAX).unwrap();
    assert_eq!(server.pending_output().len(), 3 + 2 + 16);
}

#[test]
fn ping_is_answered_with_pong() {
    let (mut client, mut server) = pair(Pattern::Nk, Suite::ChaCha20Poly1305);
    drain_events(&mut client);
    client.ping(b"are you there").unwrap();
    pump(&mut client, &mut server, usize::MAX).unwrap();
    pump(&mut server, &mut client, usize::MAX).unwrap();
    assert_eq!(
        drain_events(&mut client),
        vec![Event::Pong(b"are you there"[..].into())]
    );
    assert!(client.ping(&[0; 65]).is_err());
}

#[test]
fn graceful_close_versus_truncation() {
    let (mut client, mut server) = pair(Pattern::Ik, Suite::Aes256Gcm);
    drain_events(&mut server);
    client.send_message(b"last words").unwrap();
    client.close().unwrap();
    assert_eq!(client.send_message(b"more"), Err(Error::Closed));
    pump(&mut client, &mut server, usize::MAX).unwrap();
    assert_eq!(server.recv_message().as_deref(), Some(&b"last words"[..]));
    assert_eq!(drain_events(&mut server), vec![Event::PeerClosed]);
    assert!(server.is_peer_closed());
    assert_eq!(server.handle_eof(), Ok(()));
    // Half-close: the server may still answer.
    server.send_message(b"bye").unwrap();
    pump(&mut server, &mut client, usize::MAX).unwrap();
    assert_eq!(client.recv_message().as_deref(), Some(&b"bye"[..]));

    let (mut client, mut server) = pair(Pattern::Ik, Suite::Aes256Gcm);
    client.send_message(b"cut").unwrap();
    let out = client.pending_output().to_vec();
    // Half a record arrives, then the stream ends.
    server.handle_input(&out[..out.len() / 2], T0).unwrap();
    assert_eq!(server.recv_message(), None);
    assert_eq!(server.handle_eof(), Err(Error::Truncated));
    assert_eq!(server.recv_message(), None);
}

#[test]
fn oversized_messages_are_refused_on_both_sides() {
    let server_key = key(1);
    let mut s = server_cfg(server_key.clone());
    s.transport.max_message_size = 20_000;
    let mut client =
        Connection::client(Arc::new(client_cfg(Pattern::Nk, &server_key)), T0).unwrap();
    let mut server = Connection::server(Arc::new(s), T0).unwrap();
    handshake(&mut client, &mut server).unwrap();
    assert_eq!(
        server.send_message(&[0; 20_001]),
        Err(Error::MessageTooLargeToSend { limit: 20_000 })
    );
    assert!(server.is_established(), "API misuse is not fatal");
    client.send_message(&[0; 30_000]).unwrap();
    assert_eq!(
        pump(&mut client, &mut server, usize::MAX),
        Err(Error::MessageTooLarge { limit: 20_000 })
    );
    assert_eq!(
        pump(&mut server, &mut client, usize::MAX),
        Err(Error::PeerAlert {
            code: AlertCode::MessageTooLarge,
            authenticated: true
        })
    );
}

#[test]
fn input_stops_while_undelivered_messages_fill_the_limit() {
    let server_key = key(1);
    let mut s = server_cfg(server_key.clone());
    s.transport.max_message_size = 1000;
    let mut client =
        Connection::client(Arc::new(client_cfg(Pattern::Nk, &server_key)), T0).unwrap();
    let mut server = Connection::server(Arc::new(s), T0).unwrap();
    handshake(&mut client, &mut server).unwrap();
    for _ in 0..5 {
        client.send_message(&[7; 600]).unwrap();
    }
    let wire = client.pending_output().to_vec();
    let used = server.handle_input(&wire, T0).unwrap();
    assert!(used < wire.len(), "the server must stop reading");
    let mut received = 0;
    let mut offset = used;
    while let Some(m) = server.recv_message() {
        assert_eq!(&m[..], &[7; 600]);
        received += 1;
        offset += server.handle_input(&wire[offset..], T0).unwrap();
    }
    assert_eq!((received, offset), (5, wire.len()));
}

#[test]
fn padding_policies_hide_lengths_and_round_trip() {
    for padding in [
        Padding::MultipleOf(256),
        Padding::Buckets(vec![64, 512, 4096]),
    ] {
        let server_key = key(1);
        let mut c = client_cfg(Pattern::Nk, &server_key);
        c.transport.padding = padding.clone();
        let mut client = Connection::client(Arc::new(c), T0).unwrap();
        let mut server = Connection::server(Arc::new(server_cfg(server_key)), T0).unwrap();
        handshake(&mut client, &mut server).unwrap();
        let mut lens = Vec::new();
        for size in [1usize, 30, 60] {
            client.send_message(&vec![9; size]).unwrap();
            lens.push(client.pending_output().len());
            pump(&mut client, &mut server, usize::MAX).unwrap();
            assert_eq!(server.recv_message().unwrap().len(), size);
        }
        // All three fit one bucket / multiple: the wire length is the same.
        assert!(
            lens.windows(2).all(|w| w[0] == w[1]),
            "{padding:?}: {lens:?}"
        );
    }
}

#[test]
fn keepalive_pings_and_idle_timeout_follow_the_virtual_clock() {
    let server_key = key(1);
    let mut c = client_cfg(Pattern::Nk, &server_key);
    c.transport.keepalive_interval = Some(Duration::from_secs(10));
    c.transport.idle_timeout = Some(Duration::from_secs(25));
    let mut client = Connection::client(Arc::new(c), T0).unwrap();
    let mut server = Connection::server(Arc::new(server_cfg(server_key)), T0).unwrap();
    handshake(&mut client, &mut server).unwrap();
    drain_events(&mut client);
    let due = client.poll_timeout().unwrap();
    assert_eq!(due, T0.saturating_add(Duration::from_secs(10)));
    client.handle_timeout(due).unwrap();
    assert!(client.wants_write(), "a ping is queued");
    let t = due.saturating_add(Duration::from_secs(20));
    assert_eq!(client.handle_timeout(t), Err(Error::Timeout));
}

#[test]
fn data_before_the_handshake_is_refused_and_not_fatal() {
    let server_key = key(1);
    let mut client =
        Connection::client(Arc::new(client_cfg(Pattern::Nk, &server_key)), T0).unwrap();
    assert_eq!(
        client.send_message(b"early"),
        Err(Error::HandshakeNotComplete)
    );
    assert!(client.is_handshaking());
}

#[test]
fn garbage_gets_an_alert_and_poisons_the_server() {
    let mut server = Connection::server(Arc::new(server_cfg(key(1))), T0).unwrap();
    let err = server.handle_input(b"GET / HTTP/1.1\r\n", T0).unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert_eq!(server.pending_output(), &[0x15, 0, 1, 50]);
    assert_eq!(server.handle_input(b"more", T0), Err(err));
}

#[test]
fn invalid_configurations_are_rejected_with_a_reason() {
    let mut c = ClientConfig::nk(key(1).public_key());
    c.suites.clear();
    assert!(matches!(
        Connection::client(Arc::new(c), T0),
        Err(Error::InvalidConfig(_))
    ));
    let mut s = ServerConfig::new(key(1));
    s.transport.padding = Padding::MultipleOf(0);
    assert!(matches!(
        Connection::server(Arc::new(s), T0),
        Err(Error::InvalidConfig(_))
    ));
}

#[test]
fn every_pair_of_providers_interoperates() {
    for client_provider in lwsec::crypto::providers() {
        for server_provider in lwsec::crypto::providers() {
            for suite in Suite::ALL {
                let server_key = key(1);
                let mut c = client_cfg(Pattern::Ik, &server_key);
                c.suites = vec![suite];
                c.provider = client_provider;
                let mut s = server_cfg(server_key);
                s.provider = server_provider;
                let mut client = Connection::client(Arc::new(c), T0).unwrap();
                let mut server = Connection::server(Arc::new(s), T0).unwrap();
                handshake(&mut client, &mut server).unwrap();
                let message = vec![5u8; 20_000];
                client.send_message(&message).unwrap();
                client.update_keys(true).unwrap();
                pump(&mut client, &mut server, usize::MAX).unwrap();
                assert_eq!(server.recv_message().as_deref(), Some(&message[..]));
                server.send_message(b"ok").unwrap();
                pump(&mut server, &mut client, usize::MAX).unwrap();
                assert_eq!(
                    client.recv_message().as_deref(),
                    Some(&b"ok"[..]),
                    "{} -> {} {suite}",
                    client_provider.name,
                    server_provider.name
                );
            }
        }
    }
}

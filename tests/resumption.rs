//! Session resumption with tickets (`spec/PROTOCOL.md` section 4.11),
//! driven in memory: tickets after a confirmed handshake, resumed
//! handshakes (identity carried over, a new ticket each time, two servers
//! sharing ticket keys), the one-round-trip fallback to a full handshake
//! on the same connection (unknown key, forged or expired ticket, server
//! without resumption), resumption through a Retry, early data on a resumed
//! flight, and the rules a client and a server enforce on tickets.

use std::sync::Arc;
use std::time::Duration;

use lwsec::{
    Acceptance, ClientConfig, Connection, Error, Event, Identity, Pattern, ResumptionTicket,
    ServerConfig, ServerOptions, StaticKeyPair, TicketKeyring, TicketKeys, Time,
};

const FRAME_RESUME_REFUSED: u8 = 0x04;
const FRAME_RETRY: u8 = 0x03;
const FRAME_SERVER_HELLO: u8 = 0x02;

fn t0() -> Time {
    Time::from_millis(1_800_000_000_000)
}

fn server_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x11; 32])
}

fn device_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x22; 32])
}

fn keyring(secret: u8) -> Arc<TicketKeyring> {
    Arc::new(TicketKeyring::new(TicketKeys::new([secret; 32])))
}

fn server_config(ring: Option<Arc<TicketKeyring>>) -> Arc<ServerConfig> {
    let mut config = ServerConfig::new(server_key());
    if let Some(ring) = ring {
        config.enable_resumption(ring);
    }
    Arc::new(config)
}

fn ik_client() -> Arc<ClientConfig> {
    Arc::new(ClientConfig::ik(server_key().public_key(), device_key()))
}

fn nk_client() -> Arc<ClientConfig> {
    Arc::new(ClientConfig::nk(server_key().public_key()))
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

fn ticket_of(events: &[Event]) -> Option<ResumptionTicket> {
    events.iter().find_map(|e| match e {
        Event::ResumptionTicket(t) => Some(t.clone()),
        _ => None,
    })
}

/// The frame types of `bytes`, a sequence of whole frames.
fn frame_types(mut bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    while bytes.len() >= 3 {
        let len = usize::from(u16::from_be_bytes([bytes[1], bytes[2]]));
        types.push(bytes[0]);
        bytes = &bytes[3 + len..];
    }
    types
}

/// Drives `client` and `server` until neither has output, accepting at
/// the decision point with `accept` and recording what the server sent.
struct Run {
    server_frames: Vec<u8>,
    decisions: Vec<lwsec::ClientHello>,
}

fn drive(
    client: &mut Connection,
    server: &mut Connection,
    now: Time,
    accept: &dyn Fn(&lwsec::ClientHello) -> Acceptance,
) -> Result<Run, Error> {
    let mut run = Run {
        server_frames: Vec::new(),
        decisions: Vec::new(),
    };
    for _ in 0..20 {
        let out = client.pending_output().to_vec();
        if !out.is_empty() {
            let n = server.handle_input(&out, now)?;
            client.consume_output(n);
        }
        if let Some(hello) = server.client_hello() {
            run.decisions.push(hello.clone());
            let acceptance = accept(hello);
            server.accept_client(acceptance, now)?;
        }
        let back = server.pending_output().to_vec();
        if !back.is_empty() {
            run.server_frames.extend(frame_types(&back));
            let n = client.handle_input(&back, now)?;
            server.consume_output(n);
        }
        if out.is_empty() && back.is_empty() {
            return Ok(run);
        }
    }
    panic!("no quiescence");
}

fn accept_all(_: &lwsec::ClientHello) -> Acceptance {
    Acceptance::new()
}

/// A full handshake that leaves the client with a ticket.
fn first_ticket(
    client_config: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    identity: Option<&str>,
) -> ResumptionTicket {
    let mut client = Connection::client(client_config, t0()).unwrap();
    let mut server = Connection::server(server, t0()).unwrap();
    let identity = identity.map(|s| Identity::new(s.as_bytes().to_vec()).unwrap());
    drive(&mut client, &mut server, t0(), &|_| match &identity {
        Some(id) => Acceptance::new().with_identity(id.clone()),
        None => Acceptance::new(),
    })
    .unwrap();
    assert!(server.is_established() && !server.is_resumed());
    ticket_of(&events(&mut client)).expect("a ticket after a confirmed handshake")
}

#[test]
fn a_resumed_ik_session_keeps_the_device_and_identity_and_brings_a_new_ticket() {
    let ring = keyring(1);
    let config = server_config(Some(ring));
    let ticket = first_ticket(ik_client(), config.clone(), Some("alice"));
    assert_eq!(ticket.pattern(), Pattern::Ik);
    assert_eq!(
        ticket.expires(),
        t0().saturating_add(Duration::from_secs(24 * 3600))
    );

    let later = t0().saturating_add(Duration::from_secs(60));
    let mut client = Connection::resume(ik_client(), ticket.clone(), later).unwrap();
    let mut server = Connection::server(config, later).unwrap();
    let run = drive(&mut client, &mut server, later, &accept_all).unwrap();
    assert_eq!(run.decisions.len(), 1);
    let hello = &run.decisions[0];
    let resumption = hello.resumption().expect("resumed");
    assert_eq!(resumption.authenticated_at(), t0());
    assert_eq!(resumption.identity().unwrap().as_bytes(), b"alice");
    assert_eq!(hello.pattern(), Pattern::Ik);
    assert_eq!(hello.claimed_client_key(), Some(device_key().public_key()));

    assert!(client.is_resumed() && server.is_resumed());
    assert_eq!(server.pattern(), Some(Pattern::Ik));
    assert_eq!(server.peer_static_key(), Some(device_key().public_key()));
    assert_eq!(server.peer_identity().unwrap().as_bytes(), b"alice");
    assert_eq!(
        client.peer_static_key(),
        None,
        "the static key was not used"
    );
    assert_eq!(client.handshake_hash(), server.handshake_hash());
    let new_ticket = ticket_of(&events(&mut client)).expect("a new ticket");
    assert_ne!(new_ticket.ticket(), ticket.ticket());

    client.send_message(b"hello again").unwrap();
    let n = server.handle_input(client.pending_output(), later).unwrap();
    client.consume_output(n);
    assert_eq!(server.recv_message().as_deref(), Some(&b"hello again"[..]));

    // The chained ticket keeps the time of the last full handshake.
    let mut client = Connection::resume(ik_client(), new_ticket, later).unwrap();
    let mut server = Connection::server(server_config(Some(keyring(1))), later).unwrap();
    let run = drive(&mut client, &mut server, later, &accept_all).unwrap();
    assert_eq!(
        run.decisions[0].resumption().unwrap().authenticated_at(),
        t0()
    );
    assert!(server.is_resumed());
}

#[test]
fn two_servers_sharing_ticket_keys_accept_each_others_tickets() {
    let secret = [7u8; 32];
    let a = server_config(Some(Arc::new(TicketKeyring::new(TicketKeys::new(secret)))));
    let b = server_config(Some(Arc::new(TicketKeyring::new(TicketKeys::new(secret)))));
    let ticket = first_ticket(nk_client(), a, None);
    let mut client = Connection::resume(nk_client(), ticket, t0()).unwrap();
    let mut server = Connection::server(b, t0()).unwrap();
    drive(&mut client, &mut server, t0(), &accept_all).unwrap();
    assert!(client.is_resumed() && server.is_resumed());
    assert_eq!(server.pattern(), Some(Pattern::Nk));
    assert_eq!(server.peer_static_key(), None);
}

/// A ticket the server will not take costs one ResumeRefused and a full
/// handshake on the same connection, never a failure.
fn falls_back(server: Arc<ServerConfig>, ticket: ResumptionTicket, now: Time) {
    let mut client = Connection::resume(ik_client(), ticket, now).unwrap();
    let mut conn = Connection::server(server, now).unwrap();
    let run = drive(&mut client, &mut conn, now, &accept_all).unwrap();
    assert_eq!(
        &run.server_frames[..2],
        &[FRAME_RESUME_REFUSED, FRAME_SERVER_HELLO]
    );
    assert!(client.is_established() && conn.is_established());
    assert!(!client.is_resumed() && !conn.is_resumed());
    assert!(run.decisions[0].resumption().is_none());
    assert_eq!(conn.peer_static_key(), Some(device_key().public_key()));
    assert_eq!(client.peer_static_key(), Some(server_key().public_key()));
}

#[test]
fn an_unknown_forged_or_expired_ticket_falls_back_to_a_full_handshake() {
    let ticket = first_ticket(ik_client(), server_config(Some(keyring(1))), None);
    // Another fleet's keys.
    falls_back(server_config(Some(keyring(2))), ticket.clone(), t0());
    // No resumption at all.
    falls_back(server_config(None), ticket.clone(), t0());
    // Rotated out: three rotations later the key is gone.
    let ring = keyring(1);
    for s in 2..6u8 {
        ring.replace(ring.keys().rotated([s; 32]));
    }
    falls_back(server_config(Some(ring)), ticket.clone(), t0());
    // Forged: one flipped bit of the sealed part.
    let mut stored = ticket.to_bytes().to_vec();
    let last = stored.len() - 1;
    stored[last] ^= 1;
    let forged = ResumptionTicket::from_bytes(&stored).unwrap();
    falls_back(server_config(Some(keyring(1))), forged, t0());
    // Expired at the server (the client's clock is behind): the server's
    // clock decides.
    let mut config = ServerConfig::new(server_key());
    config.enable_resumption(keyring(1));
    config.resumption_max_age = Duration::from_secs(10);
    let later = t0().saturating_add(Duration::from_secs(11));
    let mut client = Connection::resume(ik_client(), ticket.clone(), t0()).unwrap();
    let mut server = Connection::server(Arc::new(config), later).unwrap();
    let run = drive(&mut client, &mut server, later, &accept_all).unwrap();
    assert_eq!(run.server_frames[0], FRAME_RESUME_REFUSED);
    assert!(server.is_established() && !server.is_resumed());
}

#[test]
fn an_expired_ticket_is_not_sent() {
    let ticket = first_ticket(ik_client(), server_config(Some(keyring(1))), None);
    let after = ticket.expires();
    let mut client = Connection::resume(ik_client(), ticket, after).unwrap();
    let mut server = Connection::server(server_config(Some(keyring(1))), after).unwrap();
    let run = drive(&mut client, &mut server, after, &accept_all).unwrap();
    assert_eq!(run.server_frames[0], FRAME_SERVER_HELLO);
    assert!(!server.is_resumed());
}

#[test]
fn resumption_goes_through_a_cookie_retry_and_stays_resumed() {
    let config = server_config(Some(keyring(1)));
    let ticket = first_ticket(ik_client(), config.clone(), None);
    let mut client = Connection::resume(ik_client(), ticket, t0()).unwrap();
    let options =
        ServerOptions::for_peer_address(b"192.0.2.1:5000".to_vec()).with_cookie_demanded(true);
    let mut server = Connection::server_with_options(config, t0(), options).unwrap();
    let run = drive(&mut client, &mut server, t0(), &accept_all).unwrap();
    assert_eq!(&run.server_frames[..2], &[FRAME_RETRY, FRAME_SERVER_HELLO]);
    assert!(run.decisions[0].retry_echoed());
    assert!(client.is_resumed() && server.is_resumed());
}

#[test]
fn a_refused_ticket_after_a_retry_falls_back_with_the_echo_and_without_early_data() {
    let ticket = first_ticket(ik_client(), server_config(Some(keyring(1))), None);
    let mut config = ServerConfig::new(server_key());
    config.enable_resumption(keyring(2));
    config.enable_replayable_early_data(Duration::from_secs(10));
    let mut client =
        Connection::resume_with_replayable_early_data(ik_client(), ticket, t0(), b"fetch").unwrap();
    let options =
        ServerOptions::for_peer_address(b"192.0.2.1:5000".to_vec()).with_cookie_demanded(true);
    let mut server = Connection::server_with_options(Arc::new(config), t0(), options).unwrap();
    let run = drive(&mut client, &mut server, t0(), &|_| {
        Acceptance::new().with_fresh_early_data(true)
    })
    .unwrap();
    // The ticket is refused before any Retry: ResumeRefused, then a Retry
    // for the full ClientHello, then the ServerHello.
    assert_eq!(
        &run.server_frames[..3],
        &[FRAME_RESUME_REFUSED, FRAME_RETRY, FRAME_SERVER_HELLO]
    );
    assert!(run.decisions[0].early_data().is_none());
    assert!(server.is_established() && !server.is_resumed());
    let client_events = events(&mut client);
    assert!(client_events.contains(&Event::EarlyDataRejected));
    assert!(
        !events(&mut server)
            .iter()
            .any(|e| matches!(e, Event::EarlyData(_)))
    );
}

#[test]
fn early_data_rides_on_a_resumed_flight_under_the_replay_decision() {
    let mut config = ServerConfig::new(server_key());
    config.enable_resumption(keyring(1));
    config.enable_replayable_early_data(Duration::from_secs(10));
    let config = Arc::new(config);
    let ticket = first_ticket(ik_client(), config.clone(), None);
    for fresh in [true, false] {
        let mut client = Connection::resume_with_replayable_early_data(
            ik_client(),
            ticket.clone(),
            t0(),
            b"fetch new messages",
        )
        .unwrap();
        let mut server = Connection::server(config.clone(), t0()).unwrap();
        let run = drive(&mut client, &mut server, t0(), &|hello| {
            let offer = hello.early_data().expect("offered");
            assert!(offer.needs_replay_check());
            assert_eq!(offer.device(), Some(device_key().public_key()));
            Acceptance::new().with_fresh_early_data(fresh)
        })
        .unwrap();
        assert!(run.decisions[0].resumption().is_some());
        assert!(server.is_resumed());
        let delivered = events(&mut server)
            .into_iter()
            .any(|e| e == Event::EarlyData(bytes::Bytes::from_static(b"fetch new messages")));
        assert_eq!(delivered, fresh);
        let client_events = events(&mut client);
        assert!(client_events.contains(if fresh {
            &Event::EarlyDataAccepted
        } else {
            &Event::EarlyDataRejected
        }));
    }
}

#[test]
fn an_acceptance_can_replace_the_ticket_identity() {
    let config = server_config(Some(keyring(1)));
    let ticket = first_ticket(ik_client(), config.clone(), Some("alice"));
    let mut client = Connection::resume(ik_client(), ticket, t0()).unwrap();
    let mut server = Connection::server(config, t0()).unwrap();
    drive(&mut client, &mut server, t0(), &|_| {
        Acceptance::new().with_identity(Identity::new(b"alice-v2".to_vec()).unwrap())
    })
    .unwrap();
    assert_eq!(server.peer_identity().unwrap().as_bytes(), b"alice-v2");
}

#[test]
fn a_tampered_resumption_header_fails_the_handshake() {
    // The ticket field is part of the prologue: a ticket swapped for
    // another valid one (same keys) opens, but message 1 no longer
    // decrypts.
    let config = server_config(Some(keyring(1)));
    let a = first_ticket(ik_client(), config.clone(), None);
    let b = first_ticket(ik_client(), config.clone(), None);
    let mut client = Connection::resume(ik_client(), a.clone(), t0()).unwrap();
    let mut hello = client.pending_output().to_vec();
    client.consume_output(hello.len());
    let pos = hello
        .windows(a.ticket().len())
        .position(|w| w == a.ticket())
        .unwrap();
    assert_eq!(a.ticket().len(), b.ticket().len());
    hello[pos..pos + b.ticket().len()].copy_from_slice(b.ticket());
    let mut server = Connection::server(config, t0()).unwrap();
    assert_eq!(
        server.handle_input(&hello, t0()),
        Err(Error::HandshakeDecrypt)
    );
}

#[test]
fn a_replayed_resumption_flight_never_yields_an_authenticated_peer() {
    let config = server_config(Some(keyring(1)));
    let ticket = first_ticket(ik_client(), config.clone(), None);
    let client = Connection::resume(ik_client(), ticket, t0()).unwrap();
    let hello = client.pending_output().to_vec();
    for _ in 0..3 {
        let mut server = Connection::server(config.clone(), t0()).unwrap();
        server.handle_input(&hello, t0()).unwrap();
        server.accept_client(Acceptance::new(), t0()).unwrap();
        assert!(server.is_awaiting_confirmation());
        assert_eq!(server.peer_static_key(), None);
        assert!(!events(&mut server).contains(&Event::HandshakeComplete));
    }
}

#[test]
fn ticket_rules_on_both_sides() {
    // A client that never asked to resume refuses a ResumeRefused.
    let mut client = Connection::client(ik_client(), t0()).unwrap();
    assert!(matches!(
        client.handle_input(&[FRAME_RESUME_REFUSED, 0, 0], t0()),
        Err(Error::UnexpectedMessage(_))
    ));
    // ResumeRefused has an empty body: a length is refused at the header.
    let ticket = first_ticket(ik_client(), server_config(Some(keyring(1))), None);
    let mut client = Connection::resume(ik_client(), ticket, t0()).unwrap();
    assert_eq!(
        client.handle_input(&[FRAME_RESUME_REFUSED, 0, 1], t0()),
        Err(Error::RecordOverflow)
    );
}

#[test]
fn a_server_without_ticket_keys_sends_no_ticket() {
    let mut client = Connection::client(ik_client(), t0()).unwrap();
    let mut server = Connection::server(server_config(None), t0()).unwrap();
    drive(&mut client, &mut server, t0(), &accept_all).unwrap();
    assert!(ticket_of(&events(&mut client)).is_none());
}

#[test]
fn a_server_from_a_noise_split_refuses_a_ticket_record() {
    // A server made from another implementation's Split() has no server
    // configuration; it still is a server, and a ticket record sent to it
    // is an unexpected_message (spec 4.11).
    let (k1, k2) = ([1u8; 32], [2u8; 32]);
    let make = |side| {
        Connection::dangerous_from_noise_split(
            lwsec::NoiseSplit::new(
                side,
                Pattern::Nk,
                lwsec::Suite::Aes256Gcm,
                &k1,
                &k2,
                [3; 32],
            ),
            lwsec::TransportConfig::default(),
            t0(),
        )
        .unwrap()
    };
    let mut client = make(lwsec::Side::Client);
    let mut server = make(lwsec::Side::Server);
    let confirm = client.pending_output().to_vec();
    client.consume_output(confirm.len());
    server.handle_input(&confirm, t0()).unwrap();
    // The client's send keys are the server's receive keys: seal a ticket
    // record as the client would seal any record, by hand with the peeked
    // secrets.
    let secrets = client.dangerous_peek_secrets().unwrap();
    let mut direction =
        lwsec_test_support::spec_reference::Direction::new(0x01, *secrets.send.secret);
    direction.seq = secrets.send.seq;
    let record = direction.seal(0x08, &[&[0, 0, 0, 60][..], &[7; 40]].concat(), 0);
    assert!(matches!(
        server.handle_input(&record, t0()),
        Err(Error::UnexpectedMessage(_))
    ));
}

/// A ticket record a server's sending keys seal, as another implementation
/// could send it: `payload` as a record of content type `ticket`.
fn server_ticket_record(server: &Connection, payload: &[u8]) -> Vec<u8> {
    let secrets = server.dangerous_peek_secrets().unwrap();
    let mut direction =
        lwsec_test_support::spec_reference::Direction::new(0x01, *secrets.send.secret);
    direction.seq = secrets.send.seq;
    direction.seal(0x08, payload, 0)
}

#[test]
fn a_second_ticket_record_is_unexpected_whatever_it_holds() {
    // Spec 4.11: the "at most one ticket" rule is checked before the
    // record's payload, so a second ticket that is also malformed is an
    // unexpected_message (not a decode_error).
    for second in [vec![0, 0, 0, 0, 1], vec![0, 0, 0, 60, 7, 7]] {
        let mut client = Connection::client(ik_client(), t0()).unwrap();
        let mut server = Connection::server(server_config(Some(keyring(1))), t0()).unwrap();
        drive(&mut client, &mut server, t0(), &accept_all).unwrap();
        assert!(ticket_of(&events(&mut client)).is_some());
        let record = server_ticket_record(&server, &second);
        assert!(
            matches!(
                client.handle_input(&record, t0()),
                Err(Error::UnexpectedMessage(
                    lwsec::UnexpectedReason::SecondTicket
                ))
            ),
            "second ticket {second:?}"
        );
    }
    // A first ticket record that is malformed is a decode_error.
    let mut client = Connection::client(ik_client(), t0()).unwrap();
    let mut server = Connection::server(server_config(None), t0()).unwrap();
    drive(&mut client, &mut server, t0(), &accept_all).unwrap();
    let record = server_ticket_record(&server, &[0, 0, 0, 0, 1]);
    assert!(matches!(
        client.handle_input(&record, t0()),
        Err(Error::Decode(lwsec::DecodeReason::TicketRecord))
    ));
}

#[test]
fn the_ticket_is_sent_while_the_confirmation_is_processed() {
    // Spec 4.11 and 8: the server's ticket record is sealed before the
    // record after the confirmation is processed, so a key update request
    // arriving with the confirmation finds used keys and is answered.
    let mut client = Connection::client(ik_client(), t0()).unwrap();
    let mut server = Connection::server(server_config(Some(keyring(1))), t0()).unwrap();
    let hello = client.pending_output().to_vec();
    client.consume_output(hello.len());
    server.handle_input(&hello, t0()).unwrap();
    server.accept_client(Acceptance::new(), t0()).unwrap();
    let reply = server.pending_output().to_vec();
    server.consume_output(reply.len());
    client.handle_input(&reply, t0()).unwrap();
    client.update_keys(true).unwrap();
    let flight = client.pending_output().to_vec();
    client.consume_output(flight.len());
    server.handle_input(&flight, t0()).unwrap();
    let back = server.pending_output().to_vec();
    server.consume_output(back.len());
    client.handle_input(&back, t0()).unwrap();
    let got = events(&mut client);
    assert!(ticket_of(&got).is_some(), "{got:?}");
    assert!(got.contains(&Event::KeyUpdated), "answered: {got:?}");
}

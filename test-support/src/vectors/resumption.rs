//! `resumption.json`: a full handshake whose server holds a ticket key and
//! sends a ticket, then a second connection with that ticket (spec 4.11):
//! resumed (`NNpsk0`), refused by a server of another fleet (ResumeRefused
//! and a full handshake on the same connection), or resumed with early data.

use std::sync::Arc;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use lwsec::early_data::StrikeRegister;
use lwsec::{
    Acceptance, Connection, Event, Identity, Pattern, ResumptionTicket, Suite, TicketKeyring,
    TicketKeys, Time, noise_protocol_name,
};

use super::FIXED_TIME;
use super::connections::{client_config, confirm, server_config, strike_register, take_output};
use super::early_data::early_data_payload;
use super::encoding::{hx, parse_pattern, parse_suite, suite_name, suite_slug, unhex, unhex32};
use super::frames::{PATTERN_RESUME, client_hello_header_len, prologue_of};
use super::handshake::suites_preferring;
use super::keys::{public_of, seeded, traffic_keys, with_public_keys};
use super::model::{
    IssuedTicket, Parties, RefusedFlight, ResumptionFile, ResumptionVector, TicketedHandshake,
    TrafficKeys,
};
use super::record_aead::open_record;
use super::{EARLY_DATA, EARLY_DATA_WINDOW_MS};
use crate::spec_reference;

/// The ticket lifetime of every resumption vector server (12 hours: not
/// lwsec's default, so that the field is seen to be carried).
const TICKET_LIFETIME_S: u32 = 43_200;

/// How long after the first connection the second one is made (ms).
const RESUME_AFTER_MS: u64 = 60_000;

/// The application identity the IK vector servers attach to their client.
const IK_IDENTITY: &[u8] = b"user:alice/device:7";

/// The content type of a ticket record (spec 6.2).
const CONTENT_TICKET: u8 = 0x08;

/// The ResumeRefused frame (spec 4.11).
pub(super) const RESUME_REFUSED: [u8; 3] = [0x04, 0x00, 0x00];

/// The Noise protocol name of a resumed handshake (spec 4.11).
fn resumed_noise_protocol(suite: Suite) -> String {
    format!("Noise_NNpsk0_25519_{}_SHA256", suite.noise_name())
}

/// Feeds `bytes` to `conn` at `now`, requiring all of them to be consumed.
fn feed(conn: &mut Connection, bytes: &[u8], now: Time) {
    assert_eq!(conn.handle_input(bytes, now), Ok(bytes.len()));
}

/// A server of a resumption flow: the parties' static key and suites,
/// ticket key `ticket_secret`, RNG `rng`, and a replay window if given.
fn ticket_server(
    v: &ResumptionVector,
    ticket_secret: &str,
    rng: &[u8],
    window_ms: Option<u64>,
    now: Time,
) -> Connection {
    let mut config = server_config(&v.parties, rng);
    config.ticket_lifetime = Duration::from_secs(u64::from(v.ticket_lifetime));
    config.enable_resumption(Arc::new(TicketKeyring::new(TicketKeys::new(unhex32(
        ticket_secret,
    )))));
    if let Some(window) = window_ms {
        config.enable_replayable_early_data(Duration::from_millis(window));
    }
    Connection::server(Arc::new(config), now).unwrap()
}

/// The server of the second connection of `v`: ticket key
/// `second_ticket_secret`, RNG yielding `second.server_ephemeral_private`
/// then `second.ticket_nonce`; nothing received yet.
pub(super) fn second_server(v: &ResumptionVector) -> Connection {
    let mut rng = unhex(&v.second.server_ephemeral_private);
    rng.extend(unhex(&v.second.ticket_nonce));
    ticket_server(
        v,
        &v.second_ticket_secret,
        &rng,
        v.window_ms,
        Time::from_millis(v.second_time),
    )
}

/// The client's stored ticket after the first connection, rebuilt from the
/// vector's outputs (lwsec's stored form, `ResumptionTicket::to_bytes`).
pub(super) fn stored_ticket(v: &ResumptionVector) -> ResumptionTicket {
    let t = &v.first.ticket;
    let ticket = unhex(&t.ticket);
    let mut stored = b"lwt1".to_vec();
    stored.extend_from_slice(&t.expires.to_be_bytes());
    stored.push(parse_pattern(&v.pattern).to_u8());
    stored.extend(unhex(&v.first.resumption_secret));
    stored.extend_from_slice(&u16::try_from(ticket.len()).unwrap().to_be_bytes());
    stored.extend(ticket);
    ResumptionTicket::from_bytes(&stored).unwrap()
}

/// The client of the second connection of `v`, resuming with `ticket`; its
/// RNG yields the refused flight's ephemeral key (if any), then the second
/// handshake's. It has not sent anything yet.
fn resuming_client(v: &ResumptionVector, ticket: ResumptionTicket) -> Connection {
    let mut rng = Vec::new();
    if let Some(refused) = &v.refused_flight {
        rng.extend(unhex(&refused.client_ephemeral_private));
    }
    rng.extend(unhex(&v.second.client_ephemeral_private));
    let config = client_config(parse_pattern(&v.pattern), &v.parties, &rng);
    let now = Time::from_millis(v.second_time);
    match &v.early_data {
        Some(data) => {
            Connection::resume_with_replayable_early_data(config, ticket, now, &unhex(data))
                .unwrap()
        }
        None => Connection::resume(config, ticket, now).unwrap(),
    }
}

/// The client of the second connection of `v` (ticket from the vector's
/// outputs), which has sent exactly its first ClientHello.
pub(super) fn second_client(v: &ResumptionVector) -> Connection {
    let mut client = resuming_client(v, stored_ticket(v));
    let sent = hx(&take_output(&mut client));
    let first_flight = v
        .refused_flight
        .as_ref()
        .map_or(&v.second.client_hello, |r| &r.client_hello);
    assert_eq!(&sent, first_flight, "{}: first flight", v.name);
    client
}

/// The server's decision on the ClientHello it read: accept, with
/// `identity` if given, and the early data fresh if `guard` says so.
fn decide(
    server: &mut Connection,
    identity: Option<&str>,
    guard: Option<&StrikeRegister>,
    now: Time,
) -> lwsec::ClientHello {
    let hello = server
        .client_hello()
        .expect("the server waits for a decision")
        .clone();
    let fresh = match (hello.early_data(), guard) {
        (Some(offer), Some(g)) if offer.needs_replay_check() => g.check(offer, now),
        _ => false,
    };
    let mut acceptance = Acceptance::new().with_fresh_early_data(fresh);
    if let Some(id) = identity {
        acceptance = acceptance.with_identity(Identity::new(unhex(id)).unwrap());
    }
    server.accept_client(acceptance, now).unwrap();
    assert_eq!(server.poll_event(), Some(Event::ClientHello));
    hello
}

/// Delivers the client's key confirmation, after which the server has
/// sealed its ticket record (its first record, not delivered yet); checks
/// that both sides hold the same secrets and returns them with the
/// confirmation record.
fn finished_secrets(
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
    assert_eq!((c.recv.seq, s.send.seq), (0, 1), "one record: the ticket");
    assert_eq!(traffic_keys(&c.recv), traffic_keys(&s.send));
    (hash, traffic_keys(&c.send), traffic_keys(&c.recv), confirm)
}

/// `(k1, k2, h)` of a handshake recomputed with `snow` as its initiator:
/// it writes message 1 with `payload_1`, which must give `message_1`, and
/// reads `message_2`, whose payload must be `payload_2`.
#[allow(clippy::too_many_arguments)]
fn snow_split(
    protocol: &str,
    prologue: &[u8],
    server_static_public: Option<&[u8]>,
    client_static: Option<&[u8]>,
    psk: Option<&[u8; 32]>,
    client_ephemeral: &[u8],
    (payload_1, message_1): (&[u8], &[u8]),
    (payload_2, message_2): (&[u8], &[u8]),
) -> ([u8; 32], [u8; 32], [u8; 32]) {
    let params: snow::params::NoiseParams = protocol.parse().unwrap();
    let mut builder = snow::Builder::new(params)
        .prologue(prologue)
        .unwrap()
        .fixed_ephemeral_key_for_testing_only(client_ephemeral);
    if let Some(key) = server_static_public {
        builder = builder.remote_public_key(key).unwrap();
    }
    if let Some(key) = client_static {
        builder = builder.local_private_key(key).unwrap();
    }
    if let Some(psk) = psk {
        builder = builder.psk(0, psk).unwrap();
    }
    let mut hs = builder.build_initiator().unwrap();
    let mut buf = vec![0u8; 65535];
    let n = hs.write_message(payload_1, &mut buf).unwrap();
    assert_eq!(hx(&buf[..n]), hx(message_1), "Noise message 1 (snow)");
    let n = hs.read_message(message_2, &mut buf).unwrap();
    assert_eq!(hx(&buf[..n]), hx(payload_2), "payload of message 2 (snow)");
    let h: [u8; 32] = hs.get_handshake_hash().try_into().unwrap();
    let (k1, k2) = hs.dangerously_get_raw_split();
    (k1, k2, h)
}

/// A ticket record taken apart: opened with the server-to-client keys at
/// `seq` 0 and the ticket opened with the AEAD crate under `ticket_secret`
/// (spec 4.11), independently of lwsec's ticket code.
fn describe_ticket(
    suite: Suite,
    s2c: &TrafficKeys,
    record: &[u8],
    ticket_secret: &str,
    received: &ResumptionTicket,
) -> IssuedTicket {
    let (content_type, payload, padding) = open_record(suite, s2c, 0, record);
    assert_eq!(
        (content_type, padding),
        (CONTENT_TICKET, 0),
        "ticket record"
    );
    let lifetime = u32::from_be_bytes(payload[..4].try_into().unwrap());
    let ticket = &payload[4..];
    assert_eq!(ticket, received.ticket(), "the ticket the client reports");
    let (key_id, rest) = ticket.split_at(4);
    let secret = unhex32(ticket_secret);
    assert_eq!(
        key_id,
        TicketKeys::new(secret).current_id(),
        "ticket key id"
    );
    let (nonce, sealed) = rest.split_at(12);
    let k = spec_reference::expand_label(&secret, b"ticket", b"", 32).unwrap();
    let plaintext = aes_gcm::Aes256Gcm::new_from_slice(&k)
        .unwrap()
        .decrypt(
            nonce.into(),
            Payload {
                msg: sealed,
                aad: &ticket[..16],
            },
        )
        .expect("the ticket opens under its key");
    let field = |at: usize| u64::from_be_bytes(plaintext[at..at + 8].try_into().unwrap());
    IssuedTicket {
        record: hx(record),
        payload: hx(&payload),
        lifetime,
        ticket: hx(ticket),
        key_id: hx(key_id),
        nonce: hx(nonce),
        aead_key: hx(&k),
        plaintext: hx(&plaintext),
        issued_at: field(0),
        authenticated_at: field(12),
        expires: received.expires().as_millis(),
    }
}

/// What the generator knows of a handshake before running it.
struct Leg<'a> {
    suite: Suite,
    /// `Some(psk)`: a resumed handshake (`NNpsk0`); `None`: a full one.
    psk: Option<[u8; 32]>,
    pattern: Pattern,
    parties: &'a Parties,
    ticket_secret: &'a str,
    client_hello_payload: Vec<u8>,
    /// The server's decision: the identity it attaches and its replay guard.
    identity: Option<&'a str>,
    guard: Option<&'a StrikeRegister>,
}

/// What a completed leg gives besides its vector fields.
struct LegEnd {
    ticket: ResumptionTicket,
    hello: lwsec::ClientHello,
    server_early_data: Option<String>,
    client_event: Option<Event>,
}

/// Runs a handshake from `client_hello` (taken from `client`) to the
/// client's receipt of the ticket record, and fills in `out`'s outputs.
fn run_leg(
    leg: &Leg<'_>,
    client: &mut Connection,
    server: &mut Connection,
    client_hello: &[u8],
    now: Time,
    out: &mut TicketedHandshake,
) -> LegEnd {
    out.noise_protocol = match leg.psk {
        Some(_) => resumed_noise_protocol(leg.suite),
        None => noise_protocol_name(leg.pattern, leg.suite),
    };
    out.resumed = leg.psk.is_some();
    out.client_ephemeral_public = public_of(&out.client_ephemeral_private);
    out.server_ephemeral_public = public_of(&out.server_ephemeral_private);

    feed(server, client_hello, now);
    let hello = decide(server, leg.identity, leg.guard, now);
    let server_early_data = match server.poll_event() {
        Some(Event::EarlyData(data)) => Some(hx(&data)),
        None => None,
        other => panic!("server event {other:?}"),
    };
    let server_hello = take_output(server);
    feed(client, &server_hello, now);
    assert_eq!(client.suite(), Some(leg.suite));
    assert_eq!(client.pattern(), Some(leg.pattern));
    assert_eq!(client.is_resumed(), out.resumed);
    let (hash, c2s, s2c, confirm) = finished_secrets(client, server, now);
    assert_eq!(server.is_resumed(), out.resumed);
    let client_event = match client.poll_event() {
        Some(e @ (Event::EarlyDataAccepted | Event::EarlyDataRejected)) => Some(e),
        None => None,
        other => panic!("client event {other:?}"),
    };
    let status = client_event
        .as_ref()
        .map(|e| u8::from(*e == Event::EarlyDataAccepted));
    let server_hello_payload = status.map_or(Vec::new(), |s| vec![0x00, 0x03, 0x00, 0x01, s]);

    // Once the confirmation arrived: the ticket record, the server's first.
    let record = take_output(server);
    feed(client, &record, now);
    let ticket = match client.poll_event() {
        Some(Event::ResumptionTicket(t)) => t,
        other => panic!("client event {other:?}, not a ticket"),
    };
    assert_eq!(client.poll_event(), None);
    assert_eq!(server.poll_event(), None);
    assert!(take_output(client).is_empty());

    // The secrets lwsec does not expose, from snow's Split() and the spec's
    // key schedule, checked against what lwsec does expose.
    let header_len = client_hello_header_len(&client_hello[3..]);
    let prologue = prologue_of(client_hello);
    let server_public = unhex(&public_of(&leg.parties.server_static_private));
    let client_static = leg.parties.client_static_private.as_deref().map(unhex);
    let full = leg.psk.is_none();
    let (k1, k2, h) = snow_split(
        &out.noise_protocol,
        &prologue,
        full.then_some(&server_public[..]),
        client_static.as_deref().filter(|_| full),
        leg.psk.as_ref(),
        &unhex(&out.client_ephemeral_private),
        (&leg.client_hello_payload, &client_hello[3 + header_len..]),
        (&server_hello_payload, &server_hello[3..]),
    );
    assert_eq!(h, hash, "handshake hash (snow)");
    let secrets = spec_reference::key_schedule(&k1, &k2, &h);
    assert_eq!(hx(&secrets.c2s), c2s.secret, "c2s secret (spec)");
    assert_eq!(hx(&secrets.s2c), s2c.secret, "s2c secret (spec)");
    let resumption_secret =
        spec_reference::expand_label(&secrets.exporter, b"resumption", b"", 32).unwrap();
    let stored = ticket.to_bytes();
    assert_eq!(
        &stored[13..45],
        &resumption_secret[..],
        "the ticket's psk is the resumption secret"
    );

    out.prologue = hx(&prologue);
    out.client_hello_payload = hx(&leg.client_hello_payload);
    out.client_hello = hx(client_hello);
    out.server_hello_payload = hx(&server_hello_payload);
    out.server_hello = hx(&server_hello);
    out.client_confirm = hx(&confirm);
    out.handshake_hash = hx(&hash);
    out.exporter_secret = hx(&secrets.exporter);
    out.resumption_secret = hx(&resumption_secret);
    out.ticket = describe_ticket(leg.suite, &s2c, &record, leg.ticket_secret, &ticket);
    assert_eq!(
        out.ticket.nonce, out.ticket_nonce,
        "the nonce is the server RNG's"
    );
    assert_eq!(ticket.pattern(), leg.pattern);
    out.client_to_server = c2s;
    out.server_to_client = s2c;
    LegEnd {
        ticket,
        hello,
        server_early_data,
        client_event,
    }
}

/// Runs the resumption flow described by the inputs of `v` and returns
/// `v` with every output filled in.
pub fn compute_resumption(v: &ResumptionVector) -> ResumptionVector {
    let pattern = parse_pattern(&v.pattern);
    let suite = parse_suite(&v.suite);
    let mut out = v.clone();
    out.parties = with_public_keys(&v.parties);

    // The first connection: a full handshake and its ticket.
    let t1 = Time::from_millis(v.first_time);
    let mut rng = unhex(&v.first.server_ephemeral_private);
    rng.extend(unhex(&v.first.ticket_nonce));
    let mut server = ticket_server(v, &v.ticket_secret, &rng, None, t1);
    let config = client_config(
        pattern,
        &v.parties,
        &unhex(&v.first.client_ephemeral_private),
    );
    let mut client = Connection::client(config, t1).unwrap();
    let client_hello = take_output(&mut client);
    let full_leg = |ticket_secret| Leg {
        suite,
        psk: None,
        pattern,
        parties: &v.parties,
        ticket_secret,
        client_hello_payload: Vec::new(),
        identity: v.identity.as_deref(),
        guard: None,
    };
    let first = run_leg(
        &full_leg(&v.ticket_secret),
        &mut client,
        &mut server,
        &client_hello,
        t1,
        &mut out.first,
    );
    assert!(first.hello.resumption().is_none());
    assert_eq!(first.ticket, stored_ticket(&out), "stored form");

    // The second connection, with the ticket the client received.
    let t2 = Time::from_millis(v.second_time);
    let mut client = resuming_client(v, first.ticket);
    let mut server = second_server(v);
    let mut client_hello = take_output(&mut client);
    assert_eq!(client_hello[6], PATTERN_RESUME, "a resumption ClientHello");
    if let Some(refused) = &mut out.refused_flight {
        // A server of another fleet: ResumeRefused, then a full ClientHello
        // on the same connection.
        refused.client_ephemeral_public = public_of(&refused.client_ephemeral_private);
        refused.prologue = hx(&prologue_of(&client_hello));
        refused.client_hello = hx(&client_hello);
        feed(&mut server, &client_hello, t2);
        assert!(server.client_hello().is_none());
        let answer = take_output(&mut server);
        assert_eq!(answer, RESUME_REFUSED, "{}: ResumeRefused", v.name);
        refused.resume_refused = hx(&answer);
        feed(&mut client, &answer, t2);
        client_hello = take_output(&mut client);
        assert_eq!(client_hello[6], pattern.to_u8(), "a full ClientHello");
    }
    let guard = strike_register();
    let payload_1 = v.early_data.as_ref().map_or(Vec::new(), |data| {
        early_data_payload(v.second_time, &unhex(data))
    });
    let psk: [u8; 32] = unhex32(&out.first.resumption_secret);
    let resumed = v.refused_flight.is_none();
    let second_leg = Leg {
        psk: resumed.then_some(psk),
        client_hello_payload: payload_1,
        identity: if resumed { None } else { v.identity.as_deref() },
        guard: Some(&guard),
        ..full_leg(&v.second_ticket_secret)
    };
    let second = run_leg(
        &second_leg,
        &mut client,
        &mut server,
        &client_hello,
        t2,
        &mut out.second,
    );
    match second.hello.resumption() {
        Some(r) => {
            assert!(resumed);
            assert_eq!(r.authenticated_at(), t1, "the ticket's last full handshake");
            assert_eq!(
                r.identity().map(|i| hx(i.as_bytes())),
                v.identity,
                "the ticket's identity"
            );
        }
        None => assert!(!resumed),
    }
    assert_eq!(server.peer_identity().map(|i| hx(i.as_bytes())), v.identity);
    assert_eq!(
        server.peer_static_key().map(|k| hx(k.as_bytes())),
        out.parties.client_static_public,
        "the device key, from the ticket or the full handshake"
    );
    out.early_data_status = second
        .client_event
        .as_ref()
        .map(|e| u8::from(*e == Event::EarlyDataAccepted));
    out.client_event = second.client_event.map(|e| format!("{e:?}"));
    out.server_early_data = second.server_early_data;
    assert_eq!(v.early_data.is_some(), out.client_event.is_some());
    out
}

/// `resumption.json`.
pub(super) fn generate() -> ResumptionFile {
    let mut vectors = Vec::new();
    let aes = [Suite::Aes256Gcm];
    // (scenario, patterns and suites it runs with)
    let scenarios: [(&str, &[Suite]); 3] = [
        ("resumed", &Suite::ALL),
        ("refused", &aes),
        ("early-data", &aes),
    ];
    for (scenario, suites) in scenarios {
        for pattern in [Pattern::Nk, Pattern::Ik] {
            for &suite in suites {
                let name = format!(
                    "{}-{}-{scenario}",
                    pattern.noise_name().to_lowercase(),
                    suite_slug(suite)
                );
                vectors.push(compute_resumption(&inputs(&name, scenario, pattern, suite)));
            }
        }
    }
    ResumptionFile {
        description: "lwsec v1 resumption (spec 4.11): a full NK or IK handshake whose server \
                      sends a ticket, then a second connection with it: resumed (NNpsk0, each \
                      pattern and suite), refused by a server with another ticket key \
                      (ResumeRefused and a full handshake on the same connection), and \
                      resumed with early data accepted. See spec/VECTORS.md."
            .to_string(),
        vectors,
    }
}

/// The inputs of the vector `name`.
fn inputs(name: &str, scenario: &str, pattern: Pattern, suite: Suite) -> ResumptionVector {
    let seed = |role: &str, n: usize| hx(&seeded(&format!("resumption/{name}/{role}"), n));
    let ticket_secret = seed("ticket-secret", 32);
    let handshake = |leg: &str| TicketedHandshake {
        client_ephemeral_private: seed(&format!("{leg}-client-ephemeral"), 32),
        server_ephemeral_private: seed(&format!("{leg}-server-ephemeral"), 32),
        ticket_nonce: seed(&format!("{leg}-ticket-nonce"), 12),
        ..TicketedHandshake::default()
    };
    let early = scenario == "early-data";
    let first_time = FIXED_TIME.as_millis();
    ResumptionVector {
        name: name.to_string(),
        scenario: scenario.replace('-', "_"),
        pattern: pattern.noise_name().to_string(),
        suite: suite_name(suite),
        parties: Parties {
            client_suites: suites_preferring(suite),
            server_suites: Suite::ALL.iter().map(|s| s.to_u8()).collect(),
            server_static_private: seed("server-static", 32),
            client_static_private: (pattern == Pattern::Ik).then(|| seed("client-static", 32)),
            ..Parties::default()
        },
        second_ticket_secret: if scenario == "refused" {
            seed("other-fleet-ticket-secret", 32)
        } else {
            ticket_secret.clone()
        },
        ticket_secret,
        ticket_lifetime: TICKET_LIFETIME_S,
        identity: (pattern == Pattern::Ik).then(|| hx(IK_IDENTITY)),
        first_time,
        second_time: first_time + RESUME_AFTER_MS,
        early_data: early.then(|| hx(EARLY_DATA)),
        window_ms: early.then_some(EARLY_DATA_WINDOW_MS),
        first: handshake("first"),
        refused_flight: (scenario == "refused").then(|| RefusedFlight {
            client_ephemeral_private: seed("refused-client-ephemeral", 32),
            ..RefusedFlight::default()
        }),
        second: handshake("second"),
        ..ResumptionVector::default()
    }
}

//! Interoperability with `snow`, an independent Noise implementation.
//!
//! lwsec's handshake is plain Noise (`NK` or `IK`, X25519, AES-256-GCM or
//! ChaCha20-Poly1305, SHA-256) with the ClientHello header bound into the
//! prologue. These tests run one side of the handshake with `snow`, building
//! or parsing the lwsec framing by hand from the wire format, and the other
//! side with lwsec. They then check that both sides agree on the handshake
//! hash, on the peer's static key, and on the transport keys: a connection
//! built from snow's `Split()` exchanges records with the lwsec connection.

use std::sync::Arc;

use lwsec::{
    Acceptance, ClientConfig, Connection, Error, Event, Pattern, PublicKey, ServerConfig, Side,
    StaticKeyPair, Suite, Time, TransportConfig, noise_protocol_name,
};

const PROLOGUE_LABEL: &[u8] = b"lwsec/1 prologue";
const FRAME_CLIENT_HELLO: u8 = 0x01;
const FRAME_SERVER_HELLO: u8 = 0x02;
const FRAME_ALERT: u8 = 0x15;
/// Larger than one 16 KiB record, so it is fragmented.
const BIG_LEN: usize = 40_000;

fn now() -> Time {
    Time::from_millis(0)
}

fn server_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x11; 32])
}

fn device_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x22; 32])
}

fn client_key_for(pattern: Pattern) -> Option<StaticKeyPair> {
    match pattern {
        Pattern::Ik => Some(device_key()),
        _ => None,
    }
}

// ----- wire helpers (from the wire format, not from lwsec's code) -----

/// Encodes a version-1 ClientHello header with no Retry echo.
fn client_hello_header(
    pattern: Pattern,
    suite: Suite,
    suites: &[u8],
    server: &PublicKey,
) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(b"lw");
    h.push(1); // version
    h.push(pattern.to_u8());
    h.push(suite.to_u8());
    h.push(u8::try_from(suites.len()).unwrap());
    h.extend_from_slice(suites);
    h.extend_from_slice(&server.key_id());
    h.push(0); // flags
    h.push(0); // retry_len
    h
}

/// The length of the ClientHello header at the start of `body`.
fn client_hello_header_len(body: &[u8]) -> usize {
    assert_eq!(&body[..2], b"lw", "magic");
    assert_eq!(body[2], 1, "version");
    let n = usize::from(body[5]);
    let after_suites = 6 + n;
    // key_id (8), flags (1), retry_len (1), retry echo.
    let retry_len = usize::from(body[after_suites + 9]);
    after_suites + 10 + retry_len
}

fn prologue(header: &[u8]) -> Vec<u8> {
    [PROLOGUE_LABEL, header].concat()
}

fn frame(ty: u8, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len()).unwrap();
    let mut f = vec![ty];
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// Splits one whole frame off the front of `bytes`: (type, body, rest).
fn split_frame(bytes: &[u8]) -> (u8, &[u8], &[u8]) {
    assert!(bytes.len() >= 3, "no frame header");
    let len = usize::from(u16::from_be_bytes([bytes[1], bytes[2]]));
    assert!(bytes.len() >= 3 + len, "incomplete frame");
    (bytes[0], &bytes[3..3 + len], &bytes[3 + len..])
}

/// A TLV extension list with one extension.
fn extension(ty: u16, value: &[u8]) -> Vec<u8> {
    let mut e = ty.to_be_bytes().to_vec();
    e.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
    e.extend_from_slice(value);
    e
}

// ----- snow helpers -----

fn snow_builder<'a>(pattern: Pattern, suite: Suite, prologue: &'a [u8]) -> snow::Builder<'a> {
    let params: snow::params::NoiseParams = noise_protocol_name(pattern, suite).parse().unwrap();
    snow::Builder::new(params).prologue(prologue).unwrap()
}

fn snow_initiator(
    pattern: Pattern,
    suite: Suite,
    prologue: &[u8],
    server: &PublicKey,
    client: Option<&StaticKeyPair>,
) -> snow::HandshakeState {
    let private = client.map(|k| k.private_bytes());
    let mut b = snow_builder(pattern, suite, prologue)
        .remote_public_key(server.as_bytes())
        .unwrap();
    if let Some(private) = &private {
        b = b.local_private_key(&private[..]).unwrap();
    }
    b.build_initiator().unwrap()
}

fn snow_responder(
    pattern: Pattern,
    suite: Suite,
    prologue: &[u8],
    server: &StaticKeyPair,
) -> snow::HandshakeState {
    let private = server.private_bytes();
    snow_builder(pattern, suite, prologue)
        .local_private_key(&private[..])
        .unwrap()
        .build_responder()
        .unwrap()
}

/// Turns a finished snow handshake into an lwsec connection on `side`.
fn from_snow(
    mut hs: snow::HandshakeState,
    side: Side,
    pattern: Pattern,
    suite: Suite,
    peer_static: Option<PublicKey>,
) -> Connection {
    assert!(hs.is_handshake_finished());
    let hash: [u8; 32] = hs.get_handshake_hash().try_into().unwrap();
    let (k1, k2) = hs.dangerously_get_raw_split();
    let conn = Connection::dangerous_from_noise_split(
        {
            let split = lwsec::NoiseSplit::new(side, pattern, suite, &k1, &k2, hash);
            match peer_static {
                Some(k) => split.with_peer_static(k),
                None => split,
            }
        },
        TransportConfig::default(),
        now(),
    )
    .unwrap();
    assert_eq!(conn.handshake_hash(), Some(hash));
    conn
}

// ----- lwsec helpers -----

fn lwsec_server() -> Connection {
    Connection::server(Arc::new(ServerConfig::new(server_key())), now()).unwrap()
}

fn lwsec_client(pattern: Pattern, suite: Suite) -> Connection {
    let mut cfg = match pattern {
        Pattern::Ik => ClientConfig::ik(server_key().public_key(), device_key()),
        _ => ClientConfig::nk(server_key().public_key()),
    };
    cfg.suites = vec![suite];
    Connection::client(Arc::new(cfg), now()).unwrap()
}

/// Moves all of `from`'s output into `to`, collecting the messages `to`
/// receives on the way.
fn pump(from: &mut Connection, to: &mut Connection) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    loop {
        while let Some(m) = to.recv_message() {
            messages.push(m.to_vec());
        }
        if from.pending_output().is_empty() {
            break;
        }
        let n = to.handle_input(from.pending_output(), now()).unwrap();
        from.consume_output(n);
        if n == 0 {
            assert!(to.next_message_len().is_some(), "no progress");
        }
    }
    messages
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

fn pattern_bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

/// Checks that `a` and `b` hold matching keys: each one's send secrets are
/// the other's receive secrets.
fn assert_secrets_mirror(a: &Connection, b: &Connection) {
    let sa = a.dangerous_peek_secrets().unwrap();
    let sb = b.dangerous_peek_secrets().unwrap();
    assert_eq!(sa.send, sb.recv);
    assert_eq!(sa.recv, sb.send);
}

/// Exchanges messages both ways (empty, small, fragmented), a key update
/// in each direction and a graceful close between two established
/// connections.
fn exchange(a: &mut Connection, b: &mut Connection) {
    assert!(a.is_established() && b.is_established());
    assert_eq!(a.suite(), b.suite());
    assert_eq!(a.pattern(), b.pattern());
    assert_eq!(a.handshake_hash(), b.handshake_hash());
    assert_secrets_mirror(a, b);
    let mut ea = [0u8; 32];
    let mut eb = [0u8; 32];
    a.export_keying_material(b"interop", b"ctx", &mut ea)
        .unwrap();
    b.export_keying_material(b"interop", b"ctx", &mut eb)
        .unwrap();
    assert_eq!(ea, eb);

    let big_a = pattern_bytes(BIG_LEN, 1);
    let big_b = pattern_bytes(BIG_LEN + 7, 2);

    a.send_message(b"hello from a").unwrap();
    a.send_message(b"").unwrap();
    a.send_message(&big_a).unwrap();
    assert_eq!(
        pump(a, b),
        vec![b"hello from a".to_vec(), Vec::new(), big_a.clone()]
    );
    b.send_message(b"").unwrap();
    b.send_message(&big_b).unwrap();
    b.send_message(b"hello from b").unwrap();
    assert_eq!(
        pump(b, a),
        vec![Vec::new(), big_b.clone(), b"hello from b".to_vec()]
    );

    // Key update requested by a: b updates its receive keys, answers with
    // its own update, and a follows.
    let before = a.dangerous_peek_secrets().unwrap();
    a.update_keys(true).unwrap();
    a.send_message(b"after update (a)").unwrap();
    assert_eq!(pump(a, b), vec![b"after update (a)".to_vec()]);
    assert!(events(b).contains(&Event::KeyUpdated));
    b.send_message(b"after update (b)").unwrap();
    assert_eq!(pump(b, a), vec![b"after update (b)".to_vec()]);
    assert!(events(a).contains(&Event::KeyUpdated));
    let after = a.dangerous_peek_secrets().unwrap();
    assert_ne!(before.send.secret, after.send.secret);
    assert_ne!(before.recv.secret, after.recv.secret);
    assert_secrets_mirror(a, b);

    // The other direction asks too, with a fragmented message after it.
    b.update_keys(true).unwrap();
    b.send_message(&big_b).unwrap();
    assert_eq!(pump(b, a), vec![big_b]);
    a.send_message(&big_a).unwrap();
    assert_eq!(pump(a, b), vec![big_a]);
    assert!(events(a).contains(&Event::KeyUpdated));
    assert!(events(b).contains(&Event::KeyUpdated));

    // Graceful close, both ways.
    a.close().unwrap();
    assert!(pump(a, b).is_empty());
    assert!(events(b).contains(&Event::PeerClosed));
    b.send_message(b"last words").unwrap();
    b.close().unwrap();
    assert_eq!(pump(b, a), vec![b"last words".to_vec()]);
    assert!(events(a).contains(&Event::PeerClosed));
    a.handle_eof().unwrap();
    b.handle_eof().unwrap();
}

// ----- snow initiator → lwsec server -----

fn snow_client_to_lwsec_server(pattern: Pattern, suite: Suite) {
    let server_pub = server_key().public_key();
    let client = client_key_for(pattern);
    let header = client_hello_header(pattern, suite, &[suite.to_u8()], &server_pub);
    let prologue = prologue(&header);
    let mut snow = snow_initiator(pattern, suite, &prologue, &server_pub, client.as_ref());

    let mut msg1 = vec![0u8; 1024];
    let n = snow.write_message(&[], &mut msg1).unwrap();
    let hello = frame(FRAME_CLIENT_HELLO, &[&header[..], &msg1[..n]].concat());

    let mut server = lwsec_server();
    assert_eq!(server.handle_input(&hello, now()).unwrap(), hello.len());
    assert_eq!(events(&mut server), vec![Event::ClientHello]);
    server.accept_client(Acceptance::new(), now()).unwrap();
    assert!(server.is_awaiting_confirmation());
    assert_eq!(server.suite(), Some(suite));
    assert_eq!(server.pattern(), Some(pattern));

    let out = server.pending_output().to_vec();
    let (ty, body, rest) = split_frame(&out);
    assert_eq!(ty, FRAME_SERVER_HELLO);
    assert!(rest.is_empty());
    server.consume_output(out.len());
    let mut payload = vec![0u8; 1024];
    let n = snow.read_message(body, &mut payload).unwrap();
    assert_eq!(n, 0, "lwsec v1 sends an empty extension list");

    assert_eq!(
        Some(<[u8; 32]>::try_from(snow.get_handshake_hash()).unwrap()),
        server.handshake_hash()
    );

    // The harness, as snow's client side, sends the key confirmation record
    // (section 4.10) on the keys from snow's Split(); only then does the
    // lwsec server report the client.
    let mut snow_conn = from_snow(snow, Side::Client, pattern, suite, Some(server_pub));
    assert!(pump(&mut snow_conn, &mut server).is_empty());
    assert!(server.is_established());
    assert_eq!(events(&mut server), vec![Event::HandshakeComplete]);
    assert_eq!(
        server.peer_static_key(),
        client.as_ref().map(StaticKeyPair::public_key)
    );
    events(&mut snow_conn);
    exchange(&mut snow_conn, &mut server);
}

#[test]
fn snow_nk_aes_initiator_to_lwsec_server() {
    snow_client_to_lwsec_server(Pattern::Nk, Suite::Aes256Gcm);
}

#[test]
fn snow_nk_chacha_initiator_to_lwsec_server() {
    snow_client_to_lwsec_server(Pattern::Nk, Suite::ChaCha20Poly1305);
}

#[test]
fn snow_ik_aes_initiator_to_lwsec_server() {
    snow_client_to_lwsec_server(Pattern::Ik, Suite::Aes256Gcm);
}

#[test]
fn snow_ik_chacha_initiator_to_lwsec_server() {
    snow_client_to_lwsec_server(Pattern::Ik, Suite::ChaCha20Poly1305);
}

// ----- lwsec client → snow responder -----

fn lwsec_client_to_snow_server(pattern: Pattern, suite: Suite) {
    let mut client = lwsec_client(pattern, suite);
    let out = client.pending_output().to_vec();
    let (ty, body, rest) = split_frame(&out);
    assert_eq!(ty, FRAME_CLIENT_HELLO);
    assert!(rest.is_empty());
    client.consume_output(out.len());

    let header_len = client_hello_header_len(body);
    let (header, msg1) = body.split_at(header_len);
    assert_eq!(
        header,
        client_hello_header(pattern, suite, &[suite.to_u8()], &server_key().public_key()),
        "lwsec's header matches the wire format"
    );
    let prologue = prologue(header);
    let mut snow = snow_responder(pattern, suite, &prologue, &server_key());
    let mut payload = vec![0u8; 1024];
    let n = snow.read_message(msg1, &mut payload).unwrap();
    assert_eq!(n, 0, "lwsec v1 sends an empty extension list");
    let device_pub = client_key_for(pattern);
    let device_pub_bytes = device_pub.as_ref().map(|k| *k.public_key().as_bytes());
    assert_eq!(
        snow.get_remote_static(),
        device_pub_bytes.as_ref().map(|b| &b[..])
    );

    let mut msg2 = vec![0u8; 1024];
    let n = snow.write_message(&[], &mut msg2).unwrap();
    let hello = frame(FRAME_SERVER_HELLO, &msg2[..n]);
    assert_eq!(client.handle_input(&hello, now()).unwrap(), hello.len());
    assert!(client.is_established());
    assert_eq!(events(&mut client), vec![Event::HandshakeComplete]);
    assert_eq!(client.suite(), Some(suite));
    assert_eq!(client.peer_static_key(), Some(server_key().public_key()));
    assert_eq!(
        Some(<[u8; 32]>::try_from(snow.get_handshake_hash()).unwrap()),
        client.handshake_hash()
    );

    let peer = device_pub.map(|k| k.public_key());
    let mut snow_conn = from_snow(snow, Side::Server, pattern, suite, peer);
    // lwsec's confirm record opens under the keys of snow's Split().
    assert!(snow_conn.is_awaiting_confirmation());
    assert!(pump(&mut client, &mut snow_conn).is_empty());
    assert!(snow_conn.is_established());
    events(&mut snow_conn);
    exchange(&mut client, &mut snow_conn);
}

#[test]
fn snow_nk_aes_responder_to_lwsec_client() {
    lwsec_client_to_snow_server(Pattern::Nk, Suite::Aes256Gcm);
}

#[test]
fn snow_nk_chacha_responder_to_lwsec_client() {
    lwsec_client_to_snow_server(Pattern::Nk, Suite::ChaCha20Poly1305);
}

#[test]
fn snow_ik_aes_responder_to_lwsec_client() {
    lwsec_client_to_snow_server(Pattern::Ik, Suite::Aes256Gcm);
}

#[test]
fn snow_ik_chacha_responder_to_lwsec_client() {
    lwsec_client_to_snow_server(Pattern::Ik, Suite::ChaCha20Poly1305);
}

// ----- negative and edge cases -----

/// Sends a ClientHello made by a snow initiator to an lwsec server. The
/// header carries `header_suites`; the prologue snow uses carries
/// `prologue_suites`. Returns the server's result and output.
fn snow_hello_to_server(
    pattern: Pattern,
    payload: &[u8],
    header_suites: &[u8],
    prologue_suites: &[u8],
) -> (Result<usize, Error>, Connection, snow::HandshakeState) {
    let suite = Suite::Aes256Gcm;
    let server_pub = server_key().public_key();
    let client = client_key_for(pattern);
    let header = client_hello_header(pattern, suite, header_suites, &server_pub);
    let snow_header = client_hello_header(pattern, suite, prologue_suites, &server_pub);
    let prologue = prologue(&snow_header);
    let mut snow = snow_initiator(pattern, suite, &prologue, &server_pub, client.as_ref());
    let mut msg1 = vec![0u8; 1024];
    let n = snow.write_message(payload, &mut msg1).unwrap();
    let hello = frame(FRAME_CLIENT_HELLO, &[&header[..], &msg1[..n]].concat());
    let mut server = lwsec_server();
    let result = server.handle_input(&hello, now());
    (result, server, snow)
}

/// The cleartext alert code a failed server queued.
fn alert_sent(server: &Connection) -> u8 {
    let (ty, body, rest) = split_frame(server.pending_output());
    assert_eq!(ty, FRAME_ALERT);
    assert!(rest.is_empty());
    assert_eq!(body.len(), 1);
    body[0]
}

#[test]
fn snow_unknown_noncritical_extension_is_ignored() {
    for pattern in [Pattern::Nk, Pattern::Ik] {
        let payload = extension(0x1234, b"abc");
        let (result, mut server, mut snow) = snow_hello_to_server(pattern, &payload, &[1], &[1]);
        assert!(result.is_ok(), "{pattern}: {result:?}");
        server.accept_client(Acceptance::new(), now()).unwrap();
        let out = server.pending_output().to_vec();
        let (ty, body, _) = split_frame(&out);
        assert_eq!(ty, FRAME_SERVER_HELLO);
        server.consume_output(out.len());
        let mut buf = vec![0u8; 1024];
        snow.read_message(body, &mut buf).unwrap();
        assert_eq!(
            Some(<[u8; 32]>::try_from(snow.get_handshake_hash()).unwrap()),
            server.handshake_hash()
        );
    }
}

#[test]
fn snow_critical_unknown_extension_is_refused() {
    for pattern in [Pattern::Nk, Pattern::Ik] {
        let payload = extension(0x9234, b"abc");
        let (result, server, _) = snow_hello_to_server(pattern, &payload, &[1], &[1]);
        assert_eq!(
            result,
            Err(Error::UnsupportedExtension(0x9234)),
            "{pattern}"
        );
        assert_eq!(server.error(), Some(&Error::UnsupportedExtension(0x9234)));
        assert_eq!(
            alert_sent(&server),
            lwsec::AlertCode::UnsupportedExtension.to_u8()
        );
    }
}

#[test]
fn snow_prologue_mismatch_is_detected_as_downgrade() {
    for pattern in [Pattern::Nk, Pattern::Ik] {
        // The header offers [AES, ChaCha]; the initiator's prologue says it
        // offered only [AES], as if an attacker had edited the list.
        let (result, server, _) = snow_hello_to_server(pattern, &[], &[1, 2], &[1]);
        assert_eq!(result, Err(Error::HandshakeDecrypt), "{pattern}");
        assert!(!server.is_established());
        assert_eq!(alert_sent(&server), lwsec::AlertCode::DecryptError.to_u8());
    }
}

#[test]
fn snow_matching_prologue_control_succeeds() {
    // The same two-suite header with a matching prologue is accepted: the
    // failure above is due to the mismatch alone.
    for pattern in [Pattern::Nk, Pattern::Ik] {
        let (result, server, _) = snow_hello_to_server(pattern, &[], &[1, 2], &[1, 2]);
        assert!(result.is_ok(), "{pattern}: {result:?}");
        assert!(server.client_hello().is_some(), "message 1 was read");
    }
}

/// Runs an lwsec client against a snow responder that writes `payload` in
/// message 2. Returns the client's result and the client.
fn snow_server_hello_to_client(
    pattern: Pattern,
    payload: &[u8],
) -> (Result<usize, Error>, Connection) {
    let suite = Suite::ChaCha20Poly1305;
    let mut client = lwsec_client(pattern, suite);
    let out = client.pending_output().to_vec();
    client.consume_output(out.len());
    let (_, body, _) = split_frame(&out);
    let (header, msg1) = body.split_at(client_hello_header_len(body));
    let prologue = prologue(header);
    let mut snow = snow_responder(pattern, suite, &prologue, &server_key());
    let mut buf = vec![0u8; 1024];
    snow.read_message(msg1, &mut buf).unwrap();
    let mut msg2 = vec![0u8; 1024];
    let n = snow.write_message(payload, &mut msg2).unwrap();
    let hello = frame(FRAME_SERVER_HELLO, &msg2[..n]);
    let result = client.handle_input(&hello, now());
    (result, client)
}

#[test]
fn snow_responder_extensions_reach_lwsec_client() {
    for pattern in [Pattern::Nk, Pattern::Ik] {
        let (result, client) = snow_server_hello_to_client(pattern, &extension(0x1234, b"abc"));
        assert!(result.is_ok(), "{pattern}: {result:?}");
        assert!(client.is_established());

        let (result, client) = snow_server_hello_to_client(pattern, &extension(0x9234, b"abc"));
        assert_eq!(
            result,
            Err(Error::UnsupportedExtension(0x9234)),
            "{pattern}"
        );
        assert_eq!(client.error(), Some(&Error::UnsupportedExtension(0x9234)));
        assert_eq!(
            alert_sent(&client),
            lwsec::AlertCode::UnsupportedExtension.to_u8()
        );
    }
}

// ----- resumption (NNpsk0, spec 4.11) -----

const RESUME_PATTERN: u8 = 0x03;

/// A resumption ClientHello header: the full header, then the ticket.
fn resume_header(suite: Suite, server: &PublicKey, ticket: &[u8]) -> Vec<u8> {
    let mut h = client_hello_header(Pattern::Nk, suite, &[suite.to_u8()], server);
    h[3] = RESUME_PATTERN;
    h.extend_from_slice(&u16::try_from(ticket.len()).unwrap().to_be_bytes());
    h.extend_from_slice(ticket);
    h
}

fn snow_psk_builder<'a>(suite: Suite, prologue: &'a [u8], psk: &'a [u8; 32]) -> snow::Builder<'a> {
    let name = format!("Noise_NNpsk0_25519_{}_SHA256", suite.noise_name());
    let params: snow::params::NoiseParams = name.parse().unwrap();
    snow::Builder::new(params)
        .prologue(prologue)
        .unwrap()
        .psk(0, psk)
        .unwrap()
}

/// The secret bytes of a stored ticket (`"lwt1" || expires (8) || pattern
/// (1) || psk (32) || ticket_len (2) || ticket`, `ResumptionTicket::to_bytes`).
fn ticket_parts(stored: &[u8]) -> ([u8; 32], Vec<u8>) {
    assert_eq!(&stored[..4], b"lwt1");
    let psk: [u8; 32] = stored[13..45].try_into().unwrap();
    let len = usize::from(u16::from_be_bytes([stored[45], stored[46]]));
    (psk, stored[47..47 + len].to_vec())
}

/// A real ticket from an lwsec server with ticket keys, after a full NK
/// handshake with an lwsec client.
fn lwsec_ticket(config: &Arc<ServerConfig>) -> lwsec::ResumptionTicket {
    let mut client =
        Connection::client(Arc::new(ClientConfig::nk(server_key().public_key())), now()).unwrap();
    let mut server = Connection::server(config.clone(), now()).unwrap();
    let hello = client.pending_output().to_vec();
    client.consume_output(hello.len());
    server.handle_input(&hello, now()).unwrap();
    server.accept_client(Acceptance::new(), now()).unwrap();
    assert!(pump(&mut server, &mut client).is_empty());
    assert!(pump(&mut client, &mut server).is_empty());
    assert!(pump(&mut server, &mut client).is_empty());
    events(&mut client)
        .into_iter()
        .find_map(|e| match e {
            Event::ResumptionTicket(t) => Some(t),
            _ => None,
        })
        .expect("a ticket")
}

fn snow_resumes_to_lwsec_server(suite: Suite) {
    let mut config = ServerConfig::new(server_key());
    config.enable_resumption(Arc::new(lwsec::TicketKeyring::new(lwsec::TicketKeys::new(
        [0x33; 32],
    ))));
    let config = Arc::new(config);
    let (psk, ticket) = ticket_parts(&lwsec_ticket(&config).to_bytes());

    let header = resume_header(suite, &server_key().public_key(), &ticket);
    let prologue = prologue(&header);
    let mut snow = snow_psk_builder(suite, &prologue, &psk)
        .build_initiator()
        .unwrap();
    let mut msg1 = vec![0u8; 1024];
    let n = snow.write_message(&[], &mut msg1).unwrap();
    assert_eq!(n, 48, "e and the payload's tag");
    let hello = frame(FRAME_CLIENT_HELLO, &[&header[..], &msg1[..n]].concat());

    let mut server = Connection::server(config, now()).unwrap();
    assert_eq!(server.handle_input(&hello, now()).unwrap(), hello.len());
    assert!(server.client_hello().unwrap().resumption().is_some());
    server.accept_client(Acceptance::new(), now()).unwrap();
    let out = server.pending_output().to_vec();
    server.consume_output(out.len());
    let (ty, body, rest) = split_frame(&out);
    assert_eq!(ty, FRAME_SERVER_HELLO);
    assert!(rest.is_empty());
    let mut payload = vec![0u8; 1024];
    assert_eq!(snow.read_message(body, &mut payload).unwrap(), 0);

    let mut snow_conn = from_snow(snow, Side::Client, Pattern::Nk, suite, None);
    assert!(pump(&mut snow_conn, &mut server).is_empty());
    assert!(server.is_established() && server.is_resumed());
    // The server's new ticket reaches the snow side as a ticket record.
    assert!(pump(&mut server, &mut snow_conn).is_empty());
    assert!(
        events(&mut snow_conn)
            .iter()
            .any(|e| matches!(e, Event::ResumptionTicket(_)))
    );
    events(&mut server);
    exchange(&mut snow_conn, &mut server);
}

#[test]
fn snow_nnpsk0_aes_initiator_resumes_with_lwsec_server() {
    snow_resumes_to_lwsec_server(Suite::Aes256Gcm);
}

#[test]
fn snow_nnpsk0_chacha_initiator_resumes_with_lwsec_server() {
    snow_resumes_to_lwsec_server(Suite::ChaCha20Poly1305);
}

fn lwsec_client_resumes_with_snow_server(suite: Suite) {
    // A ticket the client holds: any bytes with a psk (the format is the
    // server's business).
    let psk = [0x44u8; 32];
    let ticket_bytes = pattern_bytes(77, 9);
    let mut stored = b"lwt1".to_vec();
    stored.extend_from_slice(&u64::MAX.to_be_bytes());
    stored.push(Pattern::Ik.to_u8());
    stored.extend_from_slice(&psk);
    stored.extend_from_slice(&77u16.to_be_bytes());
    stored.extend_from_slice(&ticket_bytes);
    let ticket = lwsec::ResumptionTicket::from_bytes(&stored).unwrap();
    let mut cfg = ClientConfig::ik(server_key().public_key(), device_key());
    cfg.suites = vec![suite];
    let mut client = Connection::resume(Arc::new(cfg), ticket, now()).unwrap();

    let out = client.pending_output().to_vec();
    client.consume_output(out.len());
    let (ty, body, rest) = split_frame(&out);
    assert_eq!(ty, FRAME_CLIENT_HELLO);
    assert!(rest.is_empty());
    let header_len = client_hello_header_len(body) + 2 + ticket_bytes.len();
    let header = &body[..header_len];
    assert_eq!(header[3], RESUME_PATTERN);
    assert_eq!(&header[header_len - 77..], &ticket_bytes[..]);
    let prologue = prologue(header);
    let mut snow = snow_psk_builder(suite, &prologue, &psk)
        .build_responder()
        .unwrap();
    let mut payload = vec![0u8; 1024];
    assert_eq!(
        snow.read_message(&body[header_len..], &mut payload)
            .unwrap(),
        0
    );
    let mut msg2 = vec![0u8; 1024];
    let n = snow.write_message(&[], &mut msg2).unwrap();
    let reply = frame(FRAME_SERVER_HELLO, &msg2[..n]);
    assert_eq!(client.handle_input(&reply, now()).unwrap(), reply.len());
    assert!(client.is_established() && client.is_resumed());
    assert_eq!(client.pattern(), Some(Pattern::Ik));
    assert_eq!(client.peer_static_key(), None);
    let mut snow_conn = from_snow(snow, Side::Server, Pattern::Ik, suite, None);
    events(&mut client);
    // The client's confirm record opens on snow's keys.
    assert!(pump(&mut client, &mut snow_conn).is_empty());
    assert!(snow_conn.is_established());
    events(&mut snow_conn);
    exchange(&mut client, &mut snow_conn);
}

#[test]
fn lwsec_client_resumes_with_snow_nnpsk0_aes_responder() {
    lwsec_client_resumes_with_snow_server(Suite::Aes256Gcm);
}

#[test]
fn lwsec_client_resumes_with_snow_nnpsk0_chacha_responder() {
    lwsec_client_resumes_with_snow_server(Suite::ChaCha20Poly1305);
}

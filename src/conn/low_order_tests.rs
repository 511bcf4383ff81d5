//! Low-order X25519 points through the whole handshake: the 14 distinct
//! public keys of the Wycheproof `ZeroSharedSecret` cases
//! (`test-vectors/third_party/wycheproof/x25519_test.json`) as the client's
//! ephemeral, as an IK client's static key and as the server's ephemeral, in
//! both suites. Each must abort the handshake with [`Error::LowOrderPoint`];
//! a server also queues a cleartext `decrypt_error` alert.

use crate::crypto::RUST_CRYPTO;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::config::{ClientConfig, ServerConfig};
use crate::conn::Connection;
use crate::crypto::dh::{KEY_LEN, PublicKey, StaticKeyPair};
use crate::crypto::rng::{DeterministicRandom, OsRandom, SecureRandom};
use crate::error::{AlertCode, Error};
use crate::noise::SymmetricState;
use crate::suite::{Pattern, Suite, noise_protocol_name};
use crate::time::Time;
use crate::wire::Reader;
use crate::wire::frame::HEADER_LEN;
use crate::wire::hello::{ClientHelloHeader, prologue};

/// A cleartext alert frame carrying `decrypt_error` (51).
const DECRYPT_ERROR_ALERT: [u8; 4] = [0x15, 0x00, 0x01, 0x33];

fn now() -> Time {
    Time::from_millis(0)
}

/// The distinct public keys of the Wycheproof X25519 cases flagged
/// `ZeroSharedSecret` (all-zero shared secret: a low-order point).
fn low_order_points() -> Vec<[u8; KEY_LEN]> {
    let doc = crate::vector_files::load("wycheproof/x25519_test.json");
    let mut points = BTreeSet::new();
    let mut cases = 0;
    for group in doc["testGroups"].as_array().unwrap() {
        for test in group["tests"].as_array().unwrap() {
            let flags = test["flags"].as_array().unwrap();
            if flags.iter().any(|f| f == "ZeroSharedSecret") {
                let point: [u8; KEY_LEN] = hex::decode(test["public"].as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap();
                points.insert(point);
                cases += 1;
            }
        }
    }
    assert_eq!((cases, points.len()), (31, 14));
    points.into_iter().collect()
}

fn seeded(seed: &[u8]) -> Arc<dyn SecureRandom> {
    Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        seed,
    ))
}

/// The first key pair `StaticKeyPair::generate` draws from `seeded(seed)`.
fn first_key(seed: &[u8]) -> PublicKey {
    StaticKeyPair::generate(seeded(seed).as_ref())
        .unwrap()
        .public_key()
}

struct Setup {
    server_key: StaticKeyPair,
    client_key: StaticKeyPair,
}

impl Setup {
    fn new() -> Self {
        Self {
            server_key: StaticKeyPair::generate(&OsRandom).unwrap(),
            client_key: StaticKeyPair::generate(&OsRandom).unwrap(),
        }
    }

    fn client(&self, pattern: Pattern, suite: Suite, seed: &[u8]) -> Connection {
        let mut config = match pattern {
            Pattern::Nk => ClientConfig::nk(self.server_key.public_key()),
            Pattern::Ik => ClientConfig::ik(self.server_key.public_key(), self.client_key.clone()),
        };
        config.suites = vec![suite];
        config.rng = seeded(seed);
        Connection::client(Arc::new(config), now()).unwrap()
    }

    fn server(&self, seed: &[u8]) -> Connection {
        let mut config = ServerConfig::new(self.server_key.clone());
        config.rng = seeded(seed);
        Connection::server(Arc::new(config), now()).unwrap()
    }
}

/// Length of the cleartext ClientHello header at the start of `frame`'s body.
fn header_len(frame: &[u8]) -> usize {
    let body = &frame[HEADER_LEN..];
    let mut r = Reader::new(body);
    let (_, header) = ClientHelloHeader::decode(&mut r, body).unwrap();
    header.len()
}

/// Feeds `frame` to `conn` and checks that it fails with `LowOrderPoint`.
fn assert_low_order_rejected(conn: &mut Connection, frame: &[u8], what: &str) {
    assert_eq!(
        conn.handle_input(frame, now()),
        Err(Error::LowOrderPoint),
        "{what}"
    );
    assert_eq!(conn.error(), Some(&Error::LowOrderPoint), "{what}");
    assert!(!conn.is_established() && !conn.is_handshaking(), "{what}");
    assert_eq!(
        conn.pending_output(),
        DECRYPT_ERROR_ALERT,
        "{what}: alert frame"
    );
    // The failure is sticky.
    assert_eq!(conn.handle_input(&[], now()), Err(Error::LowOrderPoint));
}

#[test]
fn low_order_alert_code_is_decrypt_error() {
    assert_eq!(Error::LowOrderPoint.alert(), Some(AlertCode::DecryptError));
    assert_eq!(AlertCode::DecryptError.to_u8(), DECRYPT_ERROR_ALERT[3]);
}

/// (a) The client's ephemeral key in a real ClientHello replaced by a
/// low-order point: the server's `es` DH gives zeros.
#[test]
fn low_order_client_ephemeral_is_rejected_by_server() {
    let setup = Setup::new();
    let mut run = 0;
    for pattern in [Pattern::Nk, Pattern::Ik] {
        for suite in Suite::ALL {
            for point in low_order_points() {
                let client = setup.client(pattern, suite, b"client");
                let mut frame = client.pending_output().to_vec();
                let at = HEADER_LEN + header_len(&frame);
                let ephemeral = &mut frame[at..at + KEY_LEN];
                // The bytes replaced really are the client's ephemeral key.
                assert_eq!(ephemeral, first_key(b"client").as_bytes());
                ephemeral.copy_from_slice(&point);
                let mut server = setup.server(b"server");
                let what = format!("{pattern} {suite} e={}", hex::encode(point));
                assert_low_order_rejected(&mut server, &frame, &what);
                run += 1;
            }
        }
    }
    assert_eq!(run, 2 * 2 * 14);
}

/// Builds an IK first message (`e, es, s, ss`) whose encrypted static key
/// is `static_public`. `ss` is mixed in from `static_secret` when the
/// sender has one; with a low-order point no honest sender can compute it,
/// so a stand-in key is mixed and the payload tag is garbage, which the
/// server must never reach.
fn ik_message_1(
    header: &[u8],
    suite: Suite,
    server: PublicKey,
    static_public: [u8; KEY_LEN],
    static_secret: Option<&StaticKeyPair>,
) -> Vec<u8> {
    let mut sym = SymmetricState::initialize_symmetric(
        &RUST_CRYPTO,
        &noise_protocol_name(Pattern::Ik, suite),
        suite,
    );
    sym.mix_hash(&prologue(header));
    sym.mix_hash(server.as_bytes());
    let e = StaticKeyPair::generate(&OsRandom).unwrap();
    let mut msg = e.public_key().as_bytes().to_vec();
    sym.mix_hash(e.public_key().as_bytes());
    sym.mix_key(e.dh(&RUST_CRYPTO, &server).unwrap().as_ref())
        .unwrap();
    let start = msg.len();
    msg.extend_from_slice(&static_public);
    sym.encrypt_and_hash(&mut msg, start).unwrap();
    match static_secret {
        Some(s) => sym
            .mix_key(s.dh(&RUST_CRYPTO, &server).unwrap().as_ref())
            .unwrap(),
        None => sym.mix_key(&[0x5a; KEY_LEN]).unwrap(),
    }
    let start = msg.len();
    sym.encrypt_and_hash(&mut msg, start).unwrap();
    msg
}

/// Replaces the Noise message of an IK ClientHello frame.
fn with_noise_message(frame: &[u8], message: &[u8]) -> Vec<u8> {
    let header_end = HEADER_LEN + header_len(frame);
    let header = &frame[HEADER_LEN..header_end];
    let body_len = u16::try_from(header.len() + message.len()).unwrap();
    let mut out = vec![frame[0]];
    out.extend_from_slice(&body_len.to_be_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(message);
    assert_eq!(out.len(), frame.len(), "same size as a real IK ClientHello");
    out
}

/// (b) An IK ClientHello whose encrypted static key is a low-order point:
/// the server's `ss` DH gives zeros.
#[test]
fn low_order_ik_client_static_is_rejected_by_server() {
    let setup = Setup::new();
    let server_pub = setup.server_key.public_key();
    let mut run = 0;
    for suite in Suite::ALL {
        let client = setup.client(Pattern::Ik, suite, b"client");
        let frame = client.pending_output().to_vec();
        let header = frame[HEADER_LEN..HEADER_LEN + header_len(&frame)].to_vec();

        // Control: the same construction with an honest static key is accepted,
        // so a rejection below is due to the point alone.
        let honest = StaticKeyPair::generate(&OsRandom).unwrap();
        let message = ik_message_1(
            &header,
            suite,
            server_pub,
            *honest.public_key().as_bytes(),
            Some(&honest),
        );
        let mut server = setup.server(b"server");
        server
            .handle_input(&with_noise_message(&frame, &message), now())
            .unwrap();
        let hello = server.client_hello().expect("message 1 was read");
        assert_eq!(hello.claimed_client_key(), Some(honest.public_key()));

        for point in low_order_points() {
            let message = ik_message_1(&header, suite, server_pub, point, None);
            let mut server = setup.server(b"server");
            let what = format!("IK {suite} s={}", hex::encode(point));
            assert_low_order_rejected(&mut server, &with_noise_message(&frame, &message), &what);
            run += 1;
        }
    }
    assert_eq!(run, 2 * 14);
}

/// (c) The server's ephemeral key in a real ServerHello replaced by a
/// low-order point: the client's `ee` DH gives zeros.
#[test]
fn low_order_server_ephemeral_is_rejected_by_client() {
    let setup = Setup::new();
    let mut run = 0;
    for pattern in [Pattern::Nk, Pattern::Ik] {
        for suite in Suite::ALL {
            // Control: the unmodified ServerHello completes the handshake.
            let mut client = setup.client(pattern, suite, b"client");
            let mut server = setup.server(b"server");
            let n = server.handle_input(client.pending_output(), now()).unwrap();
            client.consume_output(n);
            server
                .accept_client(crate::Acceptance::new(), now())
                .unwrap();
            let server_hello = server.pending_output().to_vec();
            client.handle_input(&server_hello, now()).unwrap();
            assert!(client.is_established());

            for point in low_order_points() {
                let mut frame = server_hello.clone();
                let ephemeral = &mut frame[HEADER_LEN..HEADER_LEN + KEY_LEN];
                // The bytes replaced really are the server's ephemeral key.
                assert_eq!(ephemeral, first_key(b"server").as_bytes());
                ephemeral.copy_from_slice(&point);
                let mut client = setup.client(pattern, suite, b"client");
                client.consume_output(client.pending_output().len());
                let what = format!("{pattern} {suite} server e={}", hex::encode(point));
                assert_low_order_rejected(&mut client, &frame, &what);
                run += 1;
            }
        }
    }
    assert_eq!(run, 2 * 2 * 14);
}

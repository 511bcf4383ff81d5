//! Tampering with a complete, honest conversation.
//!
//! For NK and IK, with both suites, an honest client and server run the
//! handshake and exchange three messages and a close_notify each way. The
//! transcript is deterministic (seeded RNGs), so each case rebuilds the
//! receiver and replays the transcript with one change:
//!
//! * every bit of every byte flipped (one flip per run): the receiver fails
//!   with an error (at once, or, when a length grew past the end of the
//!   transcript, at EOF with `Error::Truncated`) and delivers exactly the
//!   messages before the tampered record;
//! * truncation at every offset: no error and no delivery of the truncated
//!   record, then `handle_eof` reports `Error::Truncated` (and `Ok` only for
//!   the complete transcript, which ends with close_notify);
//! * records replayed, reordered, dropped, duplicated, reflected or taken
//!   from another connection: `Error::BadRecordMac` (any record after the
//!   peer's close_notify: `Error::UnexpectedMessage`, before decryption);
//! * handshake messages replayed, reordered, dropped, duplicated or
//!   reflected: `Error::UnexpectedMessage` (a handshake frame where a record
//!   or another handshake message is expected), `Error::HandshakeDecrypt`
//!   (a ServerHello from another connection). A ClientHello replayed to a
//!   fresh server is answered (a Noise first flight carries no freshness),
//!   but the server never counts the client as confirmed: the replayed
//!   client records then fail with `Error::BadRecordMac`.

use std::sync::Arc;

use lwsec::rng::DeterministicRandom;
use lwsec::{
    Acceptance, ClientConfig, Connection, Error, Pattern, ServerConfig, StaticKeyPair, Suite, Time,
    UnexpectedReason,
};

const NOW: Time = Time::from_millis(0);
const MESSAGES: usize = 3;

fn message(from_client: bool, i: usize) -> Vec<u8> {
    format!(
        "{} message {i}",
        if from_client { "client" } else { "server" }
    )
    .into_bytes()
}

#[derive(Clone, Copy, Debug)]
struct Setup {
    pattern: Pattern,
    suite: Suite,
}

fn rng(label: &str, seed: u8) -> Arc<DeterministicRandom> {
    Arc::new(DeterministicRandom::dangerous_from_seed_for_testing_only(
        format!("{label} {seed}").as_bytes(),
    ))
}

fn server_key() -> StaticKeyPair {
    StaticKeyPair::from_private_bytes([0x51; 32])
}

impl Setup {
    fn client(&self, seed: u8) -> Connection {
        let mut cfg = match self.pattern {
            Pattern::Ik => ClientConfig::ik(
                server_key().public_key(),
                StaticKeyPair::from_private_bytes([0x52; 32]),
            ),
            _ => ClientConfig::nk(server_key().public_key()),
        };
        cfg.suites = vec![self.suite];
        cfg.rng = rng("client", seed);
        let mut client = Connection::client(Arc::new(cfg), NOW).unwrap();
        // The ClientHello is in the transcript.
        let n = client.pending_output().len();
        client.consume_output(n);
        client
    }

    fn server(&self, seed: u8) -> Connection {
        let mut cfg = ServerConfig::new(server_key());
        cfg.rng = rng("server", seed);
        Connection::server(Arc::new(cfg), NOW).unwrap()
    }

    fn receiver(&self, to_server: bool, seed: u8) -> Connection {
        if to_server {
            self.server(seed)
        } else {
            self.client(seed)
        }
    }
}

/// The honest conversation, as the frames each side sent.
struct Transcript {
    /// ClientHello, then one record per message, then close_notify.
    to_server: Vec<Vec<u8>>,
    /// ServerHello, then one record per message, then close_notify.
    to_client: Vec<Vec<u8>>,
}

fn take(conn: &mut Connection) -> Vec<u8> {
    let out = conn.pending_output().to_vec();
    conn.consume_output(out.len());
    out
}

fn transcript(setup: Setup, seed: u8) -> Transcript {
    let mut client = setup.client(seed);
    let mut client_fresh = Connection::client(
        {
            // The ClientHello the `client` above consumed: rebuild it.
            let mut cfg = match setup.pattern {
                Pattern::Ik => ClientConfig::ik(
                    server_key().public_key(),
                    StaticKeyPair::from_private_bytes([0x52; 32]),
                ),
                _ => ClientConfig::nk(server_key().public_key()),
            };
            cfg.suites = vec![setup.suite];
            cfg.rng = rng("client", seed);
            Arc::new(cfg)
        },
        NOW,
    )
    .unwrap();
    let hello = take(&mut client_fresh);
    let mut server = setup.server(seed);
    assert_eq!(server.handle_input(&hello, NOW), Ok(hello.len()));
    server.accept_client(Acceptance::new(), NOW).unwrap();
    let server_hello = take(&mut server);
    assert_eq!(
        client.handle_input(&server_hello, NOW),
        Ok(server_hello.len())
    );
    assert!(client.is_established() && server.is_awaiting_confirmation());
    assert_eq!(client.suite(), Some(setup.suite));
    let mut t = Transcript {
        to_server: vec![hello],
        to_client: vec![server_hello],
    };
    for (conn, frames, from_client) in [
        (&mut client, &mut t.to_server, true),
        (&mut server, &mut t.to_client, false),
    ] {
        for i in 0..MESSAGES {
            conn.send_message(&message(from_client, i)).unwrap();
            frames.push(take(conn));
        }
        conn.close().unwrap();
        frames.push(take(conn));
    }
    t
}

/// What a receiver did with its input.
struct Outcome {
    delivered: Vec<Vec<u8>>,
    error: Option<Error>,
    conn: Connection,
}

/// Feeds `frames` (one `handle_input` per frame, all bytes offered) to a
/// fresh receiver.
fn receive(setup: Setup, to_server: bool, seed: u8, frames: &[Vec<u8>]) -> Outcome {
    let mut conn = setup.receiver(to_server, seed);
    let mut delivered = Vec::new();
    let mut error = None;
    'frames: for frame in frames {
        let mut offset = 0;
        while offset < frame.len() {
            match conn.handle_input(&frame[offset..], NOW) {
                Ok(n) => offset += n,
                Err(e) => {
                    error = Some(e);
                    break 'frames;
                }
            }
            // A server waiting for its decision takes no more input.
            if conn.client_hello().is_some() {
                conn.accept_client(Acceptance::new(), NOW).unwrap();
            } else {
                assert_eq!(offset, frame.len(), "input not fully consumed");
            }
        }
        while let Some(m) = conn.recv_message() {
            delivered.push(m.to_vec());
        }
    }
    while let Some(m) = conn.recv_message() {
        delivered.push(m.to_vec());
    }
    Outcome {
        delivered,
        error,
        conn,
    }
}

fn expected(to_server: bool, count: usize) -> Vec<Vec<u8>> {
    (0..count).map(|i| message(to_server, i)).collect()
}

/// Messages carried by frames `..index` of a direction (frame 0 is the hello).
fn messages_before(index: usize) -> usize {
    index.saturating_sub(1).min(MESSAGES)
}

const SETUPS: [Setup; 4] = [
    Setup {
        pattern: Pattern::Nk,
        suite: Suite::Aes256Gcm,
    },
    Setup {
        pattern: Pattern::Nk,
        suite: Suite::ChaCha20Poly1305,
    },
    Setup {
        pattern: Pattern::Ik,
        suite: Suite::Aes256Gcm,
    },
    Setup {
        pattern: Pattern::Ik,
        suite: Suite::ChaCha20Poly1305,
    },
];

fn bit_flips(setup: Setup) -> usize {
    let t = transcript(setup, 0);
    let mut cases = 0;
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for (to_server, frames) in [(true, &t.to_server), (false, &t.to_client)] {
        // The honest transcript is accepted in full.
        let honest = receive(setup, to_server, 0, frames);
        assert_eq!(honest.error, None);
        assert_eq!(honest.delivered, expected(to_server, MESSAGES));
        for index in 0..frames.len() {
            for byte in 0..frames[index].len() {
                for bit in 0..8 {
                    let mut tampered = frames.clone();
                    tampered[index][byte] ^= 1 << bit;
                    let mut out = receive(setup, to_server, 0, &tampered);
                    let what = format!(
                        "{setup:?} to_server={to_server} frame {index} byte {byte} bit {bit}"
                    );
                    let outcome = match &out.error {
                        Some(e) => format!("{e:?}"),
                        None => {
                            assert_eq!(
                                out.conn.handle_eof(),
                                Err(Error::Truncated),
                                "{what}: accepted"
                            );
                            "Truncated at EOF".to_string()
                        }
                    };
                    let frame = if index == 0 { "hello" } else { "record" };
                    *outcomes.entry(format!("{frame}: {outcome}")).or_default() += 1;
                    assert_eq!(
                        out.delivered,
                        expected(to_server, messages_before(index)),
                        "{what}"
                    );
                    if index == 0 {
                        assert!(!out.conn.is_established(), "{what}: established");
                    }
                    cases += 1;
                }
            }
        }
    }
    eprintln!("{setup:?} bit flips: {outcomes:#?}");
    cases
}

fn truncations(setup: Setup) -> usize {
    let t = transcript(setup, 0);
    let mut cases = 0;
    for (to_server, frames) in [(true, &t.to_server), (false, &t.to_client)] {
        let stream = frames.concat();
        let mut ends = Vec::new();
        let mut end = 0;
        for f in frames.iter() {
            end += f.len();
            ends.push(end);
        }
        for cut in 0..=stream.len() {
            let mut out = receive(setup, to_server, 0, &[stream[..cut].to_vec()]);
            let what = format!("{setup:?} to_server={to_server} cut {cut}");
            assert_eq!(out.error, None, "{what}");
            let complete_frames = ends.iter().filter(|e| **e <= cut).count();
            assert_eq!(
                out.delivered,
                expected(to_server, messages_before(complete_frames)),
                "{what}"
            );
            let eof = out.conn.handle_eof();
            if cut == stream.len() {
                assert_eq!(eof, Ok(()), "{what}");
            } else {
                assert_eq!(eof, Err(Error::Truncated), "{what}");
            }
            cases += 1;
        }
    }
    cases
}

/// One replay/reorder/drop case: the frames of a direction by index (or
/// from elsewhere), the error expected, the messages delivered before it.
fn reordering(setup: Setup) -> usize {
    let t = transcript(setup, 0);
    let other = transcript(setup, 1);
    let mut cases = 0;
    let mut check = |seed: u8,
                     to_server: bool,
                     frames: Vec<Vec<u8>>,
                     error: Error,
                     delivered: usize,
                     what: &str| {
        let out = receive(setup, to_server, seed, &frames);
        assert_eq!(
            out.error,
            Some(error),
            "{setup:?} to_server={to_server}: {what}"
        );
        assert_eq!(
            out.delivered,
            expected(to_server, delivered),
            "{setup:?} {what}"
        );
        cases += 1;
    };
    let bad_mac = || Error::BadRecordMac;
    for to_server in [true, false] {
        let (own, reverse, foreign) = if to_server {
            (&t.to_server, &t.to_client, &other.to_server)
        } else {
            (&t.to_client, &t.to_server, &other.to_client)
        };
        let f = |i: usize| own[i].clone();
        // Records.
        check(
            0,
            to_server,
            vec![f(0), f(1), f(1)],
            bad_mac(),
            1,
            "record duplicated",
        );
        check(
            0,
            to_server,
            vec![f(0), f(1), f(2), f(1)],
            bad_mac(),
            2,
            "record replayed later",
        );
        check(
            0,
            to_server,
            vec![f(0), f(2), f(1)],
            bad_mac(),
            0,
            "records reordered",
        );
        check(
            0,
            to_server,
            vec![f(0), f(1), f(3)],
            bad_mac(),
            1,
            "record dropped",
        );
        check(
            0,
            to_server,
            vec![f(0), f(2)],
            bad_mac(),
            0,
            "first record dropped",
        );
        check(
            0,
            to_server,
            vec![f(0), f(1), f(2), f(3), f(2)],
            bad_mac(),
            3,
            "record replayed at the end",
        );
        check(
            0,
            to_server,
            vec![f(0), f(1), f(2), f(3), f(4), f(3)],
            Error::UnexpectedMessage(UnexpectedReason::RecordAfterCloseNotify),
            3,
            "record replayed after close_notify",
        );
        check(
            0,
            to_server,
            vec![f(0), reverse[1].clone()],
            bad_mac(),
            0,
            "record reflected",
        );
        check(
            0,
            to_server,
            vec![f(0), f(1), foreign[2].clone()],
            bad_mac(),
            1,
            "record from another connection",
        );
        // Handshake messages.
        let after = Error::UnexpectedMessage(UnexpectedReason::HandshakeFrameAfterHandshake);
        check(
            0,
            to_server,
            vec![f(0), f(0)],
            after.clone(),
            0,
            "hello duplicated",
        );
        check(
            0,
            to_server,
            vec![f(0), f(1), f(0)],
            after.clone(),
            1,
            "hello replayed after a record",
        );
        let first = if to_server {
            Error::UnexpectedMessage(UnexpectedReason::ExpectedClientHello)
        } else {
            Error::UnexpectedMessage(UnexpectedReason::ExpectedServerHelloOrRetry)
        };
        check(0, to_server, vec![f(1)], first.clone(), 0, "hello dropped");
        check(
            0,
            to_server,
            vec![f(1), f(0)],
            first.clone(),
            0,
            "hello after a record",
        );
        check(
            0,
            to_server,
            vec![reverse[0].clone()],
            first.clone(),
            0,
            "hello reflected",
        );
        if to_server {
            // A replayed first flight gets a ServerHello, but the server
            // does not consider the client confirmed, and nothing the
            // replayer can send gets further.
            let mut replay = vec![f(0)];
            let out = receive(setup, true, 9, &replay);
            assert_eq!(out.error, None);
            assert!(out.conn.is_awaiting_confirmation());
            assert_eq!(out.conn.peer_static_key(), None);
            replay.push(f(1));
            check(
                9,
                true,
                replay.clone(),
                bad_mac(),
                0,
                "ClientHello replayed to a new server, then a record",
            );
        } else {
            check(
                0,
                false,
                vec![foreign[0].clone()],
                Error::HandshakeDecrypt,
                0,
                "ServerHello from another connection",
            );
        }
    }
    cases
}

fn flips(setup: Setup) {
    let cases = bit_flips(setup);
    eprintln!("{setup:?}: {cases} bit-flip cases");
    assert!(cases > 2000);
}

#[test]
fn flipping_any_bit_is_detected_nk_aes() {
    flips(SETUPS[0]);
}

#[test]
fn flipping_any_bit_is_detected_nk_chacha() {
    flips(SETUPS[1]);
}

#[test]
fn flipping_any_bit_is_detected_ik_aes() {
    flips(SETUPS[2]);
}

#[test]
fn flipping_any_bit_is_detected_ik_chacha() {
    flips(SETUPS[3]);
}

#[test]
fn truncation_is_never_mistaken_for_the_end() {
    let mut total = 0;
    for setup in SETUPS {
        total += truncations(setup);
    }
    eprintln!("truncation cases: {total}");
    assert!(total > 1000);
}

#[test]
fn replayed_reordered_dropped_and_duplicated_frames_are_rejected() {
    let mut total = 0;
    for setup in SETUPS {
        total += reordering(setup);
    }
    eprintln!("replay/reorder/drop/duplicate cases: {total}");
    assert_eq!(total, 4 * 2 * 15);
}

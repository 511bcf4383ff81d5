//! Replays the fuzz corpora on stable: every file in `fuzz/corpus/<target>/`
//! and `fuzz/regressions/<target>/` runs through the same code the libFuzzer
//! targets run (`fuzz/targets/<target>.rs`), so a crash found once stays fixed.
//!
//! The seed corpora are generated, from real handshakes and records, by
//! `LWSEC_WRITE_FUZZ_SEEDS=1 cargo test --test fuzz_corpus write_seeds`.

// The target modules are shared with the libFuzzer crate, hence `pub`.
#![allow(unreachable_pub)]

#[cfg(feature = "ffi")]
#[path = "../fuzz/targets/c_api.rs"]
mod c_api;
#[path = "../fuzz/targets/client_response.rs"]
mod client_response;
#[path = "../fuzz/targets/diff_records.rs"]
mod diff_records;
#[path = "../fuzz/targets/diff_snow_handshake.rs"]
mod diff_snow_handshake;
#[path = "../fuzz/targets/established_records.rs"]
mod established_records;
#[path = "../fuzz/targets/honest_peers.rs"]
mod honest_peers;
#[path = "../fuzz/targets/message_reassembly.rs"]
mod message_reassembly;
#[path = "fuzz_seeds/mod.rs"]
mod seeds;
#[path = "../fuzz/targets/server_handshake.rs"]
mod server_handshake;
#[path = "../fuzz/targets/wire_parsers.rs"]
mod wire_parsers;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Runs `run` on every input of `target`; returns how many there were.
fn replay(target: &str, run: fn(&[u8])) -> usize {
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let dir = fuzz_dir().join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.is_file()) {
            let data = std::fs::read(&path).unwrap();
            eprintln!("replaying {}", path.display());
            run(&data);
            count += 1;
        }
    }
    count
}

macro_rules! replay_test {
    ($name:ident) => {
        #[test]
        fn $name() {
            let n = replay(stringify!($name), $name::run);
            assert!(n > 0, "no corpus for {}", stringify!($name));
        }
    };
}

replay_test!(server_handshake);
replay_test!(client_response);
replay_test!(established_records);
replay_test!(message_reassembly);
replay_test!(wire_parsers);
replay_test!(honest_peers);
replay_test!(diff_snow_handshake);
replay_test!(diff_records);
// The C API target (feature `ffi`); the fuzzer runs it under
// AddressSanitizer, this replay runs without.
#[cfg(feature = "ffi")]
replay_test!(c_api);

/// Writes the seed corpora (only with `LWSEC_WRITE_FUZZ_SEEDS=1`).
#[test]
fn write_seeds() {
    if std::env::var_os("LWSEC_WRITE_FUZZ_SEEDS").is_none() {
        return;
    }
    for (target, files) in seeds::all() {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, data) in files {
            std::fs::write(dir.join(name), data).unwrap();
        }
    }
}

/// The honest seeds must pass their own targets' checks, and the honest
/// network schedule must deliver everything.
#[test]
fn seeds_are_valid_inputs() {
    for (target, files) in seeds::all() {
        let run: fn(&[u8]) = match target {
            "server_handshake" => server_handshake::run,
            "client_response" => client_response::run,
            "established_records" => established_records::run,
            "message_reassembly" => message_reassembly::run,
            "wire_parsers" => wire_parsers::run,
            "honest_peers" => honest_peers::run,
            "diff_snow_handshake" => diff_snow_handshake::run,
            "diff_records" => diff_records::run,
            #[cfg(feature = "ffi")]
            "c_api" => c_api::run,
            other => panic!("unknown target {other}"),
        };
        for (_, data) in files {
            run(&data);
        }
    }
}

/// The `honest_peers` target itself: an honest network delivers everything
/// (through a Retry, key updates and pings), and a flipped bit or a
/// duplicated record is caught.
#[test]
fn honest_peers_target_checks_what_it_should() {
    use honest_peers::{Dir, Op, Outcome, Schedule, run_schedule};
    let honest = |extra: Vec<Op>| {
        let mut ops = vec![
            Op::Deliver(Dir::ToServer, 7),
            Op::Deliver(Dir::ToServer, u16::MAX),
            Op::Deliver(Dir::ToClient, u16::MAX),
            Op::Deliver(Dir::ToServer, u16::MAX),
            Op::Deliver(Dir::ToClient, u16::MAX),
            Op::Send(Dir::ToServer, 5),
            Op::Send(Dir::ToClient, 40_000),
            Op::UpdateKeys(Dir::ToServer, true),
            Op::Ping(Dir::ToClient, 9),
            Op::Send(Dir::ToServer, 0),
        ];
        ops.extend(extra);
        ops.push(Op::Send(Dir::ToClient, 1));
        ops.push(Op::Deliver(Dir::ToServer, 100));
        Schedule {
            ik: true,
            chacha_first: false,
            server_chacha_only: true,
            ops,
        }
    };
    assert_eq!(
        run_schedule(&honest(vec![])),
        Outcome {
            delivered: [2, 2],
            failed: [false, false]
        }
    );
    let flipped = run_schedule(&honest(vec![
        Op::Deliver(Dir::ToClient, 0),
        Op::Flip(Dir::ToClient, 3, 1),
    ]));
    assert!(flipped.failed[0], "{flipped:?}");
    let duplicated = run_schedule(&honest(vec![
        Op::Deliver(Dir::ToServer, 0),
        Op::Duplicate(Dir::ToServer, 0, 200),
    ]));
    assert!(duplicated.failed[1], "{duplicated:?}");
}

/// The `diff_snow_handshake` target itself: its seeds reach the outcomes
/// they are named after (so the comparisons are made, not skipped).
#[test]
fn diff_snow_handshake_target_checks_what_it_should() {
    use diff_snow_handshake::{Outcome, run_outcome};
    use lwsec::Error;
    let complete = || Outcome {
        retry: false,
        message1: Some(Ok(())),
        message2: Some(Ok(())),
        server_established: true,
    };
    // Which decode error is not the point here.
    let decode = |r: Option<Result<(), Error>>| match r {
        Some(Err(Error::Decode(_))) => Some(Err(Error::Decode(lwsec::DecodeReason::TrailingBytes))),
        other => other,
    };
    for (name, seed) in seeds::diff_snow_handshake_cases() {
        let mut outcome = run_outcome(&seed.encode());
        outcome.message1 = decode(outcome.message1);
        outcome.message2 = decode(outcome.message2);
        let expected = match name {
            "retry-suite" | "early-dropped-after-cookie" => Outcome {
                retry: true,
                ..complete()
            },
            // Snow's message 1 reaches the server, not the lwsec client's.
            "custom-m1-early-after-cookie" => Outcome {
                retry: true,
                message2: None,
                ..complete()
            },
            "m1-too-short" => Outcome {
                message1: Some(Err(Error::Decode(lwsec::DecodeReason::TrailingBytes))),
                ..Outcome::default()
            },
            "no-common-suite" => Outcome {
                message1: Some(Err(Error::NoCommonSuite)),
                ..Outcome::default()
            },
            "m1-bit-flip" => Outcome {
                message1: Some(Err(Error::HandshakeDecrypt)),
                ..Outcome::default()
            },
            "m1-header-suite-count" => Outcome {
                message1: Some(Err(Error::Decode(lwsec::DecodeReason::TrailingBytes))),
                ..Outcome::default()
            },
            "m1-low-order-e" | "low-order-client-e" | "low-order-client-s" => Outcome {
                message1: Some(Err(Error::LowOrderPoint)),
                ..Outcome::default()
            },
            "m2-bit-flip" => Outcome {
                message2: Some(Err(Error::HandshakeDecrypt)),
                ..complete()
            },
            "m2-truncated" => Outcome {
                message2: Some(Err(Error::Decode(lwsec::DecodeReason::TrailingBytes))),
                ..complete()
            },
            // 2^256 - 39 is not of small order: an ordinary decryption failure.
            "low-order-near-miss" => Outcome {
                message2: Some(Err(Error::HandshakeDecrypt)),
                ..complete()
            },
            "low-order-server-e" => Outcome {
                message2: Some(Err(Error::LowOrderPoint)),
                ..complete()
            },
            "custom-m1-critical-extension" => Outcome {
                message1: Some(Err(Error::UnsupportedExtension(0x9234))),
                ..Outcome::default()
            },
            _ => complete(),
        };
        assert_eq!(outcome, expected, "{name}");
    }
}

/// The `diff_records` target itself: its seeds exchange what they are
/// named after, and the tampered ones fail as the reference says.
#[test]
fn diff_records_target_checks_what_it_should() {
    use lwsec::Error;
    for (name, data) in seeds::all()
        .into_iter()
        .find(|(t, _)| *t == "diff_records")
        .unwrap()
        .1
    {
        let o = diff_records::run_outcome(&data);
        let mut error = o.error.clone();
        if let Some(Error::Decode(_)) = error {
            error = Some(Error::Decode(lwsec::DecodeReason::TrailingBytes));
        }
        match name.as_str() {
            n if n.starts_with("conversation") => {
                // Two messages and a key update from the peer, and a clean
                // end after its close_notify.
                assert_eq!(error, None, "{n}");
                assert_eq!(o.messages_delivered, 2, "{n}");
                assert_eq!(o.key_updates_received, 1, "{n}");
                assert!(o.records_sent >= 8, "{n}: {o:?}");
                assert_eq!(o.eof, Some(Ok(())), "{n}");
            }
            "auto-key-update" => {
                assert_eq!(error, None);
                assert!(o.records_sent >= 6, "{o:?}");
                assert_eq!(o.eof, Some(Err(Error::Truncated)));
            }
            "coalesced-key-updates" => {
                // L's message, then one answer to the two requests.
                assert_eq!(error, None);
                assert_eq!(o.key_updates_received, 2);
                assert_eq!(o.messages_delivered, 1);
                assert_eq!(o.records_sent, 3, "{o:?}");
            }
            "confirm-late" => {
                // A server L sends before the confirmation, then is confirmed.
                assert_eq!(error, None);
                assert_eq!(o.messages_delivered, 1);
                assert_eq!(o.eof, Some(Err(Error::Truncated)));
            }
            "confirm-with-payload" => assert_eq!(
                error,
                Some(Error::Decode(lwsec::DecodeReason::TrailingBytes))
            ),
            "confirm-missing" | "confirm-twice" | "close-inside-message" => assert!(
                matches!(error, Some(Error::UnexpectedMessage(_))),
                "{name}: {o:?}"
            ),
            "tamper" | "replay" | "drop" => assert_eq!(error, Some(Error::BadRecordMac), "{name}"),
            "raw-unknown-type" | "raw-all-zero" => assert!(
                matches!(error, Some(Error::UnexpectedMessage(_))),
                "{name}: {o:?}"
            ),
            "raw-overflow" => assert_eq!(error, Some(Error::RecordOverflow)),
            other => panic!("no expectation for seed {other}"),
        }
    }
}

/// The `c_api` target itself: its seeds complete handshakes through the C
/// API, exchange messages and reach the failures they are named after.
#[cfg(feature = "ffi")]
#[test]
fn c_api_target_checks_what_it_should() {
    const PEER_ALERT: u32 = 206;
    const CLIENT_REJECTED: u32 = 205;
    const TRUNCATED: u32 = 108;
    for (name, data) in seeds::all()
        .into_iter()
        .find(|(t, _)| *t == "c_api")
        .unwrap()
        .1
    {
        let o = c_api::run_outcome(&data);
        match name.as_str() {
            n if n.starts_with("conversation") => {
                assert_eq!((o.handshakes, o.accepted), (2, 1), "{n}: {o:?}");
                assert!(o.messages >= 3, "{n}: {o:?}");
            }
            "reject" => {
                assert_eq!((o.accepted, o.rejected), (0, 1), "{o:?}");
                assert_eq!(o.failures, [CLIENT_REJECTED, PEER_ALERT], "{o:?}");
            }
            "close-in-handshake" => assert_eq!(o.handshakes, 0, "{o:?}"),
            "garbage" => assert!(!o.failures.is_empty(), "{o:?}"),
            "config-and-keys" => assert_eq!(o.failures, Vec::<u32>::new(), "{o:?}"),
            // The ticket taken through the C API (once, also after a short
            // buffer), set on the client configuration, resumes the next
            // pair (both report it) and a message goes through.
            n if n.starts_with("resumption-") => {
                assert_eq!((o.tickets, o.resumed, o.messages), (1, 2, 1), "{n}: {o:?}");
                assert!(o.failures.is_empty(), "{n}: {o:?}");
            }
            other => panic!("no expectation for seed {other}: {o:?}"),
        }
        let _ = TRUNCATED;
    }
}

/// A bug the `c_api` target found: the header says a rejected connection
/// "returns `LWSEC_CLIENT_REJECTED` from then on", and a failed connection
/// returns its error from every later call; `lwsec_conn_reject_client` on a
/// connection already rejected returned `LWSEC_OK`, as if it had just
/// refused a client (the C API mapped every `Error::ClientRejected` from
/// `Connection::reject_client`, including the connection's stored error,
/// to `LWSEC_OK`).
#[cfg(feature = "ffi")]
#[test]
#[allow(unsafe_code)]
fn c_api_reject_client_twice() {
    use lwsec::ffi::*;
    use std::ptr;
    const OK: u32 = lwsec_result::LWSEC_OK as u32;
    const REJECTED: u32 = lwsec_result::LWSEC_CLIENT_REJECTED as u32;
    // SAFETY: every pointer is NULL-checked by the API or points to a
    // local of the right size; every handle is live until freed once.
    unsafe {
        let mut key = ptr::null_mut();
        assert_eq!(
            lwsec_key_pair_from_bytes([0x11; 32].as_ptr(), 32, &mut key) as u32,
            OK
        );
        let mut public = [0u8; 32];
        let mut n = 0;
        assert_eq!(
            lwsec_key_pair_public_key(key, public.as_mut_ptr(), 32, &mut n) as u32,
            OK
        );
        let (mut ccfg, mut scfg) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            lwsec_client_config_new_nk(public.as_ptr(), 32, &mut ccfg) as u32,
            OK
        );
        assert_eq!(lwsec_server_config_new(key, &mut scfg) as u32, OK);
        let (mut client, mut server) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(lwsec_conn_new_client(ccfg, 0, &mut client) as u32, OK);
        assert_eq!(lwsec_conn_new_server(scfg, 0, &mut server) as u32, OK);
        let mut hello = [0u8; 4096];
        assert_eq!(
            lwsec_conn_take_output(client, hello.as_mut_ptr(), 4096, &mut n) as u32,
            OK
        );
        let mut consumed = 0;
        assert_eq!(
            lwsec_conn_handle_input(server, hello.as_ptr(), n, 0, &mut consumed) as u32,
            OK
        );
        // The first rejection is reported as done ...
        assert_eq!(lwsec_conn_reject_client(server, 1) as u32, OK);
        // ... and the connection returns its error from then on.
        assert_eq!(lwsec_conn_handle_eof(server) as u32, REJECTED);
        assert_eq!(lwsec_conn_update_keys(server, false) as u32, REJECTED);
        // The connection's error again, not a second "rejected" success
        // (found by the c_api target; it returned LWSEC_OK).
        let again = lwsec_conn_reject_client(server, 1) as u32;
        lwsec_conn_free(client);
        lwsec_conn_free(server);
        lwsec_client_config_free(ccfg);
        lwsec_server_config_free(scfg);
        lwsec_key_pair_free(key);
        assert_eq!(again, REJECTED, "reject_client on a rejected connection");
    }
}

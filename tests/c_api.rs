//! The C API: the header's contents, error handling of the `extern "C"`
//! functions called from Rust, and the C echo examples built with gcc and
//! run over TCP (against each other, against a Rust server, under valgrind).
#![cfg(feature = "ffi")]
#![allow(unsafe_code)] // calls the extern "C" functions directly

#[path = "c_api/support.rs"]
mod support;

use std::ptr;

use lwsec::ffi::*;

#[test]
fn c_api_header_declares_every_function() {
    let header = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("include/lwsec.h"),
    )
    .unwrap();
    for name in [
        "lwsec_result lwsec_conn_handle_input(",
        "lwsec_result lwsec_conn_pending_output(",
        "lwsec_result lwsec_conn_recv_message(",
        "const char *lwsec_result_str(",
        "void lwsec_conn_free(",
        "typedef struct lwsec_conn lwsec_conn;",
        "LWSEC_OK = 0",
        "#define LWSEC_KEY_LEN 32",
        "lwsec_result lwsec_conn_accept_client(",
        "lwsec_result lwsec_conn_reject_client(",
        "LWSEC_REJECT_NOT_AUTHORIZED = 1",
        "#define LWSEC_HANDSHAKE_HASH_LEN 32",
    ] {
        assert!(header.contains(name), "header lacks `{name}`");
    }
    assert!(!header.contains("lws_"), "prefix must be lwsec_");
}

fn key_pair() -> *mut lwsec_key_pair {
    let mut kp = ptr::null_mut();
    assert_eq!(
        unsafe { lwsec_key_pair_generate(&mut kp) },
        lwsec_result::LWSEC_OK
    );
    assert!(!kp.is_null());
    kp
}

fn public(kp: *const lwsec_key_pair) -> [u8; 32] {
    let mut key = [0u8; 32];
    let mut written = 0;
    assert_eq!(
        unsafe { lwsec_key_pair_public_key(kp, key.as_mut_ptr(), key.len(), &mut written) },
        lwsec_result::LWSEC_OK
    );
    assert_eq!(written, 32);
    key
}

/// Client and server connections (NK) with the handshake done in memory.
fn established_pair() -> (*mut lwsec_conn, *mut lwsec_conn) {
    let kp = key_pair();
    let mut scfg = ptr::null_mut();
    let mut ccfg = ptr::null_mut();
    let (mut client, mut server) = (ptr::null_mut(), ptr::null_mut());
    unsafe {
        assert_eq!(
            lwsec_server_config_new(kp, &mut scfg),
            lwsec_result::LWSEC_OK
        );
        let key = public(kp);
        assert_eq!(
            lwsec_client_config_new_nk(key.as_ptr(), key.len(), &mut ccfg),
            lwsec_result::LWSEC_OK
        );
        lwsec_key_pair_free(kp);
        assert_eq!(
            lwsec_conn_new_client(ccfg, 0, &mut client),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_new_server(scfg, 0, &mut server),
            lwsec_result::LWSEC_OK
        );
        // The connections keep their configurations alive.
        lwsec_client_config_free(ccfg);
        lwsec_server_config_free(scfg);
        shuttle(client, server);
        assert_eq!(
            lwsec_conn_accept_client(server, ptr::null(), 0, false, 0),
            lwsec_result::LWSEC_OK
        );
        shuttle(server, client);
        shuttle(client, server); // the key confirmation
    }
    (client, server)
}

/// Moves all pending output of `from` into `to`, through the borrow API.
unsafe fn shuttle(from: *mut lwsec_conn, to: *mut lwsec_conn) {
    unsafe {
        loop {
            let mut data = ptr::null();
            let mut len = 0;
            assert_eq!(
                lwsec_conn_pending_output(from, &mut data, &mut len),
                lwsec_result::LWSEC_OK
            );
            if len == 0 {
                return;
            }
            let mut consumed = 0;
            assert_eq!(
                lwsec_conn_handle_input(to, data, len, 0, &mut consumed),
                lwsec_result::LWSEC_OK
            );
            assert!(consumed > 0);
            assert_eq!(
                lwsec_conn_consume_output(from, consumed),
                lwsec_result::LWSEC_OK
            );
        }
    }
}

fn last_error(conn: *const lwsec_conn) -> String {
    let mut buf = [0u8; 256];
    let mut written = 0;
    assert_eq!(
        unsafe { lwsec_conn_last_error(conn, buf.as_mut_ptr(), buf.len(), &mut written) },
        lwsec_result::LWSEC_OK
    );
    String::from_utf8(buf[..written].to_vec()).unwrap()
}

#[test]
fn c_api_null_pointers_give_error_codes() {
    use lwsec_result::LWSEC_NULL_PARAMETER as NULL;
    unsafe {
        assert_eq!(lwsec_key_pair_generate(ptr::null_mut()), NULL);
        let mut kp = ptr::null_mut();
        assert_eq!(lwsec_key_pair_from_bytes(ptr::null(), 32, &mut kp), NULL);
        assert!(kp.is_null(), "out parameter written on failure");
        assert_eq!(
            lwsec_key_pair_public_key(ptr::null(), ptr::null_mut(), 0, ptr::null_mut()),
            NULL
        );
        let mut cfg = ptr::null_mut();
        assert_eq!(lwsec_client_config_new_nk(ptr::null(), 32, &mut cfg), NULL);
        assert_eq!(lwsec_server_config_new(ptr::null(), ptr::null_mut()), NULL);
        assert_eq!(lwsec_conn_new_client(ptr::null(), 0, ptr::null_mut()), NULL);
        let mut consumed = 7;
        assert_eq!(
            lwsec_conn_handle_input(ptr::null_mut(), b"x".as_ptr(), 1, 0, &mut consumed),
            NULL
        );
        assert_eq!(consumed, 7);
        assert_eq!(
            lwsec_conn_send_message(ptr::null_mut(), ptr::null(), 0),
            NULL
        );
        assert_eq!(lwsec_conn_close(ptr::null_mut()), NULL);
        assert_eq!(lwsec_conn_handle_eof(ptr::null_mut()), NULL);
        assert_eq!(
            lwsec_conn_last_error(ptr::null(), ptr::null_mut(), 0, ptr::null_mut()),
            NULL
        );
        let mut scfg = ptr::null_mut();
        let kp = key_pair();
        assert_eq!(
            lwsec_server_config_new(kp, &mut scfg),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_client_hello(ptr::null_mut(), ptr::null_mut()),
            NULL
        );
        // Freeing NULL is a no-op.
        lwsec_conn_free(ptr::null_mut());
        lwsec_client_config_free(ptr::null_mut());
        lwsec_server_config_free(scfg);
        lwsec_server_config_free(ptr::null_mut());
        lwsec_key_pair_free(kp);
        lwsec_key_pair_free(ptr::null_mut());

        // On a live connection: a NULL buffer with a length, a NULL out pointer.
        let (client, server) = established_pair();
        assert_eq!(lwsec_conn_send_message(client, ptr::null(), 5), NULL);
        assert_eq!(lwsec_conn_poll_event(client, ptr::null_mut()), NULL);
        assert!(last_error(client).contains("NULL"));
        // NULL with length 0 is an empty buffer: an empty message is fine.
        assert_eq!(
            lwsec_conn_send_message(client, ptr::null(), 0),
            lwsec_result::LWSEC_OK
        );
        lwsec_conn_free(client);
        lwsec_conn_free(server);
    }
}

#[test]
fn c_api_bad_values_give_error_codes() {
    unsafe {
        let mut kp = ptr::null_mut();
        assert_eq!(
            lwsec_key_pair_from_bytes([1u8; 31].as_ptr(), 31, &mut kp),
            lwsec_result::LWSEC_INVALID_PARAMETER
        );
        let text = b"lwsec-public-v1:00";
        assert_eq!(
            lwsec_key_pair_from_text(text.as_ptr(), text.len(), &mut kp),
            lwsec_result::LWSEC_INVALID_KEY
        );
        assert!(kp.is_null());
        let kp = key_pair();
        let mut scfg = ptr::null_mut();
        assert_eq!(
            lwsec_server_config_new(kp, &mut scfg),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_server_config_set_suites(scfg, [9u8].as_ptr(), 1),
            lwsec_result::LWSEC_INVALID_PARAMETER
        );
        assert_eq!(
            lwsec_server_config_set_suites(scfg, [1u8, 1].as_ptr(), 2),
            lwsec_result::LWSEC_INVALID_CONFIG
        );
        assert_eq!(
            lwsec_server_config_set_patterns(scfg, ptr::null(), 0),
            lwsec_result::LWSEC_INVALID_CONFIG
        );
        let key = public(kp);
        assert_eq!(
            lwsec_server_config_retire_key(scfg, key.as_ptr(), key.len()),
            lwsec_result::LWSEC_INVALID_CONFIG,
            "the last key cannot be retired"
        );
        assert_eq!(
            lwsec_server_config_retire_key(scfg, [5u8; 32].as_ptr(), 32),
            lwsec_result::LWSEC_NOT_AVAILABLE
        );
        lwsec_server_config_free(scfg);
        lwsec_key_pair_free(kp);

        // Unknown result codes are safe to pass.
        let msg = std::ffi::CStr::from_ptr(lwsec_result_str(123_456));
        assert_eq!(msg.to_str().unwrap(), "unknown lwsec_result");
        let msg = std::ffi::CStr::from_ptr(lwsec_result_str(0));
        assert_eq!(msg.to_str().unwrap(), "success");
        for code in lwsec_result::ALL {
            assert_eq!(lwsec_result::from_u32(code as u32), Some(code));
            assert!(!std::ffi::CStr::from_ptr(lwsec_result_str(code as u32)).is_empty());
        }
    }
}

#[test]
fn c_api_key_text_round_trips() {
    unsafe {
        let kp = key_pair();
        let mut text = [0u8; LWSEC_KEY_TEXT_LEN];
        let mut written = 0;
        assert_eq!(
            lwsec_key_pair_private_key_text(kp, text.as_mut_ptr(), 79, &mut written),
            lwsec_result::LWSEC_BUFFER_TOO_SMALL
        );
        assert_eq!(written, 0);
        assert_eq!(
            lwsec_key_pair_private_key_text(kp, text.as_mut_ptr(), text.len(), &mut written),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(written, LWSEC_KEY_TEXT_LEN);
        let mut loaded = ptr::null_mut();
        assert_eq!(
            lwsec_key_pair_from_text(text.as_ptr(), text.len(), &mut loaded),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(public(loaded), public(kp));
        let mut ptext = [0u8; 100];
        assert_eq!(
            lwsec_key_pair_public_key_text(kp, ptext.as_mut_ptr(), ptext.len(), &mut written),
            lwsec_result::LWSEC_OK
        );
        assert!(ptext[..written].starts_with(b"lwsec-public-v1:"));
        let mut raw = [0u8; 32];
        let mut n = 0;
        assert_eq!(
            lwsec_public_key_from_text(
                ptext.as_ptr(),
                written,
                raw.as_mut_ptr(),
                raw.len(),
                &mut n
            ),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(raw, public(kp));
        let mut again = [0u8; LWSEC_KEY_TEXT_LEN];
        assert_eq!(
            lwsec_public_key_to_text(raw.as_ptr(), 32, again.as_mut_ptr(), again.len(), &mut n),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(&again[..], &ptext[..written]);
        lwsec_key_pair_free(kp);
        lwsec_key_pair_free(loaded);
    }
}

#[test]
fn c_api_short_buffers_consume_nothing() {
    unsafe {
        let (client, server) = established_pair();
        let mut event = lwsec_event::LWSEC_EVENT_NONE;
        assert_eq!(
            lwsec_conn_poll_event(client, &mut event),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(event, lwsec_event::LWSEC_EVENT_HANDSHAKE_COMPLETE);
        let message = vec![0xabu8; 20_000];
        assert_eq!(
            lwsec_conn_send_message(client, message.as_ptr(), message.len()),
            lwsec_result::LWSEC_OK
        );
        shuttle(client, server);
        let mut len = 0;
        assert_eq!(
            lwsec_conn_next_message_len(server, &mut len),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(len, 20_000);
        let mut small = vec![0u8; 19_999];
        let mut written = 12345;
        assert_eq!(
            lwsec_conn_recv_message(server, small.as_mut_ptr(), small.len(), &mut written),
            lwsec_result::LWSEC_BUFFER_TOO_SMALL
        );
        assert_eq!(written, 12345, "out parameter written on failure");
        assert!(small.iter().all(|b| *b == 0), "buffer written on failure");
        assert!(last_error(server).contains("20000 bytes needed"));
        // A truncated error message.
        let mut tiny = [0u8; 6];
        assert_eq!(
            lwsec_conn_last_error(server, tiny.as_mut_ptr(), tiny.len(), &mut written),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(&tiny[..written], b"buffer");
        // Still queued, and comes out whole with a big enough buffer.
        let mut big = vec![0u8; 20_000];
        assert_eq!(
            lwsec_conn_recv_message(server, big.as_mut_ptr(), big.len(), &mut written),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(written, 20_000);
        assert_eq!(big, message);
        assert_eq!(
            lwsec_conn_recv_message(server, big.as_mut_ptr(), big.len(), &mut written),
            lwsec_result::LWSEC_NOT_AVAILABLE
        );
        // consume_output cannot consume more than is pending.
        assert_eq!(
            lwsec_conn_consume_output(client, 1),
            lwsec_result::LWSEC_INVALID_PARAMETER
        );
        let mut key = [0u8; 31];
        assert_eq!(
            lwsec_conn_handshake_hash(client, key.as_mut_ptr(), key.len(), &mut written),
            lwsec_result::LWSEC_BUFFER_TOO_SMALL
        );
        lwsec_conn_free(client);
        lwsec_conn_free(server);
    }
}

#[test]
fn c_api_use_after_close_and_getters() {
    unsafe {
        let (client, server) = established_pair();
        let mut suite = 0u8;
        let mut pattern = 0u8;
        assert_eq!(lwsec_conn_suite(client, &mut suite), lwsec_result::LWSEC_OK);
        assert_eq!(suite, lwsec_suite::LWSEC_SUITE_AES_256_GCM as u8);
        assert_eq!(
            lwsec_conn_pattern(server, &mut pattern),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(pattern, lwsec_pattern::LWSEC_PATTERN_NK as u8);
        let (mut h1, mut h2) = ([0u8; 32], [0u8; 32]);
        let mut n = 0;
        assert_eq!(
            lwsec_conn_handshake_hash(client, h1.as_mut_ptr(), 32, &mut n),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_handshake_hash(server, h2.as_mut_ptr(), 32, &mut n),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(h1, h2);
        let mut key = [0u8; 32];
        assert_eq!(
            lwsec_conn_peer_static_key(server, key.as_mut_ptr(), 32, &mut n),
            lwsec_result::LWSEC_NOT_AVAILABLE,
            "an NK server has no peer static key"
        );
        let mut deadline = 0;
        assert_eq!(
            lwsec_conn_poll_timeout(client, &mut deadline),
            lwsec_result::LWSEC_NOT_AVAILABLE
        );

        assert_eq!(lwsec_conn_close(client), lwsec_result::LWSEC_OK);
        assert_eq!(
            lwsec_conn_close(client),
            lwsec_result::LWSEC_OK,
            "closing twice is fine"
        );
        assert_eq!(
            lwsec_conn_send_message(client, b"late".as_ptr(), 4),
            lwsec_result::LWSEC_CLOSED
        );
        assert_eq!(
            lwsec_conn_update_keys(client, true),
            lwsec_result::LWSEC_CLOSED
        );
        assert!(last_error(client).contains("closed"));
        shuttle(client, server);
        let mut event = lwsec_event::LWSEC_EVENT_NONE;
        for expected in [
            lwsec_event::LWSEC_EVENT_CLIENT_HELLO,
            lwsec_event::LWSEC_EVENT_HANDSHAKE_COMPLETE,
        ] {
            assert_eq!(
                lwsec_conn_poll_event(server, &mut event),
                lwsec_result::LWSEC_OK
            );
            assert_eq!(event, expected);
        }
        assert_eq!(
            lwsec_conn_poll_event(server, &mut event),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(event, lwsec_event::LWSEC_EVENT_PEER_CLOSED);
        assert_eq!(lwsec_conn_handle_eof(server), lwsec_result::LWSEC_OK);
        // The client never saw the server's close: EOF now is a truncation,
        // and the connection is dead for good.
        assert_eq!(lwsec_conn_handle_eof(client), lwsec_result::LWSEC_TRUNCATED);
        let mut state = lwsec_handshake_state::LWSEC_STATE_HANDSHAKING;
        assert_eq!(
            lwsec_conn_handshake_state(client, &mut state),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(state, lwsec_handshake_state::LWSEC_STATE_FAILED);
        assert_eq!(
            lwsec_conn_suite(client, &mut suite),
            lwsec_result::LWSEC_TRUNCATED
        );
        lwsec_conn_free(client);
        lwsec_conn_free(server);
    }
}

#[test]
fn c_api_send_before_handshake_and_garbage_input() {
    unsafe {
        let kp = key_pair();
        let key = public(kp);
        let mut ccfg = ptr::null_mut();
        assert_eq!(
            lwsec_client_config_new_nk(key.as_ptr(), 32, &mut ccfg),
            lwsec_result::LWSEC_OK
        );
        let mut client = ptr::null_mut();
        assert_eq!(
            lwsec_conn_new_client(ccfg, 0, &mut client),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_send_message(client, b"x".as_ptr(), 1),
            lwsec_result::LWSEC_HANDSHAKE_NOT_COMPLETE
        );
        assert!(last_error(client).contains("handshake is not complete"));
        let mut out = [0u8; 4096];
        let mut hello_len = 0;
        assert_eq!(
            lwsec_conn_take_output(client, out.as_mut_ptr(), out.len(), &mut hello_len),
            lwsec_result::LWSEC_OK
        );
        assert!(hello_len > 3);
        // A "ServerHello" of zeros: the handshake fails with a 1xx code.
        let mut garbage = vec![0x02u8, 0x00, 0x30];
        garbage.resize(3 + 0x30, 0);
        let mut consumed = 0;
        let r = lwsec_conn_handle_input(client, garbage.as_ptr(), garbage.len(), 0, &mut consumed);
        assert!((100..200).contains(&(r as u32)), "got {r:?}");
        // The same error again on every later call.
        assert_eq!(
            lwsec_conn_handle_input(client, garbage.as_ptr(), 1, 0, &mut consumed),
            r
        );
        lwsec_conn_free(client);
        lwsec_client_config_free(ccfg);
        lwsec_key_pair_free(kp);
    }
}

#[test]
fn c_api_decision_point_shows_the_claimed_key_and_rejects_with_an_alert() {
    unsafe {
        let server_kp = key_pair();
        let device = key_pair();
        let key = public(server_kp);
        let device_key = public(device);
        let (mut ccfg, mut scfg) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            lwsec_client_config_new_ik(key.as_ptr(), 32, device, &mut ccfg),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_server_config_new(server_kp, &mut scfg),
            lwsec_result::LWSEC_OK
        );
        for reject in [true, false] {
            let (mut client, mut server) = (ptr::null_mut(), ptr::null_mut());
            assert_eq!(
                lwsec_conn_new_client(ccfg, 0, &mut client),
                lwsec_result::LWSEC_OK
            );
            assert_eq!(
                lwsec_conn_new_server(scfg, 0, &mut server),
                lwsec_result::LWSEC_OK
            );
            let mut info = lwsec_client_hello_info::default();
            assert_eq!(
                lwsec_conn_client_hello(server, &mut info),
                lwsec_result::LWSEC_NOT_AVAILABLE
            );
            shuttle(client, server);
            let mut ev = lwsec_event::LWSEC_EVENT_NONE;
            assert_eq!(
                lwsec_conn_poll_event(server, &mut ev),
                lwsec_result::LWSEC_OK
            );
            assert_eq!(ev, lwsec_event::LWSEC_EVENT_CLIENT_HELLO);
            let mut st = lwsec_handshake_state::LWSEC_STATE_HANDSHAKING;
            lwsec_conn_handshake_state(server, &mut st);
            assert_eq!(st, lwsec_handshake_state::LWSEC_STATE_AWAITING_DECISION);
            assert_eq!(
                lwsec_conn_client_hello(server, &mut info),
                lwsec_result::LWSEC_OK
            );
            assert!(info.has_client_key && !info.early_data_offered);
            assert_eq!(info.client_key, device_key);
            assert_eq!(info.pattern, 2);
            let mut written = 0;
            let mut out = [0u8; 64];
            if reject {
                assert_eq!(
                    lwsec_conn_reject_client(server, 99),
                    lwsec_result::LWSEC_INVALID_PARAMETER
                );
                assert_eq!(
                    lwsec_conn_reject_client(
                        server,
                        lwsec_rejection::LWSEC_REJECT_NOT_AUTHORIZED as u32
                    ),
                    lwsec_result::LWSEC_OK
                );
                // The server's alert reaches the client, unauthenticated.
                let mut data = ptr::null();
                let mut len = 0;
                lwsec_conn_pending_output(server, &mut data, &mut len);
                let mut consumed = 0;
                assert_eq!(
                    lwsec_conn_handle_input(client, data, len, 0, &mut consumed),
                    lwsec_result::LWSEC_PEER_ALERT
                );
                let (mut code, mut authenticated) = (0u8, true);
                assert_eq!(
                    lwsec_conn_peer_alert(client, &mut code, &mut authenticated),
                    lwsec_result::LWSEC_OK
                );
                assert_eq!((code, authenticated), (91, false));
            } else {
                let identity = b"alice/phone";
                assert_eq!(
                    lwsec_conn_accept_client(server, identity.as_ptr(), identity.len(), false, 0),
                    lwsec_result::LWSEC_OK
                );
                lwsec_conn_handshake_state(server, &mut st);
                assert_eq!(st, lwsec_handshake_state::LWSEC_STATE_AWAITING_CONFIRMATION);
                // Nothing about the client is reported before it confirms.
                assert_eq!(
                    lwsec_conn_peer_identity(server, out.as_mut_ptr(), out.len(), &mut written),
                    lwsec_result::LWSEC_HANDSHAKE_NOT_COMPLETE
                );
                shuttle(server, client);
                shuttle(client, server);
                assert_eq!(
                    lwsec_conn_peer_identity(server, out.as_mut_ptr(), out.len(), &mut written),
                    lwsec_result::LWSEC_OK
                );
                assert_eq!(&out[..written], identity);
                assert_eq!(
                    lwsec_conn_peer_static_key(server, out.as_mut_ptr(), out.len(), &mut written),
                    lwsec_result::LWSEC_OK
                );
                assert_eq!(&out[..written], &device_key);
            }
            lwsec_conn_free(client);
            lwsec_conn_free(server);
        }
        lwsec_client_config_free(ccfg);
        lwsec_server_config_free(scfg);
        lwsec_key_pair_free(server_kp);
        lwsec_key_pair_free(device);
    }
}

#[test]
fn c_api_c_client_echoes_with_c_server() {
    let mut server = support::start_c_server(&[], &["-n", "3"]);
    let key = server.public_key.clone();
    for (pattern, suite) in [("nk", "aes"), ("ik", "chacha")] {
        let out = support::run_c_client(&[], server.port, &key, pattern, suite);
        support::assert_echo_ok(&out, &format!("C client {pattern}/{suite} vs C server"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = if pattern == "ik" {
            "pattern IK, suite ChaCha20-Poly1305"
        } else {
            "pattern NK, suite AES-256-GCM"
        };
        assert!(stderr.contains(expected), "{stderr}");
    }
    // A client pinned to the wrong key fails with the right message, non-zero.
    let wrong = format!("lwsec-public-v1:{}", "11".repeat(32));
    let out = support::run_c_client(&[], server.port, &wrong, "nk", "aes");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown_server_key"));
    let status = server.child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(server.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "server: {status}\n{stderr}");
    assert!(
        stderr.contains("3 connection(s) ended, 1 IK authorisation(s)"),
        "{stderr}"
    );
}

#[test]
fn c_api_c_server_rejects_ik_client_at_the_decision_point() {
    let mut server = support::start_c_server(&[], &["-n", "1", "-r"]);
    let out = support::run_c_client(&[], server.port, &server.public_key.clone(), "ik", "aes");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("client_rejected"), "{stderr}");
    assert!(server.child.wait().unwrap().success());
}

#[test]
fn c_api_c_client_echoes_with_rust_server() {
    let (port, key, server) = support::rust_echo_server(2);
    for (pattern, suite) in [("ik", "aes"), ("nk", "chacha")] {
        let out = support::run_c_client(&[], port, &key, pattern, suite);
        support::assert_echo_ok(&out, &format!("C client {pattern}/{suite} vs Rust server"));
    }
    assert_eq!(server.join().unwrap(), vec![6, 6]);
}

#[test]
fn c_api_c_examples_are_clean_under_valgrind() {
    support::require_valgrind();
    let mut wrapper = vec!["valgrind"];
    wrapper.extend(support::VALGRIND);
    let mut server = support::start_c_server(&wrapper, &["-n", "2"]);
    let key = server.public_key.clone();
    for (pattern, suite) in [("nk", "chacha"), ("ik", "aes")] {
        let out = support::run_c_client(&wrapper, server.port, &key, pattern, suite);
        support::assert_echo_ok(&out, &format!("valgrind C client {pattern}/{suite}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("=="),
            "valgrind reported on the client:\n{stderr}"
        );
    }
    let status = server.child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(server.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "valgrind server: {status}\n{stderr}");
    assert!(
        !stderr.contains("=="),
        "valgrind reported on the server:\n{stderr}"
    );
}

/// Drains events of `conn` into a vector.
unsafe fn events(conn: *mut lwsec_conn) -> Vec<lwsec_event> {
    let mut all = Vec::new();
    loop {
        let mut event = lwsec_event::LWSEC_EVENT_NONE;
        assert_eq!(
            unsafe { lwsec_conn_poll_event(conn, &mut event) },
            lwsec_result::LWSEC_OK
        );
        if event == lwsec_event::LWSEC_EVENT_NONE {
            return all;
        }
        all.push(event);
    }
}

#[test]
fn c_api_ik_timers_key_update_ping_and_exporter() {
    unsafe {
        let server_kp = key_pair();
        let device = key_pair();
        let key = public(server_kp);
        let (mut ccfg, mut scfg) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            lwsec_client_config_new_ik(key.as_ptr(), 32, device, &mut ccfg),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_client_config_set_suites(ccfg, [2u8, 1].as_ptr(), 2),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_client_config_set_timers(ccfg, 0, 5_000),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_server_config_new(server_kp, &mut scfg),
            lwsec_result::LWSEC_OK
        );
        // Rotation: a second key held by the server.
        let second = key_pair();
        assert_eq!(
            lwsec_server_config_add_key(scfg, second),
            lwsec_result::LWSEC_OK
        );
        let (mut client, mut server) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            lwsec_conn_new_client(ccfg, 1_000, &mut client),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_new_server(scfg, 1_000, &mut server),
            lwsec_result::LWSEC_OK
        );
        shuttle(client, server);
        assert_eq!(events(server), [lwsec_event::LWSEC_EVENT_CLIENT_HELLO]);
        assert_eq!(
            lwsec_conn_accept_client(server, ptr::null(), 0, false, 1_000),
            lwsec_result::LWSEC_OK
        );
        shuttle(server, client);
        assert_eq!(
            events(client),
            [lwsec_event::LWSEC_EVENT_HANDSHAKE_COMPLETE]
        );
        shuttle(client, server);
        assert_eq!(
            events(server),
            [lwsec_event::LWSEC_EVENT_HANDSHAKE_COMPLETE]
        );
        let mut suite = 0;
        assert_eq!(lwsec_conn_suite(server, &mut suite), lwsec_result::LWSEC_OK);
        assert_eq!(suite, lwsec_suite::LWSEC_SUITE_CHACHA20_POLY1305 as u8);
        // The IK server learns the client's device key.
        let mut peer = [0u8; 32];
        let mut n = 0;
        assert_eq!(
            lwsec_conn_peer_static_key(server, peer.as_mut_ptr(), 32, &mut n),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(peer, public(device));
        // Both sides export the same keying material.
        let (mut a, mut b) = ([0u8; 48], [0u8; 48]);
        for (conn, out) in [(client, &mut a), (server, &mut b)] {
            assert_eq!(
                lwsec_conn_export_keying_material(
                    conn,
                    b"test".as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    out.as_mut_ptr(),
                    out.len()
                ),
                lwsec_result::LWSEC_OK
            );
        }
        assert_eq!(a, b);
        assert_ne!(a, [0u8; 48]);
        // Key update requested by the client, ping answered by the server
        // (whose keys have protected a record, so it updates them too).
        assert_eq!(
            lwsec_conn_send_message(server, b"hi".as_ptr(), 2),
            lwsec_result::LWSEC_OK
        );
        shuttle(server, client);
        let mut hi = [0u8; 2];
        assert_eq!(
            lwsec_conn_recv_message(client, hi.as_mut_ptr(), hi.len(), &mut n),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(lwsec_conn_update_keys(client, true), lwsec_result::LWSEC_OK);
        assert_eq!(
            lwsec_conn_ping(client, b"p".as_ptr(), 1),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_send_message(client, b"after update".as_ptr(), 12),
            lwsec_result::LWSEC_OK
        );
        shuttle(client, server);
        shuttle(server, client);
        assert_eq!(events(server), [lwsec_event::LWSEC_EVENT_KEY_UPDATED]);
        assert_eq!(
            events(client),
            [
                lwsec_event::LWSEC_EVENT_KEY_UPDATED,
                lwsec_event::LWSEC_EVENT_PONG
            ]
        );
        let mut buf = [0u8; 5];
        assert_eq!(
            lwsec_conn_read(server, buf.as_mut_ptr(), buf.len(), &mut n),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(&buf[..n], b"after");
        // The idle timer: armed at the last receive (time 0 in `shuttle`) + 5 s,
        // fatal when it fires.
        let mut deadline = 0;
        assert_eq!(
            lwsec_conn_poll_timeout(client, &mut deadline),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(deadline, 5_000);
        assert_eq!(
            lwsec_conn_handle_timeout(client, 4_999),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_handle_timeout(client, 5_000),
            lwsec_result::LWSEC_TIMEOUT
        );
        assert!(last_error(client).contains("idle timeout"));
        for conn in [client, server] {
            lwsec_conn_free(conn);
        }
        lwsec_client_config_free(ccfg);
        lwsec_server_config_free(scfg);
        for kp in [server_kp, device, second] {
            lwsec_key_pair_free(kp);
        }
    }
}

#[test]
fn c_api_server_demanding_a_cookie_still_completes() {
    unsafe {
        let kp = key_pair();
        let key = public(kp);
        let (mut ccfg, mut scfg) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            lwsec_client_config_new_nk(key.as_ptr(), 32, &mut ccfg),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_server_config_new(kp, &mut scfg),
            lwsec_result::LWSEC_OK
        );
        let address = b"127.0.0.1:5555";
        let (mut client, mut server) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            lwsec_conn_new_client(ccfg, 0, &mut client),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_new_server_with_options(
                scfg,
                0,
                address.as_ptr(),
                address.len(),
                true,
                &mut server
            ),
            lwsec_result::LWSEC_OK
        );
        // ClientHello, Retry with a cookie, ClientHello again, ServerHello.
        shuttle(client, server);
        shuttle(server, client);
        let mut state = lwsec_handshake_state::LWSEC_STATE_ESTABLISHED;
        assert_eq!(
            lwsec_conn_handshake_state(server, &mut state),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(state, lwsec_handshake_state::LWSEC_STATE_HANDSHAKING);
        shuttle(client, server);
        assert_eq!(
            lwsec_conn_accept_client(server, ptr::null(), 0, false, 0),
            lwsec_result::LWSEC_OK
        );
        shuttle(server, client);
        shuttle(client, server);
        for conn in [client, server] {
            assert_eq!(
                lwsec_conn_handshake_state(conn, &mut state),
                lwsec_result::LWSEC_OK
            );
            assert_eq!(state, lwsec_handshake_state::LWSEC_STATE_ESTABLISHED);
        }
        lwsec_conn_free(client);
        lwsec_conn_free(server);
        lwsec_client_config_free(ccfg);
        lwsec_server_config_free(scfg);
        lwsec_key_pair_free(kp);
    }
}

/// Key rotation through the C API (issue 12, item 4): a server configured to
/// announce its next keys; the C client reports them as an event, inside the
/// authenticated handshake, and copies them out in order.
#[test]
fn c_api_client_reports_the_announced_server_keys() {
    unsafe {
        let kp = key_pair();
        let next = key_pair();
        let (current, upcoming) = (public(kp), public(next));
        lwsec_key_pair_free(next);
        let mut scfg = ptr::null_mut();
        assert_eq!(
            lwsec_server_config_new(kp, &mut scfg),
            lwsec_result::LWSEC_OK
        );
        // Not a whole number of keys, or more than 8: refused.
        assert_eq!(
            lwsec_server_config_announce_server_keys(scfg, upcoming.as_ptr(), 31),
            lwsec_result::LWSEC_INVALID_PARAMETER
        );
        let nine = [upcoming; 9].concat();
        assert_eq!(
            lwsec_server_config_announce_server_keys(scfg, nine.as_ptr(), nine.len()),
            lwsec_result::LWSEC_INVALID_PARAMETER
        );
        let announced = [upcoming, current].concat();
        assert_eq!(
            lwsec_server_config_announce_server_keys(scfg, announced.as_ptr(), announced.len()),
            lwsec_result::LWSEC_OK
        );
        let mut ccfg = ptr::null_mut();
        assert_eq!(
            lwsec_client_config_new_nk(current.as_ptr(), current.len(), &mut ccfg),
            lwsec_result::LWSEC_OK
        );
        let (mut client, mut server) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            lwsec_conn_new_client(ccfg, 0, &mut client),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_new_server(scfg, 0, &mut server),
            lwsec_result::LWSEC_OK
        );
        lwsec_client_config_free(ccfg);
        lwsec_server_config_free(scfg);
        lwsec_key_pair_free(kp);

        let mut buf = [0u8; 256];
        let mut written = 0;
        // Nothing announced before the ServerHello.
        assert_eq!(
            lwsec_conn_announced_server_keys(client, buf.as_mut_ptr(), buf.len(), &mut written),
            lwsec_result::LWSEC_NOT_AVAILABLE
        );
        shuttle(client, server);
        assert_eq!(
            lwsec_conn_accept_client(server, ptr::null(), 0, false, 0),
            lwsec_result::LWSEC_OK
        );
        shuttle(server, client);
        let mut events = Vec::new();
        loop {
            let mut event = lwsec_event::LWSEC_EVENT_NONE;
            assert_eq!(
                lwsec_conn_poll_event(client, &mut event),
                lwsec_result::LWSEC_OK
            );
            if event == lwsec_event::LWSEC_EVENT_NONE {
                break;
            }
            events.push(event);
        }
        assert!(
            events.contains(&lwsec_event::LWSEC_EVENT_SERVER_KEYS_ANNOUNCED),
            "{events:?}"
        );
        assert_eq!(
            lwsec_conn_announced_server_keys(client, buf.as_mut_ptr(), buf.len(), &mut written),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(&buf[..written], &announced[..]);
        // Too small a buffer is an error, not a truncated list.
        assert_ne!(
            lwsec_conn_announced_server_keys(client, buf.as_mut_ptr(), 40, &mut written),
            lwsec_result::LWSEC_OK
        );
        lwsec_conn_free(client);
        lwsec_conn_free(server);
    }
}

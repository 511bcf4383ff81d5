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
        "typedef struct lwsec_ticket_keyring lwsec_ticket_keyring;",
        "#define LWSEC_TICKET_SECRET_LEN 32",
        "#define LWSEC_RESUMPTION_TICKET_MAX_LEN 1071",
        "lwsec_result lwsec_ticket_keyring_new(",
        "lwsec_result lwsec_ticket_keyring_rotate(",
        "void lwsec_ticket_keyring_free(",
        "lwsec_result lwsec_server_config_enable_resumption(",
        "lwsec_result lwsec_server_config_set_ticket_lifetime(",
        "lwsec_result lwsec_client_config_set_ticket(",
        "lwsec_result lwsec_conn_take_ticket(",
        "lwsec_result lwsec_conn_is_resumed(",
        "lwsec_result lwsec_conn_client_hello_ticket_identity(",
        "LWSEC_EVENT_RESUMPTION_TICKET = 10",
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
    unsafe { shuttle_at(from, to, 0) }
}

/// [`shuttle`] at time `now_ms`.
unsafe fn shuttle_at(from: *mut lwsec_conn, to: *mut lwsec_conn, now_ms: u64) {
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
                lwsec_conn_handle_input(to, data, len, now_ms, &mut consumed),
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

// --- Session resumption (issue 16: the C API) ---

/// A wall-clock instant for the resumption tests (milliseconds since the
/// UNIX epoch).
const T0: u64 = 1_800_000_000_000;

/// The pattern byte of a ClientHello header: frame type and length (3),
/// magic (2), version (1), then the pattern; `0x03` resumes.
const HELLO_PATTERN_OFFSET: usize = 6;
const PATTERN_RESUME: u8 = 0x03;

#[track_caller]
fn ok(result: lwsec_result) {
    assert_eq!(result, lwsec_result::LWSEC_OK);
}

/// A keyring whose current secret is 32 bytes of `secret`, with previous
/// secrets likewise.
fn keyring(secret: u8, previous: &[u8]) -> *mut lwsec_ticket_keyring {
    let previous: Vec<u8> = previous.iter().flat_map(|b| [*b; 32]).collect();
    let mut ring = ptr::null_mut();
    ok(unsafe {
        lwsec_ticket_keyring_new(
            [secret; 32].as_ptr(),
            32,
            previous.as_ptr(),
            previous.len(),
            &mut ring,
        )
    });
    assert!(!ring.is_null());
    ring
}

/// A server configuration for `kp`, resuming with `ring` if given.
fn server_config(
    kp: *const lwsec_key_pair,
    ring: Option<*const lwsec_ticket_keyring>,
) -> *mut lwsec_server_config {
    let mut scfg = ptr::null_mut();
    unsafe {
        ok(lwsec_server_config_new(kp, &mut scfg));
        if let Some(ring) = ring {
            ok(lwsec_server_config_enable_resumption(scfg, ring));
        }
    }
    scfg
}

/// The pattern byte of the ClientHello a new client queued.
unsafe fn first_flight_pattern(client: *mut lwsec_conn) -> u8 {
    let mut data = ptr::null();
    let mut len = 0;
    ok(unsafe { lwsec_conn_pending_output(client, &mut data, &mut len) });
    assert!(len > HELLO_PATTERN_OFFSET);
    unsafe { *data.add(HELLO_PATTERN_OFFSET) }
}

/// One connection between a client made from `ccfg` and a server made from
/// `scfg`, all at `now`; the server accepts every client with `identity`
/// (none when empty).
struct Handshake {
    client: *mut lwsec_conn,
    server: *mut lwsec_conn,
    /// The pattern byte of the client's first ClientHello.
    first_flight: u8,
    /// What the server saw at the decision point (one decision).
    hello: lwsec_client_hello_info,
    /// The ticket's identity as `lwsec_conn_client_hello_ticket_identity`
    /// gave it at the decision point.
    ticket_identity: Option<Vec<u8>>,
    /// Every event of the client.
    client_events: Vec<lwsec_event>,
}

impl Handshake {
    /// Whether `lwsec_conn_is_resumed` says so on both sides (asserting
    /// they agree).
    fn resumed(&self) -> bool {
        // Different on purpose: a side left unwritten fails the comparison.
        let (mut client, mut server) = (true, false);
        unsafe {
            ok(lwsec_conn_is_resumed(self.client, &mut client));
            ok(lwsec_conn_is_resumed(self.server, &mut server));
        }
        assert_eq!(client, server, "both sides agree on resumption");
        client
    }

    /// Takes the client's ticket (`LWSEC_RESUMPTION_TICKET_MAX_LEN` bytes
    /// always suffice).
    fn take_ticket(&self) -> Vec<u8> {
        let mut buf = vec![0u8; LWSEC_RESUMPTION_TICKET_MAX_LEN];
        let mut n = 0;
        ok(unsafe { lwsec_conn_take_ticket(self.client, buf.as_mut_ptr(), buf.len(), &mut n) });
        buf.truncate(n);
        buf
    }

    /// The server's `lwsec_conn_peer_identity`.
    fn peer_identity(&self) -> Vec<u8> {
        let mut buf = [0u8; 256];
        let mut n = 0;
        ok(unsafe { lwsec_conn_peer_identity(self.server, buf.as_mut_ptr(), buf.len(), &mut n) });
        buf[..n].to_vec()
    }
}

impl Drop for Handshake {
    fn drop(&mut self) {
        unsafe {
            lwsec_conn_free(self.client);
            lwsec_conn_free(self.server);
        }
    }
}

unsafe fn handshake(
    ccfg: *const lwsec_client_config,
    scfg: *const lwsec_server_config,
    now: u64,
    identity: &[u8],
) -> Handshake {
    unsafe {
        let (mut client, mut server) = (ptr::null_mut(), ptr::null_mut());
        ok(lwsec_conn_new_client(ccfg, now, &mut client));
        ok(lwsec_conn_new_server(scfg, now, &mut server));
        let mut run = Handshake {
            client,
            server,
            first_flight: first_flight_pattern(client),
            hello: lwsec_client_hello_info::default(),
            ticket_identity: None,
            client_events: Vec::new(),
        };
        let mut decisions = 0;
        // ClientHello (maybe refused, then a full one), ServerHello, key
        // confirmation, ticket.
        for _ in 0..4 {
            shuttle_at(client, server, now);
            if events(server).contains(&lwsec_event::LWSEC_EVENT_CLIENT_HELLO) {
                decisions += 1;
                ok(lwsec_conn_client_hello(server, &mut run.hello));
                let mut buf = [0u8; 256];
                let mut n = 0;
                match lwsec_conn_client_hello_ticket_identity(
                    server,
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut n,
                ) {
                    lwsec_result::LWSEC_OK => {
                        assert_eq!(n, run.hello.resumption_identity_len);
                        // One byte short: an error, nothing written.
                        let mut short = vec![0u8; n - 1];
                        let mut m = 999;
                        assert_eq!(
                            lwsec_conn_client_hello_ticket_identity(
                                server,
                                short.as_mut_ptr(),
                                short.len(),
                                &mut m
                            ),
                            lwsec_result::LWSEC_BUFFER_TOO_SMALL
                        );
                        assert_eq!(m, 999);
                        run.ticket_identity = Some(buf[..n].to_vec());
                    }
                    lwsec_result::LWSEC_NOT_AVAILABLE => {
                        assert!(!run.hello.resumption_has_identity);
                    }
                    other => panic!("lwsec_conn_client_hello_ticket_identity: {other:?}"),
                }
                ok(lwsec_conn_accept_client(
                    server,
                    identity.as_ptr(),
                    identity.len(),
                    false,
                    now,
                ));
            }
            shuttle_at(server, client, now);
            run.client_events.extend(events(client));
        }
        assert_eq!(decisions, 1, "one decision per connection");
        for conn in [client, server] {
            let mut state = lwsec_handshake_state::LWSEC_STATE_FAILED;
            ok(lwsec_conn_handshake_state(conn, &mut state));
            assert_eq!(state, lwsec_handshake_state::LWSEC_STATE_ESTABLISHED);
        }
        run
    }
}

/// Issue 16 through the C API: a full IK handshake brings a ticket event;
/// the ticket comes out once (a short buffer keeps it), goes into the
/// client configuration, and resumes the next connection, where the
/// decision point sees the identity and the time of the full handshake
/// and an acceptance without identity keeps the ticket's.
#[test]
fn c_api_ticket_event_take_and_resume_keep_the_identity() {
    unsafe {
        let server_kp = key_pair();
        let device = key_pair();
        let ring = keyring(1, &[]);
        let scfg = server_config(server_kp, Some(ring));
        // The configuration keeps its own reference to the keyring.
        lwsec_ticket_keyring_free(ring);
        let key = public(server_kp);
        let mut ccfg = ptr::null_mut();
        ok(lwsec_client_config_new_ik(
            key.as_ptr(),
            32,
            device,
            &mut ccfg,
        ));

        let first = handshake(ccfg, scfg, T0, b"alice");
        assert_eq!(first.first_flight, lwsec_pattern::LWSEC_PATTERN_IK as u8);
        assert!(!first.hello.resumed && first.ticket_identity.is_none());
        assert!(!first.resumed());
        assert!(
            first
                .client_events
                .contains(&lwsec_event::LWSEC_EVENT_RESUMPTION_TICKET),
            "{:?}",
            first.client_events
        );
        // Too small a buffer: an error, nothing written, the ticket kept,
        // the needed length in the last error.
        let mut small = [0u8; 40];
        let mut written = 12345;
        assert_eq!(
            lwsec_conn_take_ticket(first.client, small.as_mut_ptr(), small.len(), &mut written),
            lwsec_result::LWSEC_BUFFER_TOO_SMALL
        );
        assert_eq!(written, 12345, "out parameter written on failure");
        assert_eq!(small, [0u8; 40], "buffer written on failure");
        assert!(last_error(first.client).contains("bytes needed"));
        let ticket = first.take_ticket();
        assert!(ticket.len() > 47 && ticket.len() <= LWSEC_RESUMPTION_TICKET_MAX_LEN);
        assert!(ticket.starts_with(b"lwt1"));
        assert!(
            last_error(first.client).contains(&format!("{} bytes needed", ticket.len())),
            "{}",
            last_error(first.client)
        );
        // Taken once; a server has none.
        let mut buf = [0u8; LWSEC_RESUMPTION_TICKET_MAX_LEN];
        for conn in [first.client, first.server] {
            assert_eq!(
                lwsec_conn_take_ticket(conn, buf.as_mut_ptr(), buf.len(), &mut written),
                lwsec_result::LWSEC_NOT_AVAILABLE
            );
        }
        assert_eq!(first.peer_identity(), b"alice");
        drop(first);

        ok(lwsec_client_config_set_ticket(
            ccfg,
            ticket.as_ptr(),
            ticket.len(),
        ));
        let later = T0 + 60_000;
        let second = handshake(ccfg, scfg, later, b"");
        assert_eq!(second.first_flight, PATTERN_RESUME);
        assert!(second.hello.resumed);
        assert_eq!(second.hello.resumption_authenticated_at_ms, T0);
        assert!(second.hello.resumption_has_identity);
        assert_eq!(second.hello.resumption_identity_len, 5);
        assert_eq!(second.ticket_identity.as_deref(), Some(&b"alice"[..]));
        // The pattern and device key of the full handshake behind the ticket.
        assert_eq!(second.hello.pattern, lwsec_pattern::LWSEC_PATTERN_IK as u8);
        assert!(second.hello.has_client_key);
        assert_eq!(second.hello.client_key, public(device));
        assert!(second.resumed());
        assert_eq!(second.peer_identity(), b"alice", "identity carried over");
        let mut peer = [0u8; 32];
        let mut n = 0;
        ok(lwsec_conn_peer_static_key(
            second.server,
            peer.as_mut_ptr(),
            32,
            &mut n,
        ));
        assert_eq!(peer, public(device));
        let mut pattern = 0;
        ok(lwsec_conn_pattern(second.server, &mut pattern));
        assert_eq!(pattern, lwsec_pattern::LWSEC_PATTERN_IK as u8);
        // A resumed connection brings a new ticket, and carries messages.
        assert!(
            second
                .client_events
                .contains(&lwsec_event::LWSEC_EVENT_RESUMPTION_TICKET)
        );
        let new_ticket = second.take_ticket();
        assert_ne!(new_ticket, ticket);
        ok(lwsec_conn_send_message(
            second.client,
            b"hello again".as_ptr(),
            11,
        ));
        shuttle_at(second.client, second.server, later);
        let mut msg = [0u8; 32];
        ok(lwsec_conn_recv_message(
            second.server,
            msg.as_mut_ptr(),
            msg.len(),
            &mut n,
        ));
        assert_eq!(&msg[..n], b"hello again");
        drop(second);

        lwsec_client_config_free(ccfg);
        lwsec_server_config_free(scfg);
        lwsec_key_pair_free(server_kp);
        lwsec_key_pair_free(device);
    }
}

/// A ticket the server cannot open (its keyring lacks the key, or it does
/// not resume at all): the client falls back to a full handshake on the
/// same connection.
#[test]
fn c_api_a_server_without_the_ticket_key_falls_back_to_a_full_handshake() {
    unsafe {
        let kp = key_pair();
        let key = public(kp);
        let ring_a = keyring(0xa, &[]);
        let ring_b = keyring(0xb, &[]);
        let issuer = server_config(kp, Some(ring_a));
        let other_keys = server_config(kp, Some(ring_b));
        let no_resumption = server_config(kp, None);
        let mut ccfg = ptr::null_mut();
        ok(lwsec_client_config_new_nk(key.as_ptr(), 32, &mut ccfg));
        for (scfg, issues_tickets) in [(other_keys, true), (no_resumption, false)] {
            let first = handshake(ccfg, issuer, T0, b"bob");
            let ticket = first.take_ticket();
            drop(first);
            ok(lwsec_client_config_set_ticket(
                ccfg,
                ticket.as_ptr(),
                ticket.len(),
            ));
            let run = handshake(ccfg, scfg, T0 + 1_000, b"bob");
            assert_eq!(run.first_flight, PATTERN_RESUME, "the client tried");
            assert!(!run.hello.resumed, "the decision was on the full handshake");
            assert_eq!(run.hello.pattern, lwsec_pattern::LWSEC_PATTERN_NK as u8);
            assert!(!run.resumed());
            assert_eq!(run.peer_identity(), b"bob");
            assert_eq!(
                run.client_events
                    .contains(&lwsec_event::LWSEC_EVENT_RESUMPTION_TICKET),
                issues_tickets
            );
        }
        lwsec_client_config_free(ccfg);
        for scfg in [issuer, other_keys, no_resumption] {
            lwsec_server_config_free(scfg);
        }
        for ring in [ring_a, ring_b] {
            lwsec_ticket_keyring_free(ring);
        }
        lwsec_key_pair_free(kp);
    }
}

/// Live rotation: a ticket sealed before `lwsec_ticket_keyring_rotate`
/// still resumes on the configuration holding the keyring, and the new
/// ticket is sealed with the new secret (a server holding only the old one
/// refuses it; one holding it as a previous secret resumes it).
#[test]
fn c_api_a_rotated_keyring_still_opens_the_old_ticket() {
    unsafe {
        let kp = key_pair();
        let key = public(kp);
        let ring = keyring(0xa, &[]);
        let scfg = server_config(kp, Some(ring));
        let mut ccfg = ptr::null_mut();
        ok(lwsec_client_config_new_nk(key.as_ptr(), 32, &mut ccfg));
        let first = handshake(ccfg, scfg, T0, b"");
        let old_ticket = first.take_ticket();
        drop(first);

        ok(lwsec_ticket_keyring_rotate(ring, [0xb; 32].as_ptr(), 32));
        ok(lwsec_client_config_set_ticket(
            ccfg,
            old_ticket.as_ptr(),
            old_ticket.len(),
        ));
        let run = handshake(ccfg, scfg, T0 + 1_000, b"");
        assert!(
            run.hello.resumed && run.resumed(),
            "the old secret still opens"
        );
        let new_ticket = run.take_ticket();
        drop(run);

        let only_old_ring = keyring(0xa, &[]);
        let only_old = server_config(kp, Some(only_old_ring));
        ok(lwsec_client_config_set_ticket(
            ccfg,
            new_ticket.as_ptr(),
            new_ticket.len(),
        ));
        let run = handshake(ccfg, only_old, T0 + 2_000, b"");
        assert!(
            !run.resumed(),
            "the new ticket is sealed with the new secret"
        );
        drop(run);

        // A server restarted with the new secret as a previous one.
        let restarted_ring = keyring(0xc, &[0xb, 0xa]);
        let restarted = server_config(kp, Some(restarted_ring));
        ok(lwsec_client_config_set_ticket(
            ccfg,
            new_ticket.as_ptr(),
            new_ticket.len(),
        ));
        let run = handshake(ccfg, restarted, T0 + 3_000, b"");
        assert!(run.resumed());
        drop(run);

        lwsec_client_config_free(ccfg);
        for scfg in [scfg, only_old, restarted] {
            lwsec_server_config_free(scfg);
        }
        for ring in [ring, only_old_ring, restarted_ring] {
            lwsec_ticket_keyring_free(ring);
        }
        lwsec_key_pair_free(kp);
    }
}

/// A ticket in a client configuration is for one connection: the next
/// connection made from the configuration takes it (even when several
/// threads create connections from it at once: exactly one resumes), an
/// expired ticket is taken and not sent, and a zero length clears it.
#[test]
fn c_api_a_ticket_resumes_one_connection_only() {
    unsafe {
        let kp = key_pair();
        let key = public(kp);
        let ring = keyring(1, &[]);
        let scfg = server_config(kp, Some(ring));
        ok(lwsec_server_config_set_ticket_lifetime(scfg, 60));
        let mut ccfg = ptr::null_mut();
        ok(lwsec_client_config_new_nk(key.as_ptr(), 32, &mut ccfg));
        let first = handshake(ccfg, scfg, T0, b"");
        let ticket = first.take_ticket();
        drop(first);

        let new_client = |now: u64| {
            let mut client = ptr::null_mut();
            ok(lwsec_conn_new_client(ccfg, now, &mut client));
            let pattern = first_flight_pattern(client);
            lwsec_conn_free(client);
            pattern
        };
        ok(lwsec_client_config_set_ticket(
            ccfg,
            ticket.as_ptr(),
            ticket.len(),
        ));
        assert_eq!(new_client(T0), PATTERN_RESUME);
        assert_ne!(new_client(T0), PATTERN_RESUME, "the ticket was taken");

        // Cleared by a zero length (NULL allowed).
        ok(lwsec_client_config_set_ticket(
            ccfg,
            ticket.as_ptr(),
            ticket.len(),
        ));
        ok(lwsec_client_config_set_ticket(ccfg, ptr::null(), 0));
        assert_ne!(new_client(T0), PATTERN_RESUME);

        // Expired (the lifetime was 60 s): taken, and not sent.
        ok(lwsec_client_config_set_ticket(
            ccfg,
            ticket.as_ptr(),
            ticket.len(),
        ));
        assert_ne!(new_client(T0 + 60_000), PATTERN_RESUME);
        assert_ne!(
            new_client(T0),
            PATTERN_RESUME,
            "the expired ticket was taken"
        );

        // Threads sharing the configuration: exactly one gets the ticket.
        ok(lwsec_client_config_set_ticket(
            ccfg,
            ticket.as_ptr(),
            ticket.len(),
        ));
        let shared = ccfg as usize;
        let patterns: Vec<u8> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut client = ptr::null_mut();
                    ok(lwsec_conn_new_client(
                        shared as *const lwsec_client_config,
                        T0,
                        &mut client,
                    ));
                    let pattern = first_flight_pattern(client);
                    lwsec_conn_free(client);
                    pattern
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        assert_eq!(
            patterns.iter().filter(|p| **p == PATTERN_RESUME).count(),
            1,
            "{patterns:?}"
        );

        lwsec_client_config_free(ccfg);
        lwsec_server_config_free(scfg);
        lwsec_ticket_keyring_free(ring);
        lwsec_key_pair_free(kp);
    }
}

/// Bad values and NULLs on the resumption functions give error codes and
/// change nothing.
#[test]
fn c_api_resumption_bad_values_give_error_codes() {
    use lwsec_result::{
        LWSEC_HANDSHAKE_NOT_COMPLETE, LWSEC_INVALID_CONFIG, LWSEC_INVALID_PARAMETER,
        LWSEC_NOT_AVAILABLE, LWSEC_NULL_PARAMETER,
    };
    unsafe {
        // Keyrings: wrong secret lengths, too many previous secrets.
        let mut ring = ptr::null_mut();
        let secrets = [7u8; 32 * 4];
        for (current, previous) in [(31, 0), (33, 0), (0, 0), (32, 31), (32, 33), (32, 128)] {
            assert_eq!(
                lwsec_ticket_keyring_new(
                    secrets.as_ptr(),
                    current,
                    secrets.as_ptr(),
                    previous,
                    &mut ring
                ),
                LWSEC_INVALID_PARAMETER,
                "current {current}, previous {previous}"
            );
            assert!(ring.is_null(), "out parameter written on failure");
        }
        assert_eq!(
            lwsec_ticket_keyring_new(ptr::null(), 32, ptr::null(), 0, &mut ring),
            LWSEC_NULL_PARAMETER
        );
        assert_eq!(
            lwsec_ticket_keyring_new(secrets.as_ptr(), 32, ptr::null(), 0, ptr::null_mut()),
            LWSEC_NULL_PARAMETER
        );
        // Three previous secrets are the most.
        ok(lwsec_ticket_keyring_new(
            secrets.as_ptr(),
            32,
            secrets.as_ptr(),
            96,
            &mut ring,
        ));
        assert_eq!(
            lwsec_ticket_keyring_rotate(ring, secrets.as_ptr(), 31),
            LWSEC_INVALID_PARAMETER
        );
        assert_eq!(
            lwsec_ticket_keyring_rotate(ptr::null(), secrets.as_ptr(), 32),
            LWSEC_NULL_PARAMETER
        );
        ok(lwsec_ticket_keyring_rotate(ring, secrets.as_ptr(), 32));
        lwsec_ticket_keyring_free(ptr::null_mut());
        let mut generated = ptr::null_mut();
        ok(lwsec_ticket_keyring_generate(&mut generated));
        assert_eq!(
            lwsec_ticket_keyring_generate(ptr::null_mut()),
            LWSEC_NULL_PARAMETER
        );

        // Server settings.
        let kp = key_pair();
        let scfg = server_config(kp, None);
        assert_eq!(
            lwsec_server_config_enable_resumption(scfg, ptr::null()),
            LWSEC_NULL_PARAMETER
        );
        assert_eq!(
            lwsec_server_config_enable_resumption(ptr::null_mut(), ring),
            LWSEC_NULL_PARAMETER
        );
        ok(lwsec_server_config_enable_resumption(scfg, generated));
        ok(lwsec_server_config_enable_resumption(scfg, ring));
        for bad in [0, 604_801, u64::MAX] {
            assert_eq!(
                lwsec_server_config_set_ticket_lifetime(scfg, bad),
                LWSEC_INVALID_CONFIG
            );
        }
        ok(lwsec_server_config_set_ticket_lifetime(scfg, 604_800));
        ok(lwsec_server_config_set_ticket_lifetime(scfg, 1));
        assert_eq!(
            lwsec_server_config_set_resumption_max_age(scfg, 0),
            LWSEC_INVALID_CONFIG
        );
        ok(lwsec_server_config_set_resumption_max_age(scfg, 3_600));
        assert_eq!(
            lwsec_server_config_set_ticket_lifetime(ptr::null_mut(), 60),
            LWSEC_NULL_PARAMETER
        );

        // Client tickets: junk, a damaged or truncated ticket are refused
        // and leave the stored ticket in place.
        let key = public(kp);
        let mut ccfg = ptr::null_mut();
        ok(lwsec_client_config_new_nk(key.as_ptr(), 32, &mut ccfg));
        ok(lwsec_server_config_set_ticket_lifetime(scfg, 3_600));
        let first = handshake(ccfg, scfg, T0, b"");
        let ticket = first.take_ticket();
        ok(lwsec_client_config_set_ticket(
            ccfg,
            ticket.as_ptr(),
            ticket.len(),
        ));
        let mut bad_magic = ticket.clone();
        bad_magic[0] ^= 1;
        let mut long = ticket.clone();
        long.push(0);
        for junk in [
            &b"junk"[..],
            &bad_magic[..],
            &ticket[..ticket.len() - 1],
            &long[..],
        ] {
            assert_eq!(
                lwsec_client_config_set_ticket(ccfg, junk.as_ptr(), junk.len()),
                LWSEC_INVALID_PARAMETER
            );
        }
        assert_eq!(
            lwsec_client_config_set_ticket(ccfg, ptr::null(), 5),
            LWSEC_NULL_PARAMETER
        );
        assert_eq!(
            lwsec_client_config_set_ticket(ptr::null_mut(), ticket.as_ptr(), ticket.len()),
            LWSEC_NULL_PARAMETER
        );
        let run = handshake(ccfg, scfg, T0 + 1_000, b"");
        assert!(run.resumed(), "the stored ticket survived the junk");

        // Connection getters.
        let mut written = 0;
        let mut resumed = false;
        assert_eq!(
            lwsec_conn_take_ticket(ptr::null_mut(), ptr::null_mut(), 0, &mut written),
            LWSEC_NULL_PARAMETER
        );
        assert_eq!(
            lwsec_conn_take_ticket(run.client, ptr::null_mut(), 0, ptr::null_mut()),
            LWSEC_NULL_PARAMETER
        );
        assert_eq!(
            lwsec_conn_is_resumed(ptr::null_mut(), &mut resumed),
            LWSEC_NULL_PARAMETER
        );
        assert_eq!(
            lwsec_conn_is_resumed(run.client, ptr::null_mut()),
            LWSEC_NULL_PARAMETER
        );
        assert_eq!(
            lwsec_conn_client_hello_ticket_identity(run.server, ptr::null_mut(), 0, &mut written),
            LWSEC_NOT_AVAILABLE,
            "no decision pending"
        );
        let mut fresh = ptr::null_mut();
        ok(lwsec_conn_new_client(ccfg, T0, &mut fresh));
        assert_eq!(
            lwsec_conn_is_resumed(fresh, &mut resumed),
            LWSEC_HANDSHAKE_NOT_COMPLETE
        );
        assert_eq!(
            lwsec_conn_take_ticket(fresh, ptr::null_mut(), 0, &mut written),
            LWSEC_NOT_AVAILABLE
        );
        lwsec_conn_free(fresh);
        drop(run);
        drop(first);

        lwsec_client_config_free(ccfg);
        lwsec_server_config_free(scfg);
        lwsec_ticket_keyring_free(ring);
        lwsec_ticket_keyring_free(generated);
        lwsec_key_pair_free(kp);
    }
}

/// The C resumption program (`tests/c_api/resumption.c`, built with
/// `-Wall -Wextra -Werror`): full handshake, ticket, resumed connection
/// with the identity carried over, rotation, fallback; then the same under
/// valgrind (no leak, no invalid access).
#[test]
fn c_api_c_resumption_program_runs_clean_under_valgrind() {
    let program = support::c_resumption_program();
    let out = std::process::Command::new(program).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("c_resumption: OK"),
        "{}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    support::require_valgrind();
    let out = std::process::Command::new("valgrind")
        .args(support::VALGRIND)
        .arg(program)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("=="),
        "valgrind: {}\n{stderr}",
        out.status
    );
}

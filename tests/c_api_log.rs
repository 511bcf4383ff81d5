//! The C API's log callback, driven by real connections: a handshake, a
//! key update, a ping, a close, a rejected client, a connection that
//! fails on garbage input and a resumed session each leave their line. The callback is global,
//! so this file holds a single test (its own process).
#![cfg(feature = "ffi")]
#![allow(unsafe_code)] // calls the extern "C" functions directly

use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::Mutex;

use lwsec::ffi::*;

static LINES: Mutex<Vec<(lwsec_log_level, String)>> = Mutex::new(Vec::new());

unsafe extern "C" fn collect(
    _userdata: *mut c_void,
    level: lwsec_log_level,
    message: *const c_char,
    len: usize,
) {
    // SAFETY: lwsec passes `len` bytes of UTF-8 (then a NUL).
    let bytes = unsafe { std::slice::from_raw_parts(message.cast::<u8>(), len) };
    let text = String::from_utf8_lossy(bytes).into_owned();
    if let Ok(mut lines) = LINES.lock() {
        lines.push((level, text));
    }
}

/// Moves all pending output of `from` into `to`.
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
            assert_eq!(
                lwsec_conn_consume_output(from, consumed),
                lwsec_result::LWSEC_OK
            );
        }
    }
}

/// Drains the events of `conn` (which logs them).
unsafe fn drain_events(conn: *mut lwsec_conn) {
    loop {
        let mut event = lwsec_event::LWSEC_EVENT_NONE;
        assert_eq!(
            unsafe { lwsec_conn_poll_event(conn, &mut event) },
            lwsec_result::LWSEC_OK
        );
        if event == lwsec_event::LWSEC_EVENT_NONE {
            return;
        }
    }
}

fn take_lines() -> Vec<(lwsec_log_level, String)> {
    std::mem::take(&mut *LINES.lock().unwrap())
}

fn has(lines: &[(lwsec_log_level, String)], level: lwsec_log_level, text: &str) -> bool {
    lines.iter().any(|(l, t)| *l == level && t.contains(text))
}

#[test]
fn c_api_log_callback_reports_milestones_and_failures() {
    use lwsec_log_level::*;
    unsafe {
        assert_eq!(
            lwsec_set_log_callback(Some(collect), ptr::null_mut()),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_set_log_level(LWSEC_LOG_DEBUG as u32),
            lwsec_result::LWSEC_OK
        );

        let mut kp = ptr::null_mut();
        assert_eq!(lwsec_key_pair_generate(&mut kp), lwsec_result::LWSEC_OK);
        let mut key = [0u8; 32];
        let mut written = 0;
        assert_eq!(
            lwsec_key_pair_public_key(kp, key.as_mut_ptr(), key.len(), &mut written),
            lwsec_result::LWSEC_OK
        );
        let (mut scfg, mut ccfg) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            lwsec_server_config_new(kp, &mut scfg),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_client_config_new_nk(key.as_ptr(), key.len(), &mut ccfg),
            lwsec_result::LWSEC_OK
        );
        lwsec_key_pair_free(kp);

        // A handshake, a key update, a ping and a graceful close.
        let (mut client, mut server) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(
            lwsec_conn_new_client(ccfg, 0, &mut client),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_new_server(scfg, 0, &mut server),
            lwsec_result::LWSEC_OK
        );
        shuttle(client, server);
        drain_events(server);
        assert_eq!(
            lwsec_conn_accept_client(server, ptr::null(), 0, false, 0),
            lwsec_result::LWSEC_OK
        );
        shuttle(server, client);
        shuttle(client, server);
        drain_events(client);
        drain_events(server);
        assert_eq!(
            lwsec_conn_update_keys(client, false),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_ping(client, b"p".as_ptr(), 1),
            lwsec_result::LWSEC_OK
        );
        shuttle(client, server);
        shuttle(server, client);
        drain_events(server);
        drain_events(client);
        assert_eq!(lwsec_conn_close(client), lwsec_result::LWSEC_OK);
        shuttle(client, server);
        drain_events(server);
        let lines = take_lines();
        assert!(has(&lines, LWSEC_LOG_DEBUG, "client accepted"), "{lines:?}");
        assert!(
            has(&lines, LWSEC_LOG_INFO, "handshake complete: NK "),
            "{lines:?}"
        );
        assert!(has(&lines, LWSEC_LOG_DEBUG, "key update sent"), "{lines:?}");
        assert!(has(&lines, LWSEC_LOG_DEBUG, "key updated"), "{lines:?}");
        assert!(has(&lines, LWSEC_LOG_DEBUG, "ping sent"), "{lines:?}");
        assert!(has(&lines, LWSEC_LOG_DEBUG, "pong received"), "{lines:?}");
        assert!(
            has(&lines, LWSEC_LOG_INFO, "closing: close_notify queued"),
            "{lines:?}"
        );
        assert!(
            has(&lines, LWSEC_LOG_INFO, "peer closed (close_notify)"),
            "{lines:?}"
        );
        assert!(
            !lines.iter().any(|(l, _)| *l <= LWSEC_LOG_WARN),
            "no failure yet: {lines:?}"
        );
        lwsec_conn_free(client);
        lwsec_conn_free(server);

        // A rejected client: the server logs the decision, the client the
        // alert it received, once.
        assert_eq!(
            lwsec_conn_new_client(ccfg, 0, &mut client),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_conn_new_server(scfg, 0, &mut server),
            lwsec_result::LWSEC_OK
        );
        shuttle(client, server);
        assert_eq!(
            lwsec_conn_reject_client(server, lwsec_rejection::LWSEC_REJECT_NOT_AUTHORIZED as u32),
            lwsec_result::LWSEC_OK
        );
        let mut data = ptr::null();
        let mut len = 0;
        assert_eq!(
            lwsec_conn_pending_output(server, &mut data, &mut len),
            lwsec_result::LWSEC_OK
        );
        let mut consumed = 0;
        let r = lwsec_conn_handle_input(client, data, len, 0, &mut consumed);
        assert_ne!(r, lwsec_result::LWSEC_OK);
        // The same error again: logged only the first time.
        let again = lwsec_conn_handle_input(client, data, len, 0, &mut consumed);
        assert_eq!(again, r);
        let lines = take_lines();
        assert!(
            has(&lines, LWSEC_LOG_DEBUG, "client rejected: "),
            "{lines:?}"
        );
        let failures: Vec<_> = lines
            .iter()
            .filter(|(l, t)| {
                *l == LWSEC_LOG_WARN && t.starts_with("lwsec_conn_handle_input: connection failed")
            })
            .collect();
        assert_eq!(failures.len(), 1, "{lines:?}");
        assert!(failures[0].1.contains("client_rejected"), "{lines:?}");
        lwsec_conn_free(client);
        lwsec_conn_free(server);

        // Garbage instead of a ServerHello.
        assert_eq!(
            lwsec_conn_new_client(ccfg, 0, &mut client),
            lwsec_result::LWSEC_OK
        );
        let mut garbage = vec![0x02u8, 0x00, 0x30];
        garbage.resize(3 + 0x30, 0);
        let r = lwsec_conn_handle_input(client, garbage.as_ptr(), garbage.len(), 0, &mut consumed);
        assert!((100..200).contains(&(r as u32)), "got {r:?}");
        let lines = take_lines();
        assert!(
            has(
                &lines,
                LWSEC_LOG_WARN,
                "lwsec_conn_handle_input: connection failed: "
            ),
            "{lines:?}"
        );
        lwsec_conn_free(client);

        // Resumption: the ticket arrives (DEBUG), the next connection
        // resumes with it (DEBUG on both sides) and says so when complete
        // (INFO).
        let mut ring = ptr::null_mut();
        assert_eq!(
            lwsec_ticket_keyring_generate(&mut ring),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_server_config_enable_resumption(scfg, ring),
            lwsec_result::LWSEC_OK
        );
        lwsec_ticket_keyring_free(ring);
        let mut ticket = [0u8; LWSEC_RESUMPTION_TICKET_MAX_LEN];
        let mut ticket_len = 0;
        for resume in [false, true] {
            if resume {
                assert_eq!(
                    lwsec_client_config_set_ticket(ccfg, ticket.as_ptr(), ticket_len),
                    lwsec_result::LWSEC_OK
                );
            }
            assert_eq!(
                lwsec_conn_new_client(ccfg, 0, &mut client),
                lwsec_result::LWSEC_OK
            );
            assert_eq!(
                lwsec_conn_new_server(scfg, 0, &mut server),
                lwsec_result::LWSEC_OK
            );
            shuttle(client, server);
            drain_events(server);
            assert_eq!(
                lwsec_conn_accept_client(server, ptr::null(), 0, false, 0),
                lwsec_result::LWSEC_OK
            );
            shuttle(server, client);
            shuttle(client, server);
            shuttle(server, client);
            drain_events(client);
            drain_events(server);
            if !resume {
                assert_eq!(
                    lwsec_conn_take_ticket(
                        client,
                        ticket.as_mut_ptr(),
                        ticket.len(),
                        &mut ticket_len
                    ),
                    lwsec_result::LWSEC_OK
                );
            }
            lwsec_conn_free(client);
            lwsec_conn_free(server);
        }
        let lines = take_lines();
        assert!(
            has(
                &lines,
                LWSEC_LOG_DEBUG,
                "resumption ticket received (NK session"
            ),
            "{lines:?}"
        );
        assert!(
            has(&lines, LWSEC_LOG_DEBUG, "resumption ticket taken"),
            "{lines:?}"
        );
        assert!(
            has(&lines, LWSEC_LOG_DEBUG, "resuming a session with a ticket"),
            "{lines:?}"
        );
        assert!(
            has(
                &lines,
                LWSEC_LOG_DEBUG,
                "client accepted (resuming a session)"
            ),
            "{lines:?}"
        );
        let complete = |suffix: &str| {
            lines
                .iter()
                .filter(|(l, t)| {
                    *l == LWSEC_LOG_INFO
                        && t.starts_with("handshake complete: NK ")
                        && t.ends_with(suffix)
                })
                .count()
        };
        assert_eq!(complete(", resumed"), 2, "both sides, once: {lines:?}");
        assert!(
            !lines.iter().any(|(l, _)| *l <= LWSEC_LOG_WARN),
            "no failure: {lines:?}"
        );

        assert_eq!(
            lwsec_set_log_callback(None, ptr::null_mut()),
            lwsec_result::LWSEC_OK
        );
        assert_eq!(
            lwsec_set_log_level(LWSEC_LOG_INFO as u32),
            lwsec_result::LWSEC_OK
        );
        lwsec_client_config_free(ccfg);
        lwsec_server_config_free(scfg);
    }
}

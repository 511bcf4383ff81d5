//! Negative cases for the handshake: tampered ClientHellos, ServerHellos,
//! Retries and alerts (spec 3, 4), the key confirmation (4.10), and the
//! Retry state machine.

use super::tamper::{client_hello_with_payload, flip, rebody, set, snow_message};
use super::{Cases, find};
use crate::vectors::encoding::{parse_suite, unhex};
use crate::vectors::frames::{client_hello_header_len, frame};
use crate::vectors::model::VectorFiles;
use crate::vectors::record_aead::seal_record;

/// Adds the handshake cases, on `nk-aes-256-gcm` and `ik-aes-256-gcm`.
pub(super) fn add(files: &VectorFiles, cases: &mut Cases) {
    let nk = find(&files.handshake.vectors, "nk-aes-256-gcm", |v| &v.name);
    let ik = find(&files.handshake.vectors, "ik-aes-256-gcm", |v| &v.name);
    for v in [nk, ik] {
        let base = format!("handshake.json#{}", v.name);
        let ch = unhex(&v.client_hello);
        let n = usize::from(ch[8]);
        let key_id_at = 9 + n;
        let noise_at = 3 + client_hello_header_len(&ch[3..]);
        let mut add = |place: &str, description: &str, input: Vec<u8>| {
            cases.add(&base, "server", place, description, input)
        };
        if v.pattern == "NK" {
            add(
                "client_hello.frame.type",
                "frame type 0x01 changed to 0x02 (ServerHello)",
                set(&ch, 0, 0x02),
            );
            add(
                "client_hello.frame.type_unknown",
                "frame type 0x01 changed to 0x05 (undefined)",
                set(&ch, 0, 0x05),
            );
            add(
                "client_hello.frame.length",
                "frame header only, length 10241 (above the 10240-byte ClientHello limit)",
                vec![0x01, 0x28, 0x01],
            );
            add(
                "client_hello.magic",
                "magic \"lw\" changed to \"lx\"",
                set(&ch, 4, b'x'),
            );
            add(
                "client_hello.version",
                "version 1 changed to 2",
                set(&ch, 5, 2),
            );
            add(
                "client_hello.pattern",
                "pattern 0x01 changed to 0x04 (undefined)",
                set(&ch, 6, 4),
            );
            add(
                "client_hello.header.suite_list",
                "suite list [0x01, 0x02] changed to [0x01, 0x03]: the server still selects \
                 0x01, and the prologue no longer matches",
                set(&ch, 10, 3),
            );
            add(
                "client_hello.header.suite_list.duplicate",
                "suite list [0x01, 0x02] changed to [0x01, 0x01]",
                set(&ch, 10, 1),
            );
            add(
                "client_hello.header.suite_list.empty",
                "suite list emptied (n = 0, suite bytes removed)",
                rebody(&ch, |b| {
                    b[5] = 0;
                    b.drain(6..6 + n);
                }),
            );
            add(
                "client_hello.header.suite_not_listed",
                "suite list [0x01, 0x02] changed to [0x02, 0x03], which lacks the first-flight suite 0x01",
                rebody(&ch, |b| {
                    b[6] = 2;
                    b[7] = 3;
                }),
            );
            add(
                "client_hello.header.no_common_suite",
                "suite 0x03 and suite list [0x03, 0x04]: no suite the server accepts",
                rebody(&ch, |b| {
                    b[4] = 3;
                    b[6] = 3;
                    b[7] = 4;
                }),
            );
            add(
                "client_hello.key_id",
                "first byte of the server key id flipped",
                flip(&ch, key_id_at),
            );
            add(
                "client_hello.flags",
                "reserved flag bit 1 set (flags 0x00 changed to 0x02)",
                set(&ch, key_id_at + 8, 2),
            );
            add(
                "client_hello.flags.early_data",
                "early_data flag set in transit (flags 0x00 changed to 0x01): the prologue no longer matches",
                set(&ch, key_id_at + 8, 1),
            );
            add(
                "client_hello.retry_echo.unsolicited_cookie",
                "a retry echo (suite 0x01, 1-byte cookie) the server never issued: not a valid cookie",
                rebody(&ch, |b| {
                    let at = key_id_at + 8 + 1 - 3;
                    b.splice(at..at + 1, [3, 1, 1, 0xaa]);
                }),
            );
            add(
                "client_hello.retry_echo.suite_mismatch",
                "a retry echo naming suite 0x02 in a ClientHello whose suite is 0x01",
                rebody(&ch, |b| {
                    let at = key_id_at + 8 + 1 - 3;
                    b.splice(at..at + 1, [2, 2, 0]);
                }),
            );
            add(
                "client_hello.noise.ephemeral.low_order",
                "the client ephemeral key replaced by zero (a low-order point)",
                rebody(&ch, |b| b[noise_at - 3..noise_at - 3 + 32].fill(0)),
            );
            add(
                "client_hello.noise.truncated",
                "last byte of the Noise message removed (length adjusted)",
                rebody(&ch, |b| {
                    b.pop();
                }),
            );
        }
        add(
            "client_hello.noise.ephemeral",
            "first byte of the client ephemeral key flipped",
            flip(&ch, noise_at),
        );
        if v.pattern == "IK" {
            add(
                "client_hello.noise.static",
                "first byte of the encrypted client static key flipped",
                flip(&ch, noise_at + 32),
            );
        }
        if v.pattern == "NK" {
            add(
                "client_hello.noise.payload.critical_extension",
                "Noise message 1 re-encrypted with a payload holding the unknown critical \
                 extension 0x8001 (empty value)",
                client_hello_with_payload(v, &[0x80, 0x01, 0x00, 0x00]),
            );
            add(
                "client_hello.noise.payload.extension_order",
                "Noise message 1 re-encrypted with a payload holding extension 0x0005 twice",
                client_hello_with_payload(v, &[0, 5, 0, 0, 0, 5, 0, 0]),
            );
            add(
                "client_hello.noise.payload.extension_length",
                "Noise message 1 re-encrypted with a payload whose extension claims 3 bytes \
                 and holds 1",
                client_hello_with_payload(v, &[0, 5, 0, 3, 1]),
            );
        }
        add(
            "client_hello.noise.payload_tag",
            "last byte of the payload tag flipped",
            flip(&ch, ch.len() - 1),
        );

        if v.pattern == "IK" {
            cases.add(
                &base,
                "server-rejecting",
                "client_hello.noise.static.rejected",
                "the unmodified ClientHello, sent to a server whose application refuses every \
                 client static key",
                ch.clone(),
            );
        }
        let base_client = |place: &str, description: &str, input: Vec<u8>, cases: &mut Cases| {
            cases.add(&base, "client", place, description, input)
        };
        let sh = unhex(&v.server_hello);
        base_client(
            "server_hello.noise.ephemeral",
            "first byte of the server ephemeral key flipped",
            flip(&sh, 3),
            cases,
        );
        base_client(
            "server_hello.noise.payload_tag",
            "last byte of the payload tag flipped",
            flip(&sh, sh.len() - 1),
            cases,
        );
        if v.pattern == "NK" {
            base_client(
                "server_hello.noise.ephemeral.low_order",
                "the server ephemeral key replaced by zero (a low-order point)",
                rebody(&sh, |b| b[..32].fill(0)),
                cases,
            );
            base_client(
                "server_hello.noise.payload.critical_extension",
                "Noise message 2 re-encrypted with a payload holding the unknown critical \
                 extension 0x8001 (empty value)",
                frame(0x02, &snow_message(v, false, &[0x80, 0x01, 0x00, 0x00])),
                cases,
            );
            base_client(
                "server_hello.frame.type",
                "a ClientHello frame (type 0x01) where a ServerHello or Retry is expected",
                set(&sh, 0, 0x01),
                cases,
            );
            base_client(
                "alert.unknown_server_key",
                "the server's cleartext alert unknown_server_key (90)",
                vec![0x15, 0x00, 0x01, 90],
                cases,
            );
            base_client(
                "retry.suite_not_offered",
                "a Retry selecting suite 0x03, which the client did not offer",
                frame(0x03, &[0x03, 0x00]),
                cases,
            );
            base_client(
                "retry.changes_nothing",
                "a Retry selecting the suite already used, with no cookie",
                frame(0x03, &[0x01, 0x00]),
                cases,
            );
            let mut long_cookie = vec![0x02, 65];
            long_cookie.extend([0xcc; 65]);
            base_client(
                "retry.cookie_too_long",
                "a Retry with a 65-byte cookie (the limit is 64)",
                frame(0x03, &long_cookie),
                cases,
            );
        }
    }
    // Key confirmation (section 4.10): the server read the ClientHello,
    // accepted the client and waits for its confirm record.
    for v in [nk, ik] {
        let base = format!("handshake.json#{}", v.name);
        let suite = parse_suite(&v.suite);
        let ch = unhex(&v.client_hello);
        let after_hello = |record: Vec<u8>| [ch.clone(), record].concat();
        let sealed = |inner: &[u8]| seal_record(suite, &v.client_to_server, 0, inner);
        let mut add = |place: &str, description: &str, input: Vec<u8>| {
            cases.add(&base, "server", place, description, input)
        };
        add(
            "client_confirm.missing",
            "the ClientHello, then a message record (seq 0) instead of the confirm record: \
             the client never proved it holds the keys",
            after_hello(sealed(&[0x68, 0x69, 0x01])),
        );
        add(
            "client_confirm.payload",
            "the ClientHello, then a confirm record (content type 0x07) with a 1-byte payload",
            after_hello(sealed(&[0x01, 0x07])),
        );
        add(
            "client_confirm.tag",
            "the ClientHello, then the client's confirm record with its last tag byte flipped \
             (a replayed first flight cannot produce a valid one)",
            after_hello({
                let c = unhex(&v.client_confirm);
                flip(&c, c.len() - 1)
            }),
        );
        add(
            "client_confirm.cleartext_alert",
            "the ClientHello, then a cleartext alert decrypt_error (51) where the confirm \
             record is expected: reported (unauthenticated), not answered",
            after_hello(vec![0x15, 0x00, 0x01, 51]),
        );
    }
    let retry = find(&files.retry.vectors, "nk-retry-chacha20-poly1305", |v| {
        &v.name
    });
    let ch1 = unhex(&retry.client_hello_1);
    let retry_len_at = 3 + client_hello_header_len(&ch1[3..]) - 1;
    cases.add(
        &format!("retry.json#{}", retry.name),
        "server",
        "client_hello.retry_echo.not_selected",
        "the first ClientHello (suite 0x01) with a retry echo for suite 0x01 added: the \
         server selects 0x02, and a ClientHello that already answers a Retry must use it",
        rebody(&ch1, |b| {
            b.splice(retry_len_at - 3..retry_len_at - 2, [2, 1, 0]);
        }),
    );
    let r = unhex(&retry.retry);
    let mut twice = r.clone();
    twice.extend_from_slice(&r);
    cases.add(
        &format!("retry.json#{}", retry.name),
        "client",
        "retry.second",
        "the Retry delivered twice: the client answers the first with its second ClientHello, \
         then fails on the second",
        twice,
    );
}

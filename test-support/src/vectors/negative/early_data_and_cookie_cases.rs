//! Negative cases for early data (spec 4.3 step 7, 4.4, 4.6, 4.9), the
//! `server_keys` extension (4.4) and Retry cookies (4.3 steps 5 and 6,
//! 4.5).

use super::tamper::{NoiseSetup, client_hello_with_payload, flip, rebody, snow_message};
use super::{Cases, find};
use crate::vectors::early_data::early_data_payload;
use crate::vectors::encoding::{hx, unhex};
use crate::vectors::frames::{client_hello_header_len, frame};
use crate::vectors::model::VectorFiles;
use crate::vectors::{EARLY_DATA, FIXED_TIME};

/// Adds the early-data, `server_keys` and cookie cases.
pub(super) fn add(files: &VectorFiles, cases: &mut Cases) {
    let t = FIXED_TIME.as_millis();
    let v = find(&files.handshake.vectors, "nk-aes-256-gcm", |v| &v.name);
    let base = format!("handshake.json#{}", v.name);
    let with =
        |flags: u8, payload: &[u8]| NoiseSetup::of_handshake(v).client_hello_with(flags, payload);
    let full = early_data_payload(t, EARLY_DATA);
    let timestamp_only = &full[..12];
    let mut data_only = vec![0x00, 0x02];
    data_only.extend_from_slice(&u16::try_from(EARLY_DATA.len()).unwrap().to_be_bytes());
    data_only.extend_from_slice(EARLY_DATA);
    cases.add(
        &base,
        "server",
        "client_hello.early_data.flag_without_extension",
        "early_data flag set (and in the prologue) and Noise message 1 re-encrypted with only \
         a timestamp extension: no early_data extension",
        with(1, timestamp_only),
    );
    cases.add(
        &base,
        "server",
        "client_hello.early_data.flag_without_timestamp",
        "early_data flag set (and in the prologue) and Noise message 1 re-encrypted with only \
         an early_data extension: no timestamp",
        with(1, &data_only),
    );
    cases.add(
        &base,
        "server",
        "client_hello.early_data.extension_without_flag",
        "Noise message 1 re-encrypted with timestamp and early_data extensions; the \
         early_data flag is clear",
        with(0, &full),
    );
    let mut short_timestamp = vec![0x00, 0x01, 0x00, 0x07];
    short_timestamp.extend_from_slice(&t.to_be_bytes()[1..]);
    short_timestamp.extend_from_slice(&full[12..]);
    cases.add(
        &base,
        "server",
        "client_hello.early_data.timestamp_length",
        "early_data flag set and Noise message 1 re-encrypted with a 7-byte timestamp \
         extension and an early_data extension",
        with(1, &short_timestamp),
    );
    cases.add(
        &base,
        "client",
        "server_hello.early_data_status.unsolicited",
        "Noise message 2 re-encrypted with early_data_status = 1 although the client sent no \
         early data",
        frame(
            0x02,
            &snow_message(v, false, &[0x00, 0x03, 0x00, 0x01, 0x01]),
        ),
    );

    // The server_keys extension (section 4.4).
    let mut keys_33 = vec![0x00, 0x04, 0x00, 0x21];
    keys_33.extend([0x77; 33]);
    cases.add(
        &base,
        "client",
        "server_hello.server_keys.length",
        "Noise message 2 re-encrypted with a server_keys extension of 33 bytes (not a \
         multiple of 32)",
        frame(0x02, &snow_message(v, false, &keys_33)),
    );
    let mut keys_in_hello = vec![0x00, 0x04, 0x00, 0x20];
    keys_in_hello.extend([0x77; 32]);
    cases.add(
        &base,
        "server",
        "client_hello.server_keys",
        "Noise message 1 re-encrypted with a server_keys extension, which only a \
         ServerHello may carry",
        client_hello_with_payload(v, &keys_in_hello),
    );

    let e = find(&files.early_data.vectors, "nk-aes-256-gcm-accepted", |v| {
        &v.name
    });
    let base = format!("early_data.json#{}", e.name);
    cases.add(
        &base,
        "server",
        "client_hello.early_data.too_long",
        "Noise message 1 re-encrypted with a timestamp and 8193 bytes of early data (the \
         limit is 8192)",
        NoiseSetup::of_early_data(e).client_hello_with(1, &early_data_payload(t, &[0xed; 8193])),
    );
    cases.add(
        &base,
        "client",
        "server_hello.early_data_status.missing",
        "Noise message 2 re-encrypted with an empty payload although the client sent early \
         data",
        frame(0x02, &NoiseSetup::of_early_data(e).message_2(&[])),
    );
    cases.add(
        &base,
        "client",
        "server_hello.early_data_status.value",
        "Noise message 2 re-encrypted with early_data_status = 2 (only 0 and 1 are defined)",
        frame(
            0x02,
            &NoiseSetup::of_early_data(e).message_2(&[0x00, 0x03, 0x00, 0x01, 0x02]),
        ),
    );

    let r = find(&files.retry.vectors, "nk-cookie-aes-256-gcm", |v| &v.name);
    let base = format!("retry.json#{}", r.name);
    let ch2 = unhex(&r.client_hello_2);
    let header_end = 3 + client_hello_header_len(&ch2[3..]);
    let cookie_at = header_end - 24;
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_forged",
        "the second ClientHello with the last byte of the cookie's MAC flipped",
        flip(&ch2, header_end - 1),
    );
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_timestamp",
        "the second ClientHello with the last byte of the cookie's timestamp flipped (the \
         MAC no longer matches)",
        flip(&ch2, cookie_at + 7),
    );
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_other_address",
        "the unmodified second ClientHello, received from another address \
         (198.51.100.23:40000) than the one the cookie was issued to",
        ch2.clone(),
    );
    cases.last().receiver_peer_address = Some(hx(b"198.51.100.23:40000"));
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_expired",
        "the unmodified second ClientHello, received 30.001 s after the cookie was issued \
         (the lifetime is 30 s)",
        ch2.clone(),
    );
    cases.last().receiver_time = Some(t + 30_001);
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_future",
        "the unmodified second ClientHello, received 5.001 s before the cookie's timestamp \
         (at most 5 s of clock skew is allowed)",
        ch2.clone(),
    );
    cases.last().receiver_time = Some(t - 5_001);
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_length",
        "the second ClientHello with the cookie's last byte removed (a 23-byte cookie; \
         lengths adjusted)",
        rebody(&ch2, |b| {
            let end = header_end - 3;
            b.remove(end - 1);
            b[end - 27] -= 1; // retry_len
            b[end - 25] -= 1; // cookie_len
        }),
    );
    cases.add(
        &base,
        "server",
        "client_hello.retry_echo.cookie_missing",
        "the second ClientHello with the retry echo's cookie removed (suite 0x01, empty \
         cookie) sent to the server that demands one",
        rebody(&ch2, |b| {
            let end = header_end - 3;
            b.drain(end - 24..end);
            b[end - 27] = 2; // retry_len
            b[end - 25] = 0; // cookie_len
        }),
    );
}

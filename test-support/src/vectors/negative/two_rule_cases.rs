//! Negative inputs that break two rules at once: the spec says which check
//! comes first (PROTOCOL.md sections 3, 4.3, 4.4, 4.5, 4.6, 7).

use lwsec::Suite;

use super::tamper::{client_hello_with_payload, rebody, set};
use super::{Cases, find};
use crate::vectors::encoding::{suite_slug, unhex};
use crate::vectors::frames::frame;
use crate::vectors::model::VectorFiles;
use crate::vectors::record_aead::seal_record;

/// Adds the two-rule cases.
pub(super) fn add(files: &VectorFiles, cases: &mut Cases) {
    let nk = find(&files.handshake.vectors, "nk-aes-256-gcm", |v| &v.name);
    let base = format!("handshake.json#{}", nk.name);
    let ch = unhex(&nk.client_hello);
    cases.add(
        &base,
        "server",
        "two_rules.magic_and_version",
        "magic changed to \"lx\" and version to 2: the magic is checked first",
        set(&set(&ch, 4, b'x'), 5, 2),
    );
    cases.add(
        &base,
        "server",
        "two_rules.version_and_structure",
        "version 2 and the suite list emptied: the version is checked before the structure",
        rebody(&set(&ch, 5, 2), |b| {
            let n = usize::from(b[5]);
            b[5] = 0;
            b.drain(6..6 + n);
        }),
    );
    // Extension checks run in order: an out-of-order type is found before
    // the type's "not allowed here".
    let mut unordered = vec![0x00, 0x10, 0x00, 0x00];
    unordered.extend_from_slice(&[0x00, 0x03, 0x00, 0x01, 0x01]);
    cases.add(
        &base,
        "server",
        "two_rules.extension_order_then_misplaced",
        "Noise message 1 re-encrypted with extensions 0x0010 (unknown) then 0x0003 \
         (early_data_status, not allowed in a ClientHello, and out of order): the order \
         is checked first",
        client_hello_with_payload(nk, &unordered),
    );
    // A short message 2 whose ephemeral key is also a low-order point.
    let mut short = vec![0u8; 40];
    short[0] = 1; // the point of order 1 (u = 1)
    let mut base_client = |place: &str, description: &str, input: Vec<u8>| {
        cases.add(&base, "client", place, description, input)
    };
    base_client(
        "two_rules.short_message_2_low_order",
        "a 40-byte ServerHello (shorter than 48) whose ephemeral key is a low-order point: \
         the length is checked before any Diffie-Hellman",
        frame(0x02, &short),
    );
    base_client(
        "alert.empty",
        "a cleartext alert frame of length 0 (no code)",
        vec![0x15, 0x00, 0x00],
    );
    base_client(
        "retry.body_length",
        "a Retry whose cookie_len says 2 but carries 3 bytes of cookie",
        frame(0x03, &[0x02, 0x02, 0xcc, 0xcc, 0xcc]),
    );
    let retry = find(&files.retry.vectors, "nk-retry-chacha20-poly1305", |v| {
        &v.name
    });
    let mut twice = unhex(&retry.retry);
    twice.extend(frame(0x03, &[0x02, 65]));
    cases.add(
        &format!("retry.json#{}", retry.name),
        "client",
        "two_rules.second_retry_malformed",
        "the Retry, then a second Retry whose body is malformed (cookie_len 65, no cookie): \
         a second Retry is refused before its body is read",
        twice,
    );
    // A close_notify between the fragments of a message.
    for suite in Suite::ALL {
        let s = find(
            &files.records.streams,
            &format!("{}/padding-none", suite_slug(suite)),
            |s| &s.name,
        );
        let sealed = |seq: u64, inner: &[u8]| seal_record(suite, &s.client_to_server, seq, inner);
        let mut input = sealed(1, &[0x61, 0x02]);
        input.extend(sealed(2, &[0x00, 0x06]));
        cases.add(
            &format!("records.json#{}", s.name),
            "server",
            "record.close_notify_inside_message",
            "a message_continues fragment (seq 1), then close_notify (seq 2) before the \
             message ends: a close must not cut a message silently",
            input,
        );
    }
}

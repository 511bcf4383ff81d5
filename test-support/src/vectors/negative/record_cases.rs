//! Negative cases for records after the handshake (spec 6, 7), for each
//! suite.

use lwsec::Suite;

use super::tamper::{flip, set};
use super::{Cases, find};
use crate::vectors::encoding::{suite_slug, unhex};
use crate::vectors::frames::frame;
use crate::vectors::model::VectorFiles;
use crate::vectors::record_aead::seal_record;

/// Adds the record cases, on each suite's `padding-none` stream.
pub(super) fn add(files: &VectorFiles, cases: &mut Cases) {
    for suite in Suite::ALL {
        let slug = suite_slug(suite);
        let s = find(
            &files.records.streams,
            &format!("{slug}/padding-none"),
            |s| &s.name,
        );
        let base = format!("records.json#{}", s.name);
        // Step 0 is the key confirmation (seq 0), which the receiver has.
        assert_eq!(s.steps[0].command, "confirm");
        let second = unhex(&s.steps[2].records[0].record);
        let first = unhex(&s.steps[1].records[0].record);
        let c2s = &s.client_to_server;
        let sealed = |seq: u64, inner: &[u8]| seal_record(suite, c2s, seq, inner);
        let mut add = |place: &str, description: &str, input: Vec<u8>| {
            cases.add(&base, "server", place, description, input)
        };
        add(
            "record.header.type",
            "record type 0x17 changed to 0x18 (undefined)",
            set(&first, 0, 0x18),
        );
        add(
            "record.header.type_handshake",
            "record type 0x17 changed to 0x01 (ClientHello) after the handshake",
            set(&first, 0, 0x01),
        );
        add(
            "record.header.length",
            "record header only, length 16402 (above the 16401-byte limit)",
            vec![0x17, 0x40, 0x12],
        );
        add(
            "record.header.length_short",
            "record length one less than the record's size (the last tag byte is left over)",
            {
                let len = u16::from_be_bytes([first[1], first[2]]) - 1;
                let mut b = first.clone();
                b[1..3].copy_from_slice(&len.to_be_bytes());
                b
            },
        );
        add(
            "record.ciphertext",
            "first ciphertext byte flipped",
            flip(&first, 3),
        );
        add(
            "record.tag",
            "last tag byte flipped",
            flip(&first, first.len() - 1),
        );
        add(
            "record.too_short",
            "a record body of 15 bytes, shorter than a tag",
            frame(0x17, &[0x5a; 15]),
        );
        let mut replayed = first.clone();
        replayed.extend_from_slice(&first);
        add(
            "record.replayed",
            "the first record after the confirmation (seq 1) delivered twice",
            replayed,
        );
        add(
            "record.reordered",
            "the second record after the confirmation (seq 2) delivered first",
            second,
        );
        let reflected = unhex(&s.steps.last().unwrap().records[0].record);
        add(
            "record.reflected",
            "the server's own first record (server-to-client keys) sent back to it",
            reflected,
        );
        add(
            "record.inner.unknown_content_type",
            "a record sealed correctly with content type 0x09 (undefined)",
            sealed(1, &[0x68, 0x69, 0x09]),
        );
        add(
            "record.inner.no_content_type",
            "a record sealed correctly whose inner plaintext is all zeros",
            sealed(1, &[0u8; 4]),
        );
        add(
            "record.inner.empty_continuation",
            "an empty message_continues (0x02) record",
            sealed(1, &[0x02]),
        );
        add(
            "record.key_update.payload",
            "a key_update whose payload is 0x02",
            sealed(1, &[0x02, 0x03]),
        );
        let mut ping = vec![0x70; 65];
        ping.push(0x04);
        add(
            "record.ping.too_long",
            "a ping with a 65-byte payload (the limit is 64)",
            sealed(1, &ping),
        );
        add(
            "record.alert.payload",
            "an alert record with a 2-byte payload",
            sealed(1, &[0x00, 0x00, 0x06]),
        );
        add(
            "record.alert.fatal",
            "an alert record carrying bad_record_mac (20): the receiver fails and sends nothing",
            sealed(1, &[20, 0x06]),
        );
        let mut after_close = sealed(1, &[0x00, 0x06]);
        after_close.extend(sealed(2, &[0x61, 0x01]));
        add(
            "record.after_close_notify",
            "a message record (seq 2) after close_notify (seq 1)",
            after_close,
        );
        add(
            "record.confirm.repeated",
            "a second key confirmation record (content type 0x07) after the first",
            sealed(1, &[0x07]),
        );
        add(
            "record.cleartext_alert",
            "a cleartext alert frame (0x15) after the handshake",
            vec![0x15, 0x00, 0x01, 40],
        );
    }
}

//! Negative cases for resumption (spec 4.11): the ticket field of a
//! resumption ClientHello, a tampered resumption flight whose ticket opens,
//! ResumeRefused frames, and ticket records (6.2) a client or a server must
//! refuse.

use lwsec::Suite;

use super::tamper::{flip, rebody};
use super::{Cases, find};
use crate::vectors::encoding::unhex;
use crate::vectors::frames::{client_hello_header_len, frame};
use crate::vectors::model::VectorFiles;
use crate::vectors::record_aead::seal_record;
use crate::vectors::resumption::RESUME_REFUSED;

/// The inner plaintext of a ticket record with `payload` (no padding).
fn ticket_inner(payload: &[u8]) -> Vec<u8> {
    let mut inner = payload.to_vec();
    inner.push(0x08);
    inner
}

/// `lifetime (4) || ticket`, a ticket record's payload.
fn ticket_payload(lifetime: u32, ticket: &[u8]) -> Vec<u8> {
    let mut p = lifetime.to_be_bytes().to_vec();
    p.extend_from_slice(ticket);
    p
}

/// Adds the resumption cases, on `nk-aes-256-gcm-resumed` and
/// `nk-aes-256-gcm-refused` of resumption.json.
pub(super) fn add(files: &VectorFiles, cases: &mut Cases) {
    let v = find(&files.resumption.vectors, "nk-aes-256-gcm-resumed", |v| {
        &v.name
    });
    let base = format!("resumption.json#{}", v.name);
    let suite = Suite::Aes256Gcm;
    let ch = unhex(&v.second.client_hello);
    let header_len = client_hello_header_len(&ch[3..]);
    let ticket = unhex(&v.first.ticket.ticket);
    // The ticket_len field, in body coordinates: the ticket ends the header.
    let ticket_len_at = header_len - ticket.len() - 2;
    let noise_at = 3 + header_len;
    let mut server = |place: &str, description: &str, input: Vec<u8>| {
        cases.add(&base, "server", place, description, input);
        cases.last().receiver_time = Some(v.second_time);
    };
    server(
        "client_hello.ticket_len.zero",
        "the resumption ClientHello with ticket_len 0 and the ticket removed",
        rebody(&ch, |b| {
            b.splice(ticket_len_at..header_len, [0, 0]);
        }),
    );
    server(
        "client_hello.ticket_len.too_long",
        "the resumption ClientHello with ticket_len 1025: the ticket followed by 0xaa bytes \
         up to 1025, then the Noise message",
        rebody(&ch, |b| {
            let mut field = 1025u16.to_be_bytes().to_vec();
            field.extend_from_slice(&ticket);
            field.resize(2 + 1025, 0xaa);
            b.splice(ticket_len_at..header_len, field);
        }),
    );
    server(
        "client_hello.ticket_len.past_body",
        "the resumption ClientHello with a ticket_len one more than the bytes left in the \
         body (ticket and Noise message)",
        rebody(&ch, |b| {
            let len = u16::try_from(b.len() - ticket_len_at - 2 + 1).unwrap();
            b[ticket_len_at..ticket_len_at + 2].copy_from_slice(&len.to_be_bytes());
        }),
    );
    server(
        "client_hello.resume.noise.ephemeral",
        "the resumption ClientHello with the first byte of the client ephemeral key flipped: \
         the ticket opens, Noise message 1 does not decrypt",
        flip(&ch, noise_at),
    );
    server(
        "client_hello.resume.noise.payload_tag",
        "the resumption ClientHello with the last byte of the payload tag flipped: the ticket \
         opens, Noise message 1 does not decrypt",
        flip(&ch, ch.len() - 1),
    );
    server(
        "client_hello.resume.noise.truncated",
        "the resumption ClientHello with the last byte of the Noise message removed (47 \
         bytes, length adjusted)",
        rebody(&ch, |b| {
            b.pop();
        }),
    );
    let c2s = &v.second.client_to_server;
    let s2c = &v.second.server_to_client;
    let first_payload = unhex(&v.second.ticket.payload);
    server(
        "ticket_record.to_server",
        "the resumption ClientHello, the client's confirm record, then a ticket record \
         (content type 0x08, seq 1) carrying the server's own ticket payload: a server \
         refuses tickets",
        [
            ch.clone(),
            unhex(&v.second.client_confirm),
            seal_record(suite, c2s, 1, &ticket_inner(&first_payload)),
        ]
        .concat(),
    );

    // The client of the resumed connection: the ServerHello, then ticket
    // records sealed with the server-to-client keys.
    let sh = unhex(&v.second.server_hello);
    let mut client = |place: &str, description: &str, records: Vec<Vec<u8>>| {
        cases.add(
            &base,
            "client",
            place,
            description,
            [vec![sh.clone()], records].concat().concat(),
        );
        cases.last().receiver_time = Some(v.second_time);
    };
    let sealed = |seq: u64, payload: &[u8]| seal_record(suite, s2c, seq, &ticket_inner(payload));
    client(
        "ticket_record.second",
        "the ServerHello, the server's ticket record (seq 0), then a second ticket record \
         (seq 1) with the same payload: at most one ticket per connection",
        vec![unhex(&v.second.ticket.record), sealed(1, &first_payload)],
    );
    client(
        "ticket_record.short",
        "the ServerHello, then a ticket record whose payload is a lifetime alone (4 bytes, \
         no ticket)",
        vec![sealed(0, &first_payload[..4])],
    );
    let lifetime_ticket = |lifetime: u32| ticket_payload(lifetime, &first_payload[4..]);
    client(
        "ticket_record.lifetime_zero",
        "the ServerHello, then a ticket record with lifetime 0 and the server's ticket",
        vec![sealed(0, &lifetime_ticket(0))],
    );
    client(
        "ticket_record.lifetime_too_long",
        "the ServerHello, then a ticket record with lifetime 604801 (7 days and a second) \
         and the server's ticket",
        vec![sealed(0, &lifetime_ticket(604_801))],
    );
    let mut long_ticket = first_payload[4..].to_vec();
    long_ticket.resize(1025, 0xbb);
    client(
        "ticket_record.ticket_too_long",
        "the ServerHello, then a ticket record with the server's lifetime and a 1025-byte \
         ticket (the server's, then 0xbb bytes)",
        vec![sealed(0, &ticket_payload(v.ticket_lifetime, &long_ticket))],
    );

    // ResumeRefused: twice, with a body, and to a client that did not resume.
    let refused = find(&files.resumption.vectors, "nk-aes-256-gcm-refused", |v| {
        &v.name
    });
    let refused_base = format!("resumption.json#{}", refused.name);
    cases.add(
        &refused_base,
        "client",
        "resume_refused.second",
        "the ResumeRefused frame delivered twice: the client answers the first with its \
         full ClientHello, then fails on the second",
        [RESUME_REFUSED, RESUME_REFUSED].concat(),
    );
    cases.last().receiver_time = Some(refused.second_time);
    cases.add(
        &refused_base,
        "client",
        "resume_refused.length",
        "a ResumeRefused frame with a 1-byte body (its maximum length is 0)",
        frame(0x04, &[0x00]),
    );
    cases.last().receiver_time = Some(refused.second_time);
    cases.add(
        "handshake.json#nk-aes-256-gcm",
        "client",
        "resume_refused.not_resuming",
        "a ResumeRefused frame to a client whose ClientHello does not resume",
        RESUME_REFUSED.to_vec(),
    );
}

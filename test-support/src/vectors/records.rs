//! `records.json`: record streams on connections built from `Split()`
//! output: message sizes, padding policies, fragmentation, key update,
//! ping/pong and close_notify, for each suite.

use lwsec::{Connection, DirectionSecrets, Event, Padding, Pattern, Side, Suite, TransportConfig};

use super::FIXED_TIME;
use super::connections::{deliver, take_output};
use super::encoding::{hx, parse_suite, suite_name, suite_slug, unhex, unhex32};
use super::frames::split_frames;
use super::keys::{seeded, traffic_keys};
use super::model::{PaddingSpec, Record, RecordStep, RecordStream, RecordsFile};
use super::record_aead::open_record;

/// The padding policy written as `spec`.
fn padding_of(spec: &PaddingSpec) -> Padding {
    match spec.policy.as_str() {
        "none" => Padding::None,
        "multiple_of" => Padding::MultipleOf(spec.sizes[0]),
        "buckets" => Padding::Buckets(spec.sizes.clone()),
        other => panic!("unknown padding policy {other}"),
    }
}

/// The two ends of a record stream after its `Split()`: the client has
/// queued its key confirmation (seq 0), the server waits for it.
fn stream_ends(s: &RecordStream) -> (Connection, Connection) {
    let suite = parse_suite(&s.suite);
    let mut transport = TransportConfig::default();
    transport.padding = padding_of(&s.padding);
    let make = |side| {
        let mut conn = Connection::dangerous_from_noise_split(
            lwsec::NoiseSplit::new(
                side,
                Pattern::Nk,
                suite,
                &unhex32(&s.k1),
                &unhex32(&s.k2),
                unhex32(&s.handshake_hash),
            ),
            transport.clone(),
            FIXED_TIME,
        )
        .unwrap();
        if side == Side::Client {
            assert_eq!(conn.poll_event(), Some(Event::HandshakeComplete));
        }
        conn
    };
    (make(Side::Client), make(Side::Server))
}

/// The two ends of a record stream, established from its `Split()` output
/// (the client's key confirmation delivered).
pub(super) fn stream_connections(s: &RecordStream) -> (Connection, Connection) {
    let (mut client, mut server) = stream_ends(s);
    deliver(&mut server, &take_output(&mut client));
    assert_eq!(server.poll_event(), Some(Event::HandshakeComplete));
    (client, server)
}

/// Describes the records in `bytes`, sent by `sender`, opening each with the
/// AEAD crates directly. A key_update record must be the last one.
fn describe_records(
    suite: Suite,
    sender: &Connection,
    bytes: &[u8],
    before: &DirectionSecrets,
) -> Vec<Record> {
    let keys = traffic_keys(before);
    let frames = split_frames(bytes);
    let count = frames.len();
    frames
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            let seq = before.seq + i as u64;
            let (content_type, payload, padding_len) = open_record(suite, &keys, seq, &record);
            let next_keys = (content_type == 3).then(|| {
                assert_eq!(i + 1, count, "records after a key update in one step");
                let after = sender.dangerous_peek_secrets().unwrap().send;
                assert_eq!(after.seq, 0);
                traffic_keys(&after)
            });
            Record {
                seq,
                content_type,
                payload: hx(&payload),
                padding_len,
                record: hx(&record),
                next_keys,
            }
        })
        .collect()
}

/// Runs a record stream: replays each step's command with the payloads of
/// `s` and returns `s` with every output (keys and records) recomputed.
/// Automatic steps are recomputed from what the receiver sent.
pub fn compute_stream(s: &RecordStream) -> RecordStream {
    let suite = parse_suite(&s.suite);
    let (mut client, mut server) = stream_ends(s);
    let mut out = s.clone();
    let mut initial = client.dangerous_peek_secrets().unwrap().send;
    out.client_to_server = traffic_keys(&initial);
    out.server_to_client = traffic_keys(&server.dangerous_peek_secrets().unwrap().send);
    out.steps.clear();
    // The client's key confirmation, sealed when the connection was made.
    assert_eq!(initial.seq, 1);
    initial.seq = 0;
    let confirm = take_output(&mut client);
    out.steps.push(RecordStep {
        sender: "client".to_string(),
        command: "confirm".to_string(),
        records: describe_records(suite, &client, &confirm, &initial),
    });
    deliver(&mut server, &confirm);
    assert_eq!(server.poll_event(), Some(Event::HandshakeComplete));
    let mut i = 0;
    while i < s.steps.len() {
        let step = &s.steps[i];
        if step.command == "confirm" {
            i += 1;
            continue;
        }
        assert_ne!(step.command, "automatic", "automatic step without a cause");
        let (sender, receiver) = match step.sender.as_str() {
            "client" => (&mut client, &mut server),
            _ => (&mut server, &mut client),
        };
        let payload: Vec<u8> = step
            .records
            .iter()
            .flat_map(|r| unhex(&r.payload))
            .collect();
        let before = sender.dangerous_peek_secrets().unwrap().send;
        match step.command.as_str() {
            "send_message" => sender.send_message(&payload).unwrap(),
            "update_keys" => sender.update_keys(false).unwrap(),
            "update_keys_request_peer" => sender.update_keys(true).unwrap(),
            "ping" => sender.ping(&payload).unwrap(),
            "close" => sender.close().unwrap(),
            other => panic!("unknown command {other}"),
        }
        let bytes = take_output(sender);
        let records = describe_records(suite, sender, &bytes, &before);
        out.steps.push(RecordStep {
            sender: step.sender.clone(),
            command: step.command.clone(),
            records,
        });
        let answer_before = receiver.dangerous_peek_secrets().unwrap().send;
        deliver(receiver, &bytes);
        match step.command.as_str() {
            "send_message" => {
                assert_eq!(receiver.recv_message().as_deref(), Some(&payload[..]));
            }
            "ping" => {}
            "close" => assert_eq!(receiver.poll_event(), Some(Event::PeerClosed)),
            _ => assert_eq!(receiver.poll_event(), Some(Event::KeyUpdated)),
        }
        assert_eq!(
            receiver.dangerous_peek_secrets().unwrap().recv,
            sender.dangerous_peek_secrets().unwrap().send,
            "receiver's keys differ from the sender's"
        );
        let answer = take_output(receiver);
        i += 1;
        if !answer.is_empty() {
            let receiver_name = if step.sender == "client" {
                "server"
            } else {
                "client"
            };
            let records = describe_records(suite, receiver, &answer, &answer_before);
            deliver(sender, &answer);
            if step.command == "ping" {
                assert_eq!(
                    sender.poll_event(),
                    Some(Event::Pong(payload.clone().into()))
                );
            } else {
                assert_eq!(sender.poll_event(), Some(Event::KeyUpdated));
            }
            assert!(sender.pending_output().is_empty());
            out.steps.push(RecordStep {
                sender: receiver_name.to_string(),
                command: "automatic".to_string(),
                records,
            });
            if s.steps
                .get(i)
                .is_some_and(|next| next.command == "automatic")
            {
                i += 1;
            }
        }
    }
    out
}

/// A step to be computed: only the command and, for commands that carry
/// data, one record holding the data as its payload.
fn step(sender: &str, command: &str, data: &[u8]) -> RecordStep {
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(16384).collect()
    };
    RecordStep {
        sender: sender.to_string(),
        command: command.to_string(),
        records: chunks
            .into_iter()
            .map(|c| Record {
                payload: hx(c),
                ..Record::default()
            })
            .collect(),
    }
}

/// `records.json`.
pub(super) fn generate() -> RecordsFile {
    let mut streams = Vec::new();
    for suite in Suite::ALL {
        let slug = suite_slug(suite);
        let split = |name: &str| {
            let seed = |part: &str| hx(&seeded(&format!("records/{slug}/{name}/{part}"), 32));
            (seed("k1"), seed("k2"), seed("handshake-hash"))
        };
        let data =
            |name: &str, what: &str, n: usize| seeded(&format!("records/{slug}/{name}/{what}"), n);
        let mut stream = |name: &str, padding: PaddingSpec, steps: Vec<RecordStep>| {
            let (k1, k2, handshake_hash) = split(name);
            streams.push(compute_stream(&RecordStream {
                name: format!("{slug}/{name}"),
                suite: suite_name(suite),
                padding,
                k1,
                k2,
                handshake_hash,
                steps,
                ..RecordStream::default()
            }));
        };
        let none = || PaddingSpec {
            policy: "none".to_string(),
            sizes: vec![],
        };

        let name = "padding-none";
        stream(
            name,
            none(),
            vec![
                step("client", "send_message", &[]),
                step("client", "send_message", &data(name, "one", 1)),
                step("client", "send_message", &data(name, "max", 16384)),
                step("client", "send_message", &data(name, "fragmented", 40000)),
                step("server", "send_message", &data(name, "reply", 5)),
            ],
        );
        let sizes = [0usize, 1, 255, 256, 1000, 5000];
        for (name, padding) in [
            (
                "padding-multiple-of-256",
                PaddingSpec {
                    policy: "multiple_of".to_string(),
                    sizes: vec![256],
                },
            ),
            (
                "padding-buckets",
                PaddingSpec {
                    policy: "buckets".to_string(),
                    sizes: vec![64, 256, 1024, 4096],
                },
            ),
        ] {
            let mut steps: Vec<RecordStep> = sizes
                .iter()
                .map(|n| {
                    step(
                        "client",
                        "send_message",
                        &data(name, &format!("size-{n}"), *n),
                    )
                })
                .collect();
            steps.push(step("server", "send_message", &data(name, "reply", 3)));
            stream(name, padding, steps);
        }
        let name = "key-update";
        stream(
            name,
            none(),
            vec![
                step("client", "send_message", &data(name, "before", 10)),
                step("client", "update_keys", &[]),
                step("client", "send_message", &data(name, "after", 10)),
                step("server", "send_message", &data(name, "server-before", 10)),
                step("client", "update_keys_request_peer", &[]),
                // Coalesced: the server's new keys have protected nothing
                // yet, so this second request gets no answer.
                step("client", "update_keys_request_peer", &[]),
                step("server", "send_message", &data(name, "server-after", 10)),
                step("client", "send_message", &data(name, "client-after", 10)),
            ],
        );
        let name = "ping-pong";
        stream(
            name,
            none(),
            vec![
                step("client", "ping", &data(name, "client-ping", 8)),
                step("server", "ping", &[]),
            ],
        );
        let name = "close";
        stream(
            name,
            none(),
            vec![
                step("client", "send_message", &data(name, "last", 4)),
                step("client", "close", &[]),
                step("server", "close", &[]),
            ],
        );
    }
    RecordsFile {
        description: "lwsec v1 records: message sizes, padding policies, fragmentation, key \
                      update, ping/pong and close_notify, for each suite. See spec/VECTORS.md."
            .to_string(),
        streams,
    }
}

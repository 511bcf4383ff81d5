//! Property tests: whatever the chunking, the message sizes, the key-update
//! points and the padding policy, an honest receiver delivers exactly the
//! messages sent, in order, and accepts the close.

use lwsec::{Connection, Padding};
use lwsec_test_support::honest;
use lwsec_test_support::peers::{self, MAX_MESSAGE, NOW};
use proptest::prelude::*;

/// Something the sender does.
#[derive(Clone, Debug)]
enum Step {
    Send(Vec<u8>),
    UpdateKeys(bool),
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..300),
        1 => (0..=MAX_MESSAGE, any::<u8>()).prop_map(|(len, b)| vec![b; len]),
    ]
}

fn padding() -> impl Strategy<Value = Padding> {
    prop_oneof![
        Just(Padding::None),
        (1u16..=16384).prop_map(Padding::MultipleOf),
        prop::collection::btree_set(1u16..=16385, 1..6)
            .prop_map(|sizes| Padding::Buckets(sizes.into_iter().collect())),
    ]
}

/// Runs `steps` on the sender, closes, and feeds the stream to the
/// receiver in chunks of the given sizes (cycled); checks the outcome.
fn round_trip(suite_bit: bool, padding: Padding, steps: &[Step], chunks: &[u16]) {
    let (mut sender, mut receiver) = peers::split_pair(peers::suite_from(suite_bit), padding);
    let mut sent = Vec::new();
    for step in steps {
        match step {
            Step::Send(m) => {
                sender.send_message(m).unwrap();
                sent.push(m.clone());
            }
            Step::UpdateKeys(request) => sender.update_keys(*request).unwrap(),
        }
    }
    sender.close().unwrap();
    let stream = sender.pending_output().to_vec();
    let mut delivered = Vec::new();
    honest::feed_chunks(&mut receiver, &stream, chunks, &mut delivered).unwrap();
    assert_eq!(delivered.len(), sent.len());
    assert!(
        delivered == sent,
        "delivered messages differ from the sent ones"
    );
    assert_eq!(receiver.handle_eof(), Ok(()));
    let updates = steps
        .iter()
        .filter(|s| matches!(s, Step::UpdateKeys(_)))
        .count();
    let mut seen = 0;
    while let Some(e) = receiver.poll_event() {
        if e == lwsec::Event::KeyUpdated {
            seen += 1;
        }
    }
    assert_eq!(seen, updates, "every key update is seen");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_chunking_delivers_the_messages_in_order(
        suite in any::<bool>(),
        messages in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20000), 0..6),
        chunks in prop::collection::vec(1u16..3000, 1..20),
    ) {
        let steps: Vec<Step> = messages.into_iter().map(Step::Send).collect();
        round_trip(suite, Padding::None, &steps, &chunks);
    }

    #[test]
    fn any_message_sizes_round_trip(
        suite in any::<bool>(),
        messages in prop::collection::vec(message(), 0..8),
    ) {
        let steps: Vec<Step> = messages.into_iter().map(Step::Send).collect();
        round_trip(suite, Padding::None, &steps, &[u16::MAX]);
    }

    #[test]
    fn key_updates_anywhere_lose_no_data(
        suite in any::<bool>(),
        steps in prop::collection::vec(prop_oneof![
            3 => message().prop_map(Step::Send),
            1 => any::<bool>().prop_map(Step::UpdateKeys),
        ], 0..12),
        chunks in prop::collection::vec(1u16..5000, 1..8),
    ) {
        round_trip(suite, Padding::None, &steps, &chunks);
    }

    #[test]
    fn padding_policies_round_trip(
        suite in any::<bool>(),
        padding in padding(),
        messages in prop::collection::vec(message(), 0..6),
        chunks in prop::collection::vec(1u16..5000, 1..8),
    ) {
        let steps: Vec<Step> = messages.into_iter().map(Step::Send).collect();
        round_trip(suite, padding, &steps, &chunks);
    }
}

/// Both peers update keys with requests at random points of a two-way
/// exchange: each side answers the other's requests and still loses nothing.
#[test]
fn requested_key_updates_in_both_directions_lose_no_data() {
    let (mut client, mut server) = peers::split_pair(peers::suite_from(true), Padding::None);
    let mut to_server = Vec::new();
    let mut to_client = Vec::new();
    let (mut got_server, mut got_client) = (Vec::new(), Vec::new());
    for i in 0..40usize {
        let m = honest::honest_message(i, i * 37);
        if i % 2 == 0 {
            client.send_message(&m).unwrap();
            to_server.push(m);
        } else {
            server.send_message(&m).unwrap();
            to_client.push(m);
        }
        if i % 7 == 3 {
            client.update_keys(true).unwrap();
        }
        if i % 5 == 1 {
            server.update_keys(true).unwrap();
        }
        pump(&mut client, &mut server, &mut got_server);
        pump(&mut server, &mut client, &mut got_client);
    }
    for _ in 0..2 {
        pump(&mut client, &mut server, &mut got_server);
        pump(&mut server, &mut client, &mut got_client);
    }
    assert_eq!(got_server, to_server);
    assert_eq!(got_client, to_client);
    let secrets = (
        client.dangerous_peek_secrets().unwrap(),
        server.dangerous_peek_secrets().unwrap(),
    );
    assert_eq!(secrets.0.send.secret, secrets.1.recv.secret);
    assert_eq!(secrets.0.recv.secret, secrets.1.send.secret);
}

fn pump(from: &mut Connection, to: &mut Connection, got: &mut Vec<Vec<u8>>) {
    let out = from.pending_output().to_vec();
    from.consume_output(out.len());
    let mut offset = 0;
    while offset < out.len() {
        offset += to.handle_input(&out[offset..], NOW).unwrap();
        while let Some(m) = to.recv_message() {
            got.push(m.to_vec());
        }
    }
}

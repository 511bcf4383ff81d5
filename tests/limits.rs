//! Automatic key updates: with `key_update_after_records = 3` a sender
//! never uses a key for more than 3 records plus the key_update record that
//! retires it, the receiver sees every update, and no data is lost.

use lwsec::{Connection, Event, Padding, Pattern, Side, Suite, Time, TransportConfig};

const NOW: Time = Time::from_millis(0);
const LIMIT: u64 = 3;

fn pair(suite: Suite) -> (Connection, Connection) {
    let mut t = TransportConfig::default();
    t.key_update_after_records = LIMIT;
    t.padding = Padding::None;
    let make = |side| {
        Connection::dangerous_from_noise_split(
            lwsec::NoiseSplit::new(side, Pattern::Nk, suite, &[1; 32], &[2; 32], [3; 32]),
            t.clone(),
            NOW,
        )
        .unwrap()
    };
    (make(Side::Client), make(Side::Server))
}

#[test]
fn automatic_key_updates_happen_and_lose_nothing() {
    for suite in Suite::ALL {
        let (mut client, mut server) = pair(suite);
        let first_secret = client.dangerous_peek_secrets().unwrap().send.secret;
        let mut received = Vec::new();
        let mut updates = 0;
        for i in 0..40u32 {
            let message = format!("message {i}").into_bytes();
            // A message of 20000 bytes takes two records.
            let message = if i % 10 == 9 {
                vec![i as u8; 20000]
            } else {
                message
            };
            client.send_message(&message).unwrap();
            let seq = client.dangerous_peek_secrets().unwrap().send.seq;
            assert!(seq <= LIMIT, "sequence {seq} went past the limit {LIMIT}");
            let out = client.pending_output().to_vec();
            client.consume_output(out.len());
            assert_eq!(server.handle_input(&out, NOW), Ok(out.len()));
            while let Some(m) = server.recv_message() {
                received.push(m);
            }
            while let Some(e) = server.poll_event() {
                if e == Event::KeyUpdated {
                    updates += 1;
                }
            }
            assert_eq!(
                server.dangerous_peek_secrets().unwrap().recv,
                client.dangerous_peek_secrets().unwrap().send,
                "receiver keeps up with the sender's keys"
            );
            assert_eq!(received.last().map(|m| m.len()), Some(message.len()));
        }
        assert_eq!(received.len(), 40, "no message lost");
        // 40 messages, four of them in two records: 44 records, one key
        // update before every record after each group of 3.
        assert_eq!(updates, (44 - 1) / LIMIT as usize);
        assert_ne!(
            client.dangerous_peek_secrets().unwrap().send.secret,
            first_secret
        );
        // The server's direction was never used: no update there.
        assert_eq!(server.dangerous_peek_secrets().unwrap().send.seq, 0);
    }
}

#[test]
fn automatic_and_requested_updates_interleave_without_loss() {
    let (mut client, mut server) = pair(Suite::ChaCha20Poly1305);
    let mut got = (Vec::new(), Vec::new());
    for i in 0..30u8 {
        client.send_message(&[i; 10]).unwrap();
        server.send_message(&[i; 11]).unwrap();
        if i % 4 == 0 {
            client.update_keys(true).unwrap();
        }
        for _ in 0..2 {
            let out = client.pending_output().to_vec();
            client.consume_output(out.len());
            assert_eq!(server.handle_input(&out, NOW), Ok(out.len()));
            let out = server.pending_output().to_vec();
            server.consume_output(out.len());
            assert_eq!(client.handle_input(&out, NOW), Ok(out.len()));
        }
        while let Some(m) = server.recv_message() {
            got.0.push(m);
        }
        while let Some(m) = client.recv_message() {
            got.1.push(m);
        }
        for conn in [&client, &server] {
            assert!(conn.dangerous_peek_secrets().unwrap().send.seq <= LIMIT);
        }
    }
    assert_eq!(got.0.len(), 30);
    assert_eq!(got.1.len(), 30);
    assert!(
        got.0
            .iter()
            .enumerate()
            .all(|(i, m)| m[..] == [i as u8; 10])
    );
    assert!(
        got.1
            .iter()
            .enumerate()
            .all(|(i, m)| m[..] == [i as u8; 11])
    );
}

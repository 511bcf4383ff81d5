//! Honest fragments, arbitrary chunking, optionally arbitrary extra bytes.
//!
//! An honest sender sends messages of fuzzer-chosen sizes (up to the 64 KiB
//! limit, so up to five fragments each) and closes; the stream is fed to the
//! receiver in fuzzer-chosen chunks. Without extra bytes the receiver must
//! deliver exactly the messages sent, in order, and accept the close. With
//! extra bytes injected anywhere it may only deliver a prefix of them, and
//! must fail (at once or at EOF).

use arbitrary::{Result, Unstructured};

use lwsec_test_support::honest;
use lwsec_test_support::peers::{self, MAX_MESSAGE};

/// Runs one input.
pub fn run(data: &[u8]) {
    let _ = run_unstructured(&mut Unstructured::new(data));
}

fn run_unstructured(u: &mut Unstructured<'_>) -> Result<()> {
    let suite = peers::suite_from(u.arbitrary()?);
    let padding = peers::padding_from(u.arbitrary()?);
    let count = u.int_in_range(0..=6)?;
    let mut lens = Vec::with_capacity(count);
    for _ in 0..count {
        let big: bool = u.arbitrary()?;
        lens.push(if big {
            u.int_in_range(0..=MAX_MESSAGE)?
        } else {
            u.int_in_range(0..=300)?
        });
    }
    let chunks: Vec<u16> = u.arbitrary()?;
    let inject: Option<(usize, Vec<u8>)> = u.arbitrary()?;

    let (mut sender, mut receiver) = peers::split_pair(suite, padding);
    let sent: Vec<Vec<u8>> = lens
        .iter()
        .enumerate()
        .map(|(i, len)| honest::honest_message(i, *len))
        .collect();
    for m in &sent {
        sender.send_message(m).unwrap();
    }
    sender.close().unwrap();
    let mut stream = sender.pending_output().to_vec();
    let tampered = match inject {
        Some((at, bytes)) if !bytes.is_empty() => {
            let at = at % (stream.len() + 1);
            stream.splice(at..at, bytes);
            true
        }
        _ => false,
    };

    let mut delivered = Vec::new();
    let result = honest::feed_chunks(&mut receiver, &stream, &chunks, &mut delivered);
    assert!(delivered.len() <= sent.len(), "more messages than sent");
    for (d, s) in delivered.iter().zip(&sent) {
        assert!(d == s, "a delivered message differs from the sent one");
    }
    if tampered {
        assert!(
            result.is_err() || receiver.handle_eof().is_err(),
            "injected bytes went unnoticed"
        );
    } else {
        assert_eq!(result, Ok(()));
        assert_eq!(delivered.len(), sent.len(), "messages lost");
        assert_eq!(receiver.handle_eof(), Ok(()));
    }
    Ok(())
}

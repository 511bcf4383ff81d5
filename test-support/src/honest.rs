//! Honest peers and a checking receiver: the messages an honest sender
//! writes, and loops that feed bytes to a connection and check what it
//! delivers.

use lwsec::{Connection, Error};

use crate::peers::{NOW, server_after_input};

/// The `i`-th message an honest peer sends in the targets: its content is
/// a function of `i` and `len` only, so a receiver can check it.
///
/// Byte `j` is `(131 i xor 7 j) mod 256`, which repeats every 256 bytes:
/// one period is computed and copied, because the fuzz targets ask for
/// messages of up to 125 KB and a byte-by-byte loop (instrumented for
/// coverage) was 9 % of the `c_api` target's time.
pub fn honest_message(i: usize, len: usize) -> Vec<u8> {
    let period: Vec<u8> = (0..len.min(256))
        .map(|j| (i.wrapping_mul(131) ^ j.wrapping_mul(7)) as u8)
        .collect();
    let mut message = period.repeat(len.div_ceil(256).max(1));
    message.truncate(len);
    message
}

/// Message lengths of the honest stream used by the record targets and seeds.
pub const HONEST_LENS: [usize; 5] = [0, 1, 100, 1000, 16390];

/// The bytes an honest sender of `side` writes after the handshake: the
/// messages of [`HONEST_LENS`], with a ping and a key update in between.
pub fn honest_stream(sender: &mut Connection) -> Vec<u8> {
    for (i, len) in HONEST_LENS.iter().enumerate() {
        sender.send_message(&honest_message(i, *len)).unwrap();
        if i == 2 {
            sender.ping(b"ping").unwrap();
            sender.update_keys(true).unwrap();
        }
    }
    let out = sender.pending_output().to_vec();
    sender.consume_output(out.len());
    out
}

/// Feeds `data` to `conn` (taking messages as they arrive, discarding its
/// output) and returns the messages delivered. Stops at the first error.
pub fn feed(
    conn: &mut Connection,
    data: &[u8],
    chunk: usize,
    delivered: &mut Vec<Vec<u8>>,
) -> Result<(), Error> {
    let chunk = chunk.max(1);
    let mut offset = 0;
    let mut stalls = 0;
    while offset < data.len() {
        let end = data.len().min(offset + chunk);
        let n = conn.handle_input(&data[offset..end], NOW);
        let decided = server_after_input(conn, NOW);
        while let Some(m) = conn.recv_message() {
            delivered.push(m.to_vec());
        }
        let out = conn.pending_output().len();
        conn.consume_output(out);
        let n = n?;
        decided?;
        assert!(n <= end - offset, "consumed more than offered");
        offset += n;
        stalls = if n == 0 { stalls + 1 } else { 0 };
        // Blocked although messages and output were taken: a real peer would hang.
        assert!(stalls < 2, "handle_input made no progress twice in a row");
    }
    Ok(())
}

/// Asserts that a failed connection keeps failing with the same error.
pub fn assert_sticky_error(conn: &mut Connection) {
    if let Some(err) = conn.error().cloned() {
        assert_eq!(conn.handle_input(b"\x17\x00\x00", NOW), Err(err.clone()));
        assert_eq!(conn.send_message(b"x"), Err(err.clone()));
        assert_eq!(conn.handle_eof(), Err(err.clone()));
    }
}

/// Asserts `delivered` is a prefix of the honest stream's messages.
pub fn assert_honest_prefix(delivered: &[Vec<u8>]) {
    assert!(
        delivered.len() <= HONEST_LENS.len(),
        "more messages than sent"
    );
    for (i, m) in delivered.iter().enumerate() {
        assert_eq!(m.len(), HONEST_LENS[i], "message {i} has the wrong length");
        assert!(
            *m == honest_message(i, HONEST_LENS[i]),
            "message {i} altered"
        );
    }
}

/// Like [`feed`], with chunk sizes taken in turn from `chunks` (0 counts as 1).
pub fn feed_chunks(
    conn: &mut Connection,
    data: &[u8],
    chunks: &[u16],
    delivered: &mut Vec<Vec<u8>>,
) -> Result<(), Error> {
    let mut offset = 0;
    let mut i = 0;
    while offset < data.len() {
        let size = chunks
            .get(i % chunks.len().max(1))
            .map_or(data.len(), |c| usize::from(*c).max(1));
        i += 1;
        let end = data.len().min(offset + size);
        feed(conn, &data[offset..end], size, delivered)?;
        offset = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::honest_message;

    #[test]
    fn honest_message_is_the_formula_at_every_length() {
        for i in [0usize, 1, 7, 1000, usize::MAX] {
            for len in [0usize, 1, 255, 256, 257, 1000, 16390, 70_000] {
                let expected: Vec<u8> = (0..len)
                    .map(|j| (i.wrapping_mul(131) ^ j.wrapping_mul(7)) as u8)
                    .collect();
                assert_eq!(honest_message(i, len), expected, "i {i}, len {len}");
            }
        }
    }
}

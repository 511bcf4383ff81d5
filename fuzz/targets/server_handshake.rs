//! A server receives arbitrary bytes where a ClientHello is expected.
//!
//! Input: byte 0 picks the chunk size, the rest is the peer's byte stream.
//! The server must never panic; if it fails, it keeps failing with the same
//! error; nothing it delivers can be other than what an honest client
//! sealed (the seeds hold an honest client's flight and records).

use lwsec_test_support::honest;
use lwsec_test_support::peers::{self, NOW};

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let mut server = lwsec::Connection::server(peers::server_config(b"fuzz"), NOW).unwrap();
    let mut delivered = Vec::new();
    let result = honest::feed(&mut server, stream, usize::from(chunk) + 1, &mut delivered);
    honest::assert_honest_prefix(&delivered);
    match result {
        Ok(()) => {
            // A partial frame or no close_notify: EOF must report truncation
            // unless the peer closed gracefully.
            let eof = server.handle_eof();
            if !server.is_peer_closed() {
                assert_eq!(eof, Err(lwsec::Error::Truncated));
            }
        }
        Err(e) => {
            assert_eq!(server.error(), Some(&e));
            assert!(!peers::server_is_established(&server));
            honest::assert_sticky_error(&mut server);
        }
    }
}

//! A client that has sent a valid ClientHello receives arbitrary bytes
//! where a ServerHello (or Retry) is expected.
//!
//! Input: byte 0 picks pattern (bit 0), suite order (bit 1) and chunk size
//! (the rest); the remaining bytes are the server's stream.

use lwsec::{Pattern, Suite};

use lwsec_test_support::honest;
use lwsec_test_support::peers::{self, NOW};

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let pattern = if control & 1 == 0 {
        Pattern::Nk
    } else {
        Pattern::Ik
    };
    let suites: &[Suite] = if control & 2 == 0 {
        &[Suite::Aes256Gcm, Suite::ChaCha20Poly1305]
    } else {
        &[Suite::ChaCha20Poly1305, Suite::Aes256Gcm]
    };
    let cfg = peers::client_config(pattern, suites, b"fuzz");
    let mut client = lwsec::Connection::client(cfg, NOW).unwrap();
    let hello = client.pending_output().len();
    client.consume_output(hello);
    let mut delivered = Vec::new();
    let result = honest::feed(
        &mut client,
        stream,
        usize::from(control >> 2) + 1,
        &mut delivered,
    );
    honest::assert_honest_prefix(&delivered);
    match result {
        Ok(()) => {
            let eof = client.handle_eof();
            if !client.is_peer_closed() {
                assert_eq!(eof, Err(lwsec::Error::Truncated));
            }
        }
        Err(e) => {
            assert_eq!(client.error(), Some(&e));
            honest::assert_sticky_error(&mut client);
        }
    }
}

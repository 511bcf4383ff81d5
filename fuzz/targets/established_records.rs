//! An established connection receives arbitrary record bytes.
//!
//! Input: byte 0 picks the suite (bit 0), the receiving side (bit 1) and
//! the chunk size (the rest); the remaining bytes are the peer's stream.
//! The connection is built from fixed split keys, and the seeds hold the
//! honest peer's records under those keys ([`honest::honest_stream`]), so
//! the fuzzer starts from authentic records: whatever it does to them, the
//! receiver may only deliver a prefix of the honest messages, in order.

use lwsec::Padding;

use lwsec_test_support::honest;
use lwsec_test_support::peers;

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let (client, server) = peers::split_pair(peers::suite_from(control & 1 == 1), Padding::None);
    let mut receiver = if control & 2 == 0 { server } else { client };
    let mut delivered = Vec::new();
    let result = honest::feed(
        &mut receiver,
        stream,
        usize::from(control >> 2) * 97 + 1,
        &mut delivered,
    );
    honest::assert_honest_prefix(&delivered);
    match result {
        Ok(()) => {
            let eof = receiver.handle_eof();
            if !receiver.is_peer_closed() {
                assert_eq!(eof, Err(lwsec::Error::Truncated));
            }
        }
        Err(e) => {
            assert_eq!(receiver.error(), Some(&e));
            honest::assert_sticky_error(&mut receiver);
        }
    }
}

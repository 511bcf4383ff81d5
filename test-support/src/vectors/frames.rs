//! Frames and the ClientHello header, read and built by hand (spec 3, 4.1,
//! 4.2) rather than with lwsec's codec.

/// The label the Noise prologue starts with (spec 4.2).
pub const PROLOGUE_LABEL: &[u8] = b"lwsec/1 prologue";

/// Splits a byte string into whole frames.
pub fn split_frames(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let len = 3 + usize::from(u16::from_be_bytes([bytes[1], bytes[2]]));
        frames.push(bytes[..len].to_vec());
        bytes = &bytes[len..];
    }
    frames
}

/// Wraps `body` in a frame of type `ty`.
pub fn frame(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![ty];
    f.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// The pattern byte of a resumption ClientHello (spec 4.11).
pub const PATTERN_RESUME: u8 = 0x03;

/// The length of the cleartext header at the start of a ClientHello body:
/// up to the Retry echo, then for pattern `0x03` (resume) `ticket_len (2)`
/// and the ticket.
pub fn client_hello_header_len(body: &[u8]) -> usize {
    let n = usize::from(body[5]);
    let retry_len = usize::from(body[6 + n + 9]);
    let len = 6 + n + 8 + 1 + 1 + retry_len;
    if body[3] == PATTERN_RESUME {
        len + 2 + usize::from(u16::from_be_bytes([body[len], body[len + 1]]))
    } else {
        len
    }
}

/// The Noise prologue of a ClientHello frame:
/// `"lwsec/1 prologue" || ClientHello header` (spec 4.2).
pub fn prologue_of(client_hello: &[u8]) -> Vec<u8> {
    let body = &client_hello[3..];
    let mut p = PROLOGUE_LABEL.to_vec();
    p.extend_from_slice(&body[..client_hello_header_len(body)]);
    p
}

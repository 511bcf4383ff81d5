//! The wire parsers, reached through the public API.
//!
//! Byte 0 picks the parser, the rest is its input:
//! * 0: key text (`PublicKey::from_text`, `StaticKeyPair::from_text`);
//!   whatever parses must round-trip through `to_text`.
//! * 1: a ClientHello body (header and Noise message) in a well-formed
//!   frame, to a server.
//! * 2: a sequence of well-formed frames of any type, to an established
//!   connection and to a server expecting a ClientHello.
//! * 3: an extension list, carried as the payload of a genuine Noise NK
//!   message 1 (built with `snow`) behind a valid ClientHello header; the
//!   server's verdict must match a reference parser.
//! * 4: a well-formed frame to a client expecting a ServerHello or Retry.

use lwsec::{Connection, Error, Padding, PublicKey, StaticKeyPair, Suite};

use lwsec_test_support::honest;
use lwsec_test_support::peers::{self, NOW};

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => key_text(rest),
        1 => {
            let mut server = Connection::server(peers::server_config(b"fuzz"), NOW).unwrap();
            feed_frames(&mut server, &frame(0x01, rest));
        }
        2 => {
            let frames = frames(rest);
            let (_, mut established) = peers::split_pair(Suite::ChaCha20Poly1305, Padding::None);
            feed_frames(&mut established, &frames);
            let mut server = Connection::server(peers::server_config(b"fuzz"), NOW).unwrap();
            feed_frames(&mut server, &frames);
        }
        3 => extensions(rest),
        _ => {
            let cfg = peers::client_config(lwsec::Pattern::Nk, &Suite::ALL, b"fuzz");
            let mut client = Connection::client(cfg, NOW).unwrap();
            let n = client.pending_output().len();
            client.consume_output(n);
            let body = rest.get(1..).unwrap_or_default();
            feed_frames(
                &mut client,
                &frame(rest.first().copied().unwrap_or(3), body),
            );
        }
    }
}

fn key_text(rest: &[u8]) {
    let text = String::from_utf8_lossy(rest);
    if let Ok(key) = PublicKey::from_text(&text) {
        assert_eq!(PublicKey::from_text(&key.to_text()), Ok(key));
    }
    if let Ok(pair) = StaticKeyPair::from_text(&text) {
        let again = StaticKeyPair::from_text(&pair.to_text()).unwrap();
        assert_eq!(again.public_key(), pair.public_key());
    }
}

/// One frame with a correct length (the body is cut to 65535 bytes).
fn frame(frame_type: u8, body: &[u8]) -> Vec<u8> {
    let body = &body[..body.len().min(usize::from(u16::MAX))];
    let mut out = vec![frame_type];
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Frames from `type(1) || len(1) || body[len]` units.
fn frames(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let [ty, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        out.extend(frame(*ty, &tail[..len]));
        rest = &tail[len..];
    }
    out
}

fn feed_frames(conn: &mut Connection, bytes: &[u8]) {
    let mut delivered = Vec::new();
    match honest::feed(conn, bytes, bytes.len(), &mut delivered) {
        Ok(()) => {}
        Err(e) => {
            assert_eq!(conn.error(), Some(&e));
            honest::assert_sticky_error(conn);
        }
    }
    // Nothing here was sealed by an honest peer.
    assert!(delivered.is_empty(), "delivered unauthenticated data");
}

/// The extension-list rules of `spec/PROTOCOL.md` 4.3 and 4.4 for a
/// ClientHello without the early_data flag, written independently of the
/// library.
fn reference_extensions(payload: &[u8]) -> Result<(), Error> {
    let mut rest = payload;
    let mut previous: Option<u16> = None;
    let mut early_data = false;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(Error::Decode(lwsec::DecodeReason::ExtensionLength));
        }
        let ty = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        if rest.len() < 4 + len {
            return Err(Error::Decode(lwsec::DecodeReason::ExtensionLength));
        }
        rest = &rest[4 + len..];
        if previous.is_some_and(|p| ty <= p) {
            return Err(Error::Decode(lwsec::DecodeReason::ExtensionLength));
        }
        previous = Some(ty);
        match ty {
            0x0001 if len != 8 => return Err(Error::Decode(lwsec::DecodeReason::ExtensionLength)), // timestamp
            0x0002 if len > 8192 => {
                return Err(Error::IllegalParameter(
                    lwsec::IllegalReason::ExtensionNotAllowed,
                ));
            } // early_data
            0x0002 => early_data = true,
            // early_data_status, server_keys: ServerHello only.
            0x0003 | 0x0004 => {
                return Err(Error::IllegalParameter(
                    lwsec::IllegalReason::ExtensionNotAllowed,
                ));
            }
            t if t & 0x8000 != 0 => return Err(Error::UnsupportedExtension(t)),
            _ => {}
        }
    }
    if early_data {
        // early_data without the ClientHello flag.
        return Err(Error::IllegalParameter(
            lwsec::IllegalReason::ExtensionNotAllowed,
        ));
    }
    Ok(())
}

fn extensions(payload: &[u8]) {
    let payload = &payload[..payload.len().min(1900)];
    let server_public = peers::server_key().public_key();
    let mut header = b"lw\x01\x01\x01\x01\x01".to_vec(); // magic, version, NK, AES, [AES]
    header.extend_from_slice(&server_public.key_id());
    header.extend_from_slice(&[0, 0]); // flags, no retry echo
    let prologue = [&b"lwsec/1 prologue"[..], &header].concat();
    let mut noise = snow::Builder::new("Noise_NK_25519_AESGCM_SHA256".parse().unwrap())
        .prologue(&prologue)
        .unwrap()
        .remote_public_key(server_public.as_bytes())
        .unwrap()
        .build_initiator()
        .unwrap();
    let mut message = vec![0u8; 4096];
    let n = noise.write_message(payload, &mut message).unwrap();
    let body = [&header[..], &message[..n]].concat();
    let mut server = Connection::server(peers::server_config(b"fuzz"), NOW).unwrap();
    let result = peers::server_read_client_hello(&mut server, &frame(0x01, &body), NOW).map(|_| ());
    match reference_extensions(payload) {
        Ok(()) => {
            assert_eq!(result, Ok(()));
            assert!(server.is_awaiting_confirmation(), "message 1 accepted");
        }
        Err(Error::UnsupportedExtension(t)) => {
            assert_eq!(result, Err(Error::UnsupportedExtension(t)))
        }
        Err(Error::IllegalParameter(_)) => {
            assert!(
                matches!(result, Err(Error::IllegalParameter(_))),
                "{result:?}"
            )
        }
        Err(_) => assert!(matches!(result, Err(Error::Decode(_))), "{result:?}"),
    }
}

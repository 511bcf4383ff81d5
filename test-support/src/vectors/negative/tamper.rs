//! The edits negative inputs are made with: single bytes flipped or set,
//! frame bodies rebuilt, and Noise messages re-encrypted with `snow` around
//! contents lwsec would never write.

use crate::vectors::encoding::{hx, unhex};
use crate::vectors::frames::{PROLOGUE_LABEL, client_hello_header_len, frame};
use crate::vectors::keys::public_of;
use crate::vectors::model::{EarlyDataVector, HandshakeVector};

/// `bytes` with the low bit of byte `at` flipped.
pub(super) fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] ^= 0x01;
    b
}

/// `bytes` with byte `at` set to `value`.
pub(super) fn set(bytes: &[u8], at: usize, value: u8) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] = value;
    b
}

/// Rebuilds a frame after `edit` changed its body (length recomputed).
pub(super) fn rebody(f: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut body = f[3..].to_vec();
    edit(&mut body);
    frame(f[0], &body)
}

/// The keys and prologue of one Noise handshake, to write messages with
/// `snow` that lwsec would never write (correctly encrypted, bad contents).
pub(super) struct NoiseSetup {
    protocol: String,
    prologue: Vec<u8>,
    server_static: Vec<u8>,
    client_static: Option<Vec<u8>>,
    client_ephemeral: Vec<u8>,
    server_ephemeral: Vec<u8>,
    /// The ClientHello whose Noise message 1 the responder reads first.
    client_hello: Vec<u8>,
}

impl NoiseSetup {
    pub(super) fn of_handshake(v: &HandshakeVector) -> Self {
        Self {
            protocol: v.noise_protocol.clone(),
            prologue: unhex(&v.prologue),
            server_static: unhex(&v.parties.server_static_private),
            client_static: v.parties.client_static_private.as_deref().map(unhex),
            client_ephemeral: unhex(&v.client_ephemeral_private),
            server_ephemeral: unhex(&v.server_ephemeral_private),
            client_hello: unhex(&v.client_hello),
        }
    }

    pub(super) fn of_early_data(v: &EarlyDataVector) -> Self {
        Self {
            protocol: v.noise_protocol.clone(),
            prologue: unhex(&v.prologue),
            server_static: unhex(&v.parties.server_static_private),
            client_static: v.parties.client_static_private.as_deref().map(unhex),
            client_ephemeral: unhex(&v.client_ephemeral_private),
            server_ephemeral: unhex(&v.server_ephemeral_private),
            client_hello: unhex(&v.client_hello),
        }
    }

    /// Noise message 1 carrying `payload`.
    fn message_1(&self, payload: &[u8]) -> Vec<u8> {
        let params: snow::params::NoiseParams = self.protocol.parse().unwrap();
        let server_public = unhex(&public_of(&hx(&self.server_static)));
        let mut builder = snow::Builder::new(params)
            .prologue(&self.prologue)
            .unwrap()
            .remote_public_key(&server_public)
            .unwrap()
            .fixed_ephemeral_key_for_testing_only(&self.client_ephemeral);
        if let Some(key) = &self.client_static {
            builder = builder.local_private_key(key).unwrap();
        }
        let mut hs = builder.build_initiator().unwrap();
        let mut buf = vec![0u8; 65535];
        let n = hs.write_message(payload, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    /// Noise message 2 carrying `payload`, in answer to the ClientHello.
    pub(super) fn message_2(&self, payload: &[u8]) -> Vec<u8> {
        let params: snow::params::NoiseParams = self.protocol.parse().unwrap();
        let mut hs = snow::Builder::new(params)
            .prologue(&self.prologue)
            .unwrap()
            .local_private_key(&self.server_static)
            .unwrap()
            .fixed_ephemeral_key_for_testing_only(&self.server_ephemeral)
            .build_responder()
            .unwrap();
        let ch = &self.client_hello;
        let mut scratch = vec![0u8; 65535];
        hs.read_message(&ch[3 + client_hello_header_len(&ch[3..])..], &mut scratch)
            .unwrap();
        let mut buf = vec![0u8; 65535];
        let n = hs.write_message(payload, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    /// The ClientHello with its flags set to `flags` and Noise message 1
    /// (under the prologue of the new header) carrying `payload`.
    pub(super) fn client_hello_with(mut self, flags: u8, payload: &[u8]) -> Vec<u8> {
        let body = &self.client_hello[3..];
        let mut header = body[..client_hello_header_len(body)].to_vec();
        let flags_at = 6 + usize::from(header[5]) + 8;
        header[flags_at] = flags;
        self.prologue = PROLOGUE_LABEL.to_vec();
        self.prologue.extend_from_slice(&header);
        header.extend(self.message_1(payload));
        frame(0x01, &header)
    }
}

/// Noise message 1 or 2 of `v`, written by `snow` with `payload` instead of
/// the empty extension list lwsec sends.
pub(super) fn snow_message(v: &HandshakeVector, initiator: bool, payload: &[u8]) -> Vec<u8> {
    let setup = NoiseSetup::of_handshake(v);
    if initiator {
        setup.message_1(payload)
    } else {
        setup.message_2(payload)
    }
}

/// `v`'s ClientHello with Noise message 1 carrying `payload`.
pub(super) fn client_hello_with_payload(v: &HandshakeVector, payload: &[u8]) -> Vec<u8> {
    NoiseSetup::of_handshake(v).client_hello_with(0, payload)
}

//! Shared set-up for the benches: established lwsec pairs, raw AEADs,
//! snow and rustls peers, and in-memory byte shuttles.
//!
//! Every bench compares lwsec with the primitive it wraps or with a peer
//! library *in the same run*, so the ratios survive a noisy machine.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::Arc;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use lwsec::{Connection, Pattern, Side, Suite, Time, TransportConfig};

/// The time every bench uses (the core never reads a clock).
pub(crate) const NOW: Time = Time::from_millis(1_700_000_000_000);

/// Both suites, with a short name for bench ids.
pub(crate) const SUITES: [(Suite, &str); 2] = [
    (Suite::Aes256Gcm, "aes256gcm"),
    (Suite::ChaCha20Poly1305, "chacha20poly1305"),
];

/// Both patterns, with a short name for bench ids.
pub(crate) const PATTERNS: [(Pattern, &str); 2] = [(Pattern::Nk, "NK"), (Pattern::Ik, "IK")];

/// Record header (type + length) and AEAD tag: the bytes lwsec adds per
/// record, plus one content-type byte.
pub(crate) const RECORD_OVERHEAD: usize = 3 + 1 + 16;

/// An established client/server pair with fixed keys (no handshake).
pub(crate) fn lwsec_pair(suite: Suite) -> (Connection, Connection) {
    let (k1, k2, h) = ([0x11; 32], [0x22; 32], [0x33; 32]);
    let make = |side| {
        Connection::dangerous_from_noise_split(
            side,
            Pattern::Nk,
            suite,
            &k1,
            &k2,
            h,
            None,
            TransportConfig::default(),
            NOW,
        )
        .unwrap()
    };
    let mut client = make(Side::Client);
    let mut server = make(Side::Server);
    // Drop the HandshakeComplete events.
    while client.poll_event().is_some() {}
    while server.poll_event().is_some() {}
    (client, server)
}

/// One message from `from` to `to` through lwsec's public API: seal and
/// frame (`send_message`), then parse and open (`handle_input`,
/// `recv_message`). Returns the received length.
pub(crate) fn lwsec_send_recv(from: &mut Connection, to: &mut Connection, message: &[u8]) -> usize {
    from.send_message(message).unwrap();
    let mut received = 0;
    while from.wants_write() {
        let n = to.handle_input(from.pending_output(), NOW).unwrap();
        from.consume_output(n);
        while let Some(m) = to.recv_message() {
            received += m.len();
        }
    }
    received
}

/// The AEAD lwsec wraps, from the same crate, for raw comparisons.
pub(crate) enum RawAead {
    /// `aes-gcm`.
    Aes(Box<Aes256Gcm>),
    /// `chacha20poly1305`.
    ChaCha(Box<ChaCha20Poly1305>),
}

impl RawAead {
    /// A keyed AEAD for `suite`.
    pub(crate) fn new(suite: Suite) -> Self {
        let key = [0x44u8; 32];
        match suite {
            Suite::Aes256Gcm => Self::Aes(Box::new(Aes256Gcm::new((&key).into()))),
            _ => Self::ChaCha(Box::new(ChaCha20Poly1305::new((&key).into()))),
        }
    }

    /// Encrypts `buf` in place under the nonce for `seq`; returns the tag.
    pub(crate) fn seal(&self, seq: u64, aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let nonce = nonce(seq);
        match self {
            Self::Aes(k) => k.encrypt_in_place_detached((&nonce).into(), aad, buf),
            Self::ChaCha(k) => k.encrypt_in_place_detached((&nonce).into(), aad, buf),
        }
        .unwrap()
        .into()
    }

    /// Decrypts `buf` in place under the nonce for `seq`, checking `tag`.
    pub(crate) fn open(&self, seq: u64, aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) {
        let nonce = nonce(seq);
        match self {
            Self::Aes(k) => k.decrypt_in_place_detached((&nonce).into(), aad, buf, tag.into()),
            Self::ChaCha(k) => k.decrypt_in_place_detached((&nonce).into(), aad, buf, tag.into()),
        }
        .unwrap()
    }
}

/// A per-record nonce, as lwsec builds it (IV XOR sequence number).
fn nonce(seq: u64) -> [u8; 12] {
    let mut n = [0x55u8; 12];
    for (b, s) in n.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

// ----- snow -----

/// The Noise protocol name snow uses for `pattern` and `suite`.
pub(crate) fn snow_params(pattern: Pattern, suite: Suite) -> snow::params::NoiseParams {
    lwsec::noise_protocol_name(pattern, suite).parse().unwrap()
}

/// An established snow transport pair (initiator, responder) after a real
/// handshake of `pattern` and `suite`.
pub(crate) fn snow_pair(
    pattern: Pattern,
    suite: Suite,
    server_private: &[u8; 32],
    server_public: &[u8; 32],
    client_private: &[u8; 32],
) -> (snow::TransportState, snow::TransportState) {
    let (mut i, mut r) = snow_handshake_states(
        pattern,
        suite,
        server_private,
        server_public,
        client_private,
    );
    let mut m1 = [0u8; 256];
    let mut m2 = [0u8; 256];
    let mut p = [0u8; 256];
    let n = i.write_message(&[], &mut m1).unwrap();
    r.read_message(&m1[..n], &mut p).unwrap();
    let n = r.write_message(&[], &mut m2).unwrap();
    i.read_message(&m2[..n], &mut p).unwrap();
    (
        i.into_transport_mode().unwrap(),
        r.into_transport_mode().unwrap(),
    )
}

/// Fresh snow handshake states (initiator, responder).
pub(crate) fn snow_handshake_states(
    pattern: Pattern,
    suite: Suite,
    server_private: &[u8; 32],
    server_public: &[u8; 32],
    client_private: &[u8; 32],
) -> (snow::HandshakeState, snow::HandshakeState) {
    let params = snow_params(pattern, suite);
    let mut ib = snow::Builder::new(params.clone())
        .remote_public_key(server_public)
        .unwrap();
    if pattern == Pattern::Ik {
        ib = ib.local_private_key(client_private).unwrap();
    }
    let i = ib.build_initiator().unwrap();
    let r = snow::Builder::new(params)
        .local_private_key(server_private)
        .unwrap()
        .build_responder()
        .unwrap();
    (i, r)
}

/// Sends `message` from `from` to `to` over snow transport mode with a
/// 2-byte length prefix; `wire` and `out` are reused buffers.
pub(crate) fn snow_send_recv(
    from: &mut snow::TransportState,
    to: &mut snow::TransportState,
    message: &[u8],
    wire: &mut [u8],
    out: &mut [u8],
) -> usize {
    let n = from.write_message(message, &mut wire[2..]).unwrap();
    wire[..2].copy_from_slice(&(n as u16).to_be_bytes());
    let len = u16::from_be_bytes([wire[0], wire[1]]) as usize;
    to.read_message(&wire[2..2 + len], out).unwrap()
}

// ----- rustls -----

/// A rustls crypto provider restricted to TLS 1.3 with X25519 and the
/// cipher suite matching `suite`, from `base` (ring or aws-lc-rs).
pub(crate) fn rustls_provider(
    base: rustls::crypto::CryptoProvider,
    suite: Suite,
) -> Arc<rustls::crypto::CryptoProvider> {
    let mut p = base;
    let want = match suite {
        Suite::Aes256Gcm => rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
        _ => rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    };
    p.cipher_suites.retain(|s| s.suite() == want);
    p.kx_groups
        .retain(|g| g.name() == rustls::NamedGroup::X25519);
    assert_eq!(p.cipher_suites.len(), 1);
    assert_eq!(p.kx_groups.len(), 1);
    Arc::new(p)
}

/// rustls client and server configs: TLS 1.3 only, X25519, an ECDSA P-256
/// self-signed certificate from rcgen, no resumption and no tickets (so
/// every handshake is a full one).
pub(crate) fn rustls_configs(
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> (Arc<rustls::ClientConfig>, Arc<rustls::ServerConfig>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_der = cert.cert.der().clone();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key_der)
        .unwrap();
    server.send_tls13_tickets = 0;
    server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let mut client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.resumption = rustls::client::Resumption::disabled();
    (Arc::new(client), Arc::new(server))
}

/// A fresh rustls client connection to "localhost".
pub(crate) fn rustls_client(config: &Arc<rustls::ClientConfig>) -> rustls::ClientConnection {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    rustls::ClientConnection::new(config.clone(), name).unwrap()
}

/// Moves everything `from` wants to send into `to` and processes it;
/// `buf` is a reused scratch buffer. Returns the bytes moved.
pub(crate) fn rustls_transfer<A, B>(
    from: &mut rustls::ConnectionCommon<A>,
    to: &mut rustls::ConnectionCommon<B>,
    buf: &mut Vec<u8>,
) -> usize {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).unwrap();
    }
    let moved = buf.len();
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
        to.process_new_packets().unwrap();
    }
    moved
}

/// A full rustls handshake between fresh connections, in memory.
pub(crate) fn rustls_handshake(
    client_config: &Arc<rustls::ClientConfig>,
    server_config: &Arc<rustls::ServerConfig>,
    buf: &mut Vec<u8>,
) -> (rustls::ClientConnection, rustls::ServerConnection) {
    let mut client = rustls_client(client_config);
    let mut server = rustls::ServerConnection::new(server_config.clone()).unwrap();
    while client.is_handshaking() || server.is_handshaking() {
        rustls_transfer(&mut client, &mut server, buf);
        rustls_transfer(&mut server, &mut client, buf);
    }
    (client, server)
}

/// One application message through rustls: `writer().write_all`, then
/// `write_tls` / `read_tls` / `process_new_packets` / `reader().read`.
pub(crate) fn rustls_send_recv<A, B>(
    from: &mut rustls::ConnectionCommon<A>,
    to: &mut rustls::ConnectionCommon<B>,
    message: &[u8],
    wire: &mut Vec<u8>,
    out: &mut [u8],
) -> usize {
    from.writer().write_all(message).unwrap();
    rustls_transfer(from, to, wire);
    let mut received = 0;
    loop {
        match to.reader().read(&mut out[received..]) {
            Ok(0) => break,
            Ok(n) => received += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    received
}

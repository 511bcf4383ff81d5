//! Shared set-up for the benches: established lwsec pairs, raw AEADs,
//! snow and rustls peers, and in-memory byte shuttles.
//!
//! Every bench compares lwsec with the primitive it wraps or with a peer
//! library *in the same run*, so the ratios survive a noisy machine.

#![allow(dead_code)]

pub(crate) mod cpu_time;
pub(crate) mod ratio;

use std::hint::black_box;
use std::io::{Read, Write};
use std::sync::Arc;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use lwsec::crypto::{AgreementKey, CryptoProvider};
use lwsec::rng::{OsRandom, SecureRandom};
use lwsec::{
    Acceptance, ClientConfig, Connection, Pattern, ServerConfig, ServerOptions, StaticKeyPair,
    Suite, Time,
};
use x25519_dalek::{PublicKey as XPublic, StaticSecret};

/// The time every bench uses (the core never reads a clock).
/// The criterion every bench uses: thread CPU time (see [`cpu_time`]).
pub(crate) type Bench = criterion::Criterion<cpu_time::ThreadCpuTime>;

/// Criterion configured with the thread-CPU-time clock; command-line
/// options (`--warm-up-time`, filters) still apply.
pub(crate) fn bench_config() -> Bench {
    criterion::Criterion::default().with_measurement(cpu_time::ThreadCpuTime)
}

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

/// The lwsec providers compiled into this build (`rust-crypto`, and
/// `aws-lc` unless built with `--no-default-features`).
pub(crate) fn providers() -> &'static [&'static CryptoProvider] {
    lwsec::crypto::providers()
}

/// The server's static key in every bench.
pub(crate) const SERVER_SECRET: [u8; 32] = [0x01; 32];
/// The IK client's static key in every bench.
pub(crate) const CLIENT_SECRET: [u8; 32] = [0x02; 32];

/// lwsec configs for one pattern, suite and provider (the client offers
/// only `suite`).
pub(crate) fn lwsec_configs(
    provider: &'static CryptoProvider,
    pattern: Pattern,
    suite: Suite,
) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let server_key = StaticKeyPair::from_private_bytes(SERVER_SECRET);
    let mut client = match pattern {
        Pattern::Nk => ClientConfig::nk(server_key.public_key()),
        _ => ClientConfig::ik(
            server_key.public_key(),
            StaticKeyPair::from_private_bytes(CLIENT_SECRET),
        ),
    };
    client.suites = vec![suite];
    client.provider = provider;
    let mut server = ServerConfig::new(server_key);
    server.provider = provider;
    (Arc::new(client), Arc::new(server))
}

/// An established client/server pair after a real NK handshake on `provider`.
pub(crate) fn lwsec_pair(
    provider: &'static CryptoProvider,
    suite: Suite,
) -> (Connection, Connection) {
    let (ccfg, scfg) = lwsec_configs(provider, Pattern::Nk, suite);
    let mut client = Connection::client(ccfg, NOW).unwrap();
    let mut server = Connection::server(scfg, NOW).unwrap();
    let n = server.handle_input(client.pending_output(), NOW).unwrap();
    client.consume_output(n);
    server.accept_client(Acceptance::new(), NOW).unwrap();
    let n = client.handle_input(server.pending_output(), NOW).unwrap();
    server.consume_output(n);
    // The client's key confirmation record.
    let n = server.handle_input(client.pending_output(), NOW).unwrap();
    client.consume_output(n);
    assert!(client.is_established() && server.is_established());
    assert_eq!(client.suite(), Some(suite));
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

/// The server side of a handshake alone: a fresh server connection
/// answering the client's first flight `hello`. Returns the reply's length.
pub(crate) fn lwsec_server(
    server_cfg: &Arc<ServerConfig>,
    options: &ServerOptions,
    hello: &[u8],
) -> usize {
    let mut server =
        Connection::server_with_options(server_cfg.clone(), NOW, options.clone()).unwrap();
    server.handle_input(hello, NOW).unwrap();
    if server.client_hello().is_some() {
        server.accept_client(Acceptance::new(), NOW).unwrap();
    }
    black_box(server.pending_output()).len()
}

/// A client's first flight for `pattern` and `suite` on `provider`, with
/// the server config that answers it.
pub(crate) fn lwsec_first_flight(
    provider: &'static CryptoProvider,
    pattern: Pattern,
    suite: Suite,
) -> (Vec<u8>, Arc<ServerConfig>) {
    let (ccfg, scfg) = lwsec_configs(provider, pattern, suite);
    let hello = Connection::client(ccfg, NOW)
        .unwrap()
        .pending_output()
        .to_vec();
    (hello, scfg)
}

/// (key generations, DH operations) of one side of a pattern.
/// NK: `-> e, es` / `<- e, ee`: each side 1 keygen + 2 DH.
/// IK: `-> e, es, s, ss` / `<- e, ee, se`: each side 1 keygen + 4 DH.
pub(crate) fn floor_ops(pattern: Pattern) -> (usize, usize) {
    match pattern {
        Pattern::Nk => (1, 2),
        _ => (1, 4),
    }
}

/// The AEAD a provider wraps, called directly (RustCrypto crates or
/// aws-lc-rs), for raw comparisons. Buffers are `plaintext || 16 bytes`
/// for the tag, sealed and opened in place, as lwsec does with a record.
pub(crate) enum RawAead {
    /// `aes-gcm`.
    Aes(Box<Aes256Gcm>),
    /// `chacha20poly1305`.
    ChaCha(Box<ChaCha20Poly1305>),
    /// `aws-lc-rs` (either suite).
    AwsLc(Box<aws_lc_rs::aead::LessSafeKey>),
}

impl RawAead {
    /// A keyed AEAD for `suite` from the primitives behind `provider`.
    pub(crate) fn new(provider: &CryptoProvider, suite: Suite) -> Self {
        let key = [0x44u8; 32];
        if provider.name == "aws-lc" {
            let alg = match suite {
                Suite::Aes256Gcm => &aws_lc_rs::aead::AES_256_GCM,
                _ => &aws_lc_rs::aead::CHACHA20_POLY1305,
            };
            let unbound = aws_lc_rs::aead::UnboundKey::new(alg, &key).unwrap();
            return Self::AwsLc(Box::new(aws_lc_rs::aead::LessSafeKey::new(unbound)));
        }
        match suite {
            Suite::Aes256Gcm => Self::Aes(Box::new(Aes256Gcm::new((&key).into()))),
            _ => Self::ChaCha(Box::new(ChaCha20Poly1305::new((&key).into()))),
        }
    }

    /// Encrypts `buf[..len - 16]` in place under the nonce for `seq` and
    /// writes the tag into the last 16 bytes.
    pub(crate) fn seal(&self, seq: u64, aad: &[u8], buf: &mut [u8]) {
        let nonce = nonce(seq);
        let (plain, tag_out) = buf.split_at_mut(buf.len() - 16);
        match self {
            Self::Aes(k) => tag_out.copy_from_slice(
                &k.encrypt_in_place_detached((&nonce).into(), aad, plain)
                    .unwrap(),
            ),
            Self::ChaCha(k) => tag_out.copy_from_slice(
                &k.encrypt_in_place_detached((&nonce).into(), aad, plain)
                    .unwrap(),
            ),
            Self::AwsLc(k) => {
                let tag = k
                    .seal_in_place_separate_tag(
                        aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce),
                        aws_lc_rs::aead::Aad::from(aad),
                        plain,
                    )
                    .unwrap();
                tag_out.copy_from_slice(tag.as_ref());
            }
        }
    }

    /// Opens `buf` = ciphertext || tag in place under the nonce for `seq`.
    pub(crate) fn open(&self, seq: u64, aad: &[u8], buf: &mut [u8]) {
        let nonce = nonce(seq);
        match self {
            Self::Aes(k) => {
                let (ct, tag) = buf.split_at_mut(buf.len() - 16);
                let tag = aes_gcm::Tag::clone_from_slice(tag);
                k.decrypt_in_place_detached((&nonce).into(), aad, ct, &tag)
                    .unwrap()
            }
            Self::ChaCha(k) => {
                let (ct, tag) = buf.split_at_mut(buf.len() - 16);
                let tag = chacha20poly1305::Tag::clone_from_slice(tag);
                k.decrypt_in_place_detached((&nonce).into(), aad, ct, &tag)
                    .unwrap()
            }
            Self::AwsLc(k) => {
                k.open_in_place(
                    aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce),
                    aws_lc_rs::aead::Aad::from(aad),
                    buf,
                )
                .unwrap();
            }
        }
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

/// The same X25519 work through lwsec's provider boundary
/// (`CryptoProvider::kx`): key generation = OS randomness + parsing the key
/// (`private_key`, which yields the public key), DH = `agree` on a key
/// parsed once, as the handshake calls them. Compared with [`X25519Floor`]
/// it shows what the provider layer adds. `peer` is the client's public key
/// (computed once by the caller), `server` the server's static key parsed
/// once by [`provider_server_key`] (as a configuration's key is).
pub(crate) fn provider_x25519(
    provider: &CryptoProvider,
    server: &dyn AgreementKey,
    peer: &[u8; 32],
    keygens: usize,
    dhs: usize,
) {
    for _ in 0..keygens {
        let mut private = [0u8; 32];
        OsRandom.fill(&mut private).unwrap();
        black_box(provider.kx.private_key(&private).unwrap().public_key());
    }
    for _ in 0..dhs {
        black_box(server.agree(black_box(peer)).unwrap());
    }
}

/// The server's static key parsed by `provider`, for [`provider_x25519`].
pub(crate) fn provider_server_key(provider: &CryptoProvider) -> Box<dyn AgreementKey> {
    provider.kx.private_key(&SERVER_SECRET).unwrap()
}

/// The X25519 work a handshake side cannot avoid, with the primitives
/// behind a provider called directly: ephemeral key generations (OS
/// randomness, base-point multiplication) and DH operations with a parsed
/// private key and the all-zero check.
pub(crate) enum X25519Floor {
    /// `x25519-dalek`.
    Dalek(StaticSecret, XPublic),
    /// `aws-lc-rs`.
    AwsLc(aws_lc_rs::agreement::PrivateKey, [u8; 32]),
}

impl X25519Floor {
    /// A floor for `provider`'s primitives.
    pub(crate) fn new(provider: &CryptoProvider) -> Self {
        let peer = *XPublic::from(&StaticSecret::from(CLIENT_SECRET)).as_bytes();
        if provider.name == "aws-lc" {
            let key = aws_lc_rs::agreement::PrivateKey::from_private_key(
                &aws_lc_rs::agreement::X25519,
                &SERVER_SECRET,
            )
            .unwrap();
            return Self::AwsLc(key, peer);
        }
        Self::Dalek(StaticSecret::from(SERVER_SECRET), XPublic::from(peer))
    }

    /// Runs `keygens` key generations and `dhs` DH operations.
    pub(crate) fn run(&self, keygens: usize, dhs: usize) {
        use aws_lc_rs::agreement;
        match self {
            Self::Dalek(secret, peer) => {
                for _ in 0..keygens {
                    let mut bytes = [0u8; 32];
                    OsRandom.fill(&mut bytes).unwrap();
                    let e = StaticSecret::from(bytes);
                    black_box(XPublic::from(&e));
                }
                for _ in 0..dhs {
                    let shared = secret.diffie_hellman(black_box(peer));
                    assert!(shared.was_contributory());
                    black_box(shared);
                }
            }
            Self::AwsLc(key, peer) => {
                for _ in 0..keygens {
                    let e = agreement::PrivateKey::generate(&agreement::X25519).unwrap();
                    black_box(e.compute_public_key().unwrap());
                }
                for _ in 0..dhs {
                    let peer =
                        agreement::UnparsedPublicKey::new(&agreement::X25519, black_box(peer));
                    let shared = agreement::agree(key, peer, (), |s| {
                        let mut out = [0u8; 32];
                        out.copy_from_slice(s);
                        Ok(out)
                    })
                    .unwrap();
                    assert!(shared != [0u8; 32]);
                    black_box(shared);
                }
            }
        }
    }
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

/// The rustls providers compared: `ring` (the default comparison) and
/// `aws-lc-rs`.
pub(crate) fn rustls_bases() -> [(&'static str, rustls::crypto::CryptoProvider); 2] {
    [
        ("ring", rustls::crypto::ring::default_provider()),
        ("aws-lc", rustls::crypto::aws_lc_rs::default_provider()),
    ]
}

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

/// The server side of a rustls handshake alone: a fresh server connection
/// answering the ClientHello `hello`; `out` is a reused buffer for its reply.
pub(crate) fn rustls_server(
    config: &Arc<rustls::ServerConfig>,
    hello: &[u8],
    out: &mut Vec<u8>,
) -> rustls::ServerConnection {
    let mut server = rustls::ServerConnection::new(config.clone()).unwrap();
    server.read_tls(&mut &hello[..]).unwrap();
    server.process_new_packets().unwrap();
    out.clear();
    while server.wants_write() {
        server.write_tls(out).unwrap();
    }
    black_box(&out);
    server
}

/// A rustls client's first flight (its ClientHello) for `config`.
pub(crate) fn rustls_first_flight(config: &Arc<rustls::ClientConfig>) -> Vec<u8> {
    let mut hello = Vec::new();
    rustls_client(config).write_tls(&mut hello).unwrap();
    hello
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

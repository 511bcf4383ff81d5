//! Differential: lwsec's handshake against `snow`, driven by the same
//! fuzzer-chosen static and ephemeral keys, pattern (NK/IK), client and
//! server suite lists (so a Retry, with or without a cookie, when the
//! server selects another suite or demands a cookie), early data, the
//! client's clock, payloads written by snow, and edits of message 1 or 2.
//!
//! Four parties hold the same keys: the lwsec client and server, a snow
//! initiator and a snow responder (ephemeral keys fixed on both sides).
//! Asserted:
//!
//! 1. **Byte-identical messages.** Every ClientHello lwsec writes is the
//!    spec's header (`spec_reference::Header`, built from the spec, key id
//!    included) followed by exactly snow's `write_message` for the prologue
//!    `"lwsec/1 prologue" || header`, the same keys and the spec's payload
//!    (empty, or `timestamp || early_data`). The ServerHello body lwsec's
//!    server writes is exactly snow's responder message 2 with payload
//!    `early_data_status` (if early data was offered) or empty; the status
//!    is the reference's freshness decision (spec 4.9, fresh guard).
//! 2. **Same accept/reject decisions** on message 1 (lwsec server vs snow
//!    responder) and message 2 (lwsec client vs snow initiator), with the
//!    message edited (bit flips, bytes set, inserted, removed, truncation,
//!    extension, a low-order point written over `e`), or written by snow
//!    with an arbitrary payload, or written by a snow peer whose `e` (or IK
//!    `s`) is a low-order point.
//! 3. **Same results when both accept**: handshake hash, and traffic
//!    secrets, keys and IVs derived by the reference key schedule (spec 5)
//!    from snow's raw `Split()`; the exporter; the peer's static key; the
//!    early-data outcome on both sides.
//!
//! **Which rejections are compared (lwsec-level vs Noise-level).** An edit
//! may break lwsec's own framing, which snow never sees. The rule:
//!
//! * Message 1: if the edited body is longer than 10240 bytes, lwsec must
//!   fail with `RecordOverflow` (frame level) and snow is not asked. Else
//!   the reference parses the edited header (spec 4.1, 4.3 step 1) and
//!   decides whether the server reaches Noise `ReadMessage` (steps 2 to 6:
//!   known pattern, our key id, the selected suite is the header's suite,
//!   an echoed Retry names that suite and carries our cookie or none when
//!   none is demanded, no cookie demanded without an echo). If it does not,
//!   lwsec must refuse at the lwsec level (or answer with a Retry): never
//!   establish, never a Noise-level error. If it does, snow's responder
//!   reads the Noise part with the edited header's pattern, suite and
//!   prologue, and the verdicts are compared as below.
//! * Message 2: over 2048 bytes, lwsec must fail with `RecordOverflow`;
//!   else the verdicts are compared as below.
//! * Noise-level errors are `HandshakeDecrypt`, `LowOrderPoint`, and
//!   `Decode` for a message too short to hold its keys and tag (NK/IK
//!   message 2 and NK message 1: 48 bytes; IK message 1: 96). If snow
//!   rejects, lwsec must fail with one of them: `Decode` only if the
//!   message is that short, `LowOrderPoint` only if a key in the message
//!   gives an all-zero DH with the reader's key. If snow accepts and a DH
//!   with a key from the message is all zeros, lwsec must fail with
//!   `LowOrderPoint` (spec 4.7: snow does not check, the one expected
//!   disagreement). Otherwise lwsec must accept exactly when the reference
//!   accepts snow's decrypted payload (extension list of spec 4.4, early
//!   data agreement of 4.3 step 7 / 4.6), and fail with the same alert
//!   code when it does not.
//!
//! A failing side must queue exactly one cleartext alert with its error's
//! code (spec 4.8).
//!
//! **The decision point and key confirmation** (spec 4.3 steps 7 to 10,
//! 4.9, 4.10). The lwsec server pauses after message 1; its view of the
//! flight (`ClientHello`: pattern, suite, key id, claimed IK key, peer
//! address, Retry echo, early-data offer with the connection's own refusal
//! in the spec's order: not enabled, after a Retry, outside the window) must
//! be what the reference read from the edited header and snow's message 1.
//! The target answers like a server application: it asks a fresh
//! `StrikeRegister` (started far in the past) only when the offer needs a
//! replay check, and accepts. The server draws no randomness before that
//! answer (its ephemeral key is generated at `accept_client`: a flight that
//! fails draws none). After the ServerHello, the lwsec client's first
//! record is exactly the reference's `confirm` record, and only that record
//! makes the server established. A retried ClientHello never carries early
//! data: the client drops it and reports `EarlyDataRejected`.

use std::sync::Arc;
use std::time::Duration;

use lwsec::early_data::StrikeRegister;
use lwsec::{
    Acceptance, ClientConfig, ClientHello, Connection, EarlyDataRefusal, Error, Event, NoiseSplit,
    Pattern, PublicKey, ServerConfig, ServerOptions, Side, StaticKeyPair, Suite, Time,
    TransportConfig,
};
use snow::HandshakeState;
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use snow::types::{Cipher, Dh, Hash, Random};

use lwsec_test_support::fuzz_input::Input;
use lwsec_test_support::peers;
use lwsec_test_support::replay_random::ReplayRandom;
use lwsec_test_support::spec_reference::{self as spec, Header};

/// The server's clock; the client's is offset from it by the input.
const SERVER_NOW: u64 = 1_767_225_600_000;
/// The server's early-data window.
const WINDOW_MS: u64 = 10_000;
const PEER_ADDRESS: &[u8] = b"198.51.100.7:4433";
const COOKIE_SECRET: [u8; 32] = [0x5c; 32];
/// Private keys that stand for a low-order point in a snow peer built
/// with [`LowOrderResolver`].
const MARK_E: [u8; 32] = [0xe7; 32];
const MARK_S: [u8; 32] = [0x57; 32];
/// Most edits applied to one message.
const MAX_EDITS: usize = 16;

/// Which message the edits apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    None,
    Message1,
    Message2,
}

/// Which snow key is replaced by a low-order point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LowOrder {
    None,
    /// The initiator's ephemeral key (message 1).
    ClientE,
    /// The initiator's static key (IK message 1).
    ClientS,
    /// The responder's ephemeral key (message 2).
    ServerE,
}

/// One input.
#[derive(Debug)]
struct Case {
    pattern: Pattern,
    client_suites: Vec<Suite>,
    server_suites: Vec<Suite>,
    early_data: Option<Vec<u8>>,
    server_accepts_early_data: bool,
    demand_cookie: bool,
    target: Target,
    /// Snow writes the targeted message with `custom_payload`.
    custom: bool,
    /// A custom message 1 is written behind a header with the early_data
    /// flag set (so a retried ClientHello can offer early data).
    custom_early_flag: bool,
    low_order: LowOrder,
    point: [u8; 32],
    /// The client's clock minus the server's, in milliseconds.
    client_offset: i16,
    server_static: [u8; 32],
    /// The server's static public key (computed once: X25519 is most of
    /// the cost of an input).
    server_public: [u8; 32],
    client_static: [u8; 32],
    client_e1: [u8; 32],
    client_e2: [u8; 32],
    server_e: [u8; 32],
    custom_payload: Vec<u8>,
    edits: Vec<[u8; 4]>,
}

/// Input layout: `flags_a, flags_b, point, client_offset (2)`, five keys of
/// 32 bytes (server static, client static, client ephemeral 1 and 2,
/// server ephemeral), early data `len (2) || data` if flagged, a custom
/// payload `len (2) || bytes` if flagged, then edits of 4 bytes
/// `op, pos (2), value`. Missing bytes read as zeros.
///
/// `flags_a`: bit 0 IK; bits 1-2 client suites (AES, ChaCha, AES+ChaCha,
/// ChaCha+AES); bits 3-4 server suites (both, AES, ChaCha, both); bit 5
/// early data; bit 6 the server accepts early data; bit 7 the server
/// demands a cookie. `flags_b`: bits 0-1 edited message (none, 1, 2, none);
/// bits 2-3 low-order key (none, client e, client s, server e); bit 4 snow
/// writes the edited message with the custom payload; bit 5 a custom
/// message 1 has the early_data flag set in its header.
impl Case {
    fn parse(input: &mut Input<'_>) -> Self {
        let a = input.u8();
        let b = input.u8();
        let point = spec::LOW_ORDER_POINTS[usize::from(input.u8()) % spec::LOW_ORDER_POINTS.len()];
        let client_offset = input.u16() as i16;
        // Keys never equal a marker (a marker stands for a low-order key).
        let mut key = |mask| {
            let mut k: [u8; 32] = input.array(mask);
            if k == MARK_E || k == MARK_S {
                k[0] ^= 1;
            }
            k
        };
        let server_static = key(0x11);
        let client_static = key(0x22);
        let client_e1 = key(0x33);
        let client_e2 = key(0x44);
        let server_e = key(0x55);
        let (aes, chacha) = (Suite::Aes256Gcm, Suite::ChaCha20Poly1305);
        let client_suites = match (a >> 1) & 3 {
            0 => vec![aes],
            1 => vec![chacha],
            2 => vec![aes, chacha],
            _ => vec![chacha, aes],
        };
        let server_suites = match (a >> 3) & 3 {
            1 => vec![aes],
            2 => vec![chacha],
            _ => vec![aes, chacha],
        };
        let early_data = (a & 0x20 != 0).then(|| {
            let len = usize::from(input.u16()) % (spec::MAX_EARLY_DATA + 1);
            input.bytes(len)
        });
        let custom = b & 0x10 != 0;
        let custom_payload = if custom {
            let len = usize::from(input.u16()) % 2100;
            input.bytes(len)
        } else {
            Vec::new()
        };
        let mut edits = Vec::new();
        while !input.is_empty() && edits.len() < MAX_EDITS {
            edits.push(input.array(0));
        }
        let pattern = if a & 1 != 0 { Pattern::Ik } else { Pattern::Nk };
        let low_order = match (b >> 2) & 3 {
            1 => LowOrder::ClientE,
            2 if pattern == Pattern::Ik => LowOrder::ClientS,
            3 => LowOrder::ServerE,
            _ => LowOrder::None,
        };
        Self {
            pattern,
            client_suites,
            server_suites,
            early_data,
            server_accepts_early_data: a & 0x40 != 0,
            demand_cookie: a & 0x80 != 0,
            target: match b & 3 {
                1 => Target::Message1,
                2 => Target::Message2,
                _ => Target::None,
            },
            custom,
            custom_early_flag: b & 0x20 != 0,
            low_order,
            point,
            client_offset,
            server_static,
            server_public: spec::public_key(&server_static),
            client_static,
            client_e1,
            client_e2,
            server_e,
            custom_payload,
            edits,
        }
    }
}

/// What an input did, for the tests that check the target itself.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The server answered the first ClientHello with a Retry.
    pub retry: bool,
    /// The lwsec server's verdict on message 1 (`None`: not reached).
    pub message1: Option<Result<(), Error>>,
    /// The lwsec client's verdict on message 2 (`None`: not reached).
    pub message2: Option<Result<(), Error>>,
    /// The lwsec server completed its handshake.
    pub server_established: bool,
}

/// Runs one input.
pub fn run(data: &[u8]) {
    run_outcome(data);
}

/// Runs one input and says what happened.
pub fn run_outcome(data: &[u8]) -> Outcome {
    Case::parse(&mut Input::new(data)).run()
}

// ----- snow -----

/// The Noise protocol name of spec 2.1 for pattern and suite codes.
fn noise_params(pattern: u8, suite: u8) -> snow::params::NoiseParams {
    let p = if pattern == spec::IK { "IK" } else { "NK" };
    let c = if suite == spec::AES_256_GCM {
        "AESGCM"
    } else {
        "ChaChaPoly"
    };
    format!("Noise_{p}_25519_{c}_SHA256").parse().unwrap()
}

/// A snow resolver in which the X25519 key pair whose private key is
/// `marker` is replaced by the low-order point `point`: its public key is
/// `point` and its DH outputs are all zeros, which is what an honest peer
/// computes with `point`. So a snow peer can write a handshake message
/// that carries a low-order key and is otherwise valid.
struct LowOrderResolver {
    marker: [u8; 32],
    point: [u8; 32],
}

impl CryptoResolver for LowOrderResolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        DefaultResolver.resolve_rng()
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        Some(Box::new(LowOrderDh {
            inner: DefaultResolver.resolve_dh(choice)?,
            marker: self.marker,
            point: self.point,
            active: false,
        }))
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        DefaultResolver.resolve_hash(choice)
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        DefaultResolver.resolve_cipher(choice)
    }
}

struct LowOrderDh {
    inner: Box<dyn Dh>,
    marker: [u8; 32],
    point: [u8; 32],
    active: bool,
}

impl Dh for LowOrderDh {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn pub_len(&self) -> usize {
        self.inner.pub_len()
    }

    fn priv_len(&self) -> usize {
        self.inner.priv_len()
    }

    fn set(&mut self, privkey: &[u8]) {
        self.active = privkey == self.marker;
        self.inner.set(privkey);
    }

    fn generate(&mut self, rng: &mut dyn Random) -> Result<(), snow::Error> {
        self.active = false;
        self.inner.generate(rng)
    }

    fn pubkey(&self) -> &[u8] {
        if self.active {
            &self.point
        } else {
            self.inner.pubkey()
        }
    }

    fn privkey(&self) -> &[u8] {
        self.inner.privkey()
    }

    fn dh(&self, pubkey: &[u8], out: &mut [u8]) -> Result<(), snow::Error> {
        if self.active {
            out[..32].fill(0);
            Ok(())
        } else {
            self.inner.dh(pubkey, out)
        }
    }
}

/// A snow handshake state; `low_order` replaces the key pair with private
/// key `.0` by the point `.1`.
#[allow(clippy::too_many_arguments)]
fn snow_state(
    initiator: bool,
    pattern: u8,
    suite: u8,
    prologue: &[u8],
    local_static: Option<&[u8; 32]>,
    remote_static: Option<&[u8; 32]>,
    ephemeral: &[u8; 32],
    low_order: Option<([u8; 32], [u8; 32])>,
) -> HandshakeState {
    let params = noise_params(pattern, suite);
    let mut b = match low_order {
        Some((marker, point)) => {
            snow::Builder::with_resolver(params, Box::new(LowOrderResolver { marker, point }))
        }
        None => snow::Builder::new(params),
    };
    b = b
        .prologue(prologue)
        .unwrap()
        .fixed_ephemeral_key_for_testing_only(ephemeral);
    if let Some(s) = local_static {
        b = b.local_private_key(s).unwrap();
    }
    if let Some(rs) = remote_static {
        b = b.remote_public_key(rs).unwrap();
    }
    if initiator {
        b.build_initiator().unwrap()
    } else {
        b.build_responder().unwrap()
    }
}

fn snow_write(hs: &mut HandshakeState, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; payload.len() + 128];
    let n = hs.write_message(payload, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn snow_read(hs: &mut HandshakeState, message: &[u8]) -> Result<Vec<u8>, snow::Error> {
    let mut buf = vec![0u8; message.len()];
    let n = hs.read_message(message, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

fn snow_hash(hs: &HandshakeState) -> [u8; 32] {
    hs.get_handshake_hash().try_into().unwrap()
}

// ----- edits -----

/// Applies edits `[op, pos_hi, pos_lo, value]` to `msg`; `e_at` is where
/// the Noise message's `e` starts.
fn edit(msg: &[u8], edits: &[[u8; 4]], e_at: usize) -> Vec<u8> {
    let mut m = msg.to_vec();
    for &[op, hi, lo, v] in edits {
        let pos = usize::from(u16::from_be_bytes([hi, lo]));
        match op % 7 {
            0 if !m.is_empty() => {
                let i = pos % m.len();
                m[i] ^= 1 << (v % 8);
            }
            1 if !m.is_empty() => {
                let i = pos % m.len();
                m[i] = v;
            }
            2 => m.truncate(pos % (m.len() + 1)),
            3 => m.extend(std::iter::repeat_n(lo, usize::from(v))),
            4 => {
                let i = pos % (m.len() + 1);
                m.insert(i, v);
            }
            5 if !m.is_empty() => {
                m.remove(pos % m.len());
            }
            6 => {
                let point = spec::LOW_ORDER_POINTS[usize::from(v) % spec::LOW_ORDER_POINTS.len()];
                for (i, b) in point.iter().enumerate() {
                    if let Some(x) = m.get_mut(e_at + i) {
                        *x = *b;
                    }
                }
            }
            _ => {}
        }
    }
    m
}

// ----- verdicts -----

/// Checks lwsec's verdict on a Noise handshake message against snow's (the
/// rule in the module documentation). `too_short`: the message cannot hold
/// its keys and tag. `low_order_possible`: some key in the message may
/// give an all-zero DH with the reader's keys; `low_order_certain`: one
/// does (needs snow's decryption, so it is asked only when snow accepts).
/// Both are asked only when needed: X25519 is most of an input's cost.
/// `payload_rule`: the reference's lwsec-level verdict on the payload.
/// Returns whether both accepted.
fn check_verdict(
    what: &str,
    lwsec: &Result<(), Error>,
    snow: &Result<Vec<u8>, snow::Error>,
    too_short: bool,
    low_order_possible: impl FnOnce() -> bool,
    low_order_certain: impl FnOnce() -> bool,
    payload_rule: impl FnOnce(&[u8]) -> Result<(), u8>,
) -> bool {
    // Too short for its keys and tag: decode_error before any DH (spec 4.6).
    if too_short {
        assert!(
            matches!(lwsec, Err(Error::Decode(_))),
            "{what}: too short for its keys and tag, lwsec: {lwsec:?} (snow: {snow:?})"
        );
        assert!(snow.is_err(), "{what}: snow accepts a message that short");
        return false;
    }
    match (snow, lwsec) {
        (Err(s), Ok(())) => panic!("{what}: snow rejects ({s:?}), lwsec accepts"),
        (Err(s), Err(e)) => {
            let allowed = *e == Error::HandshakeDecrypt
                || (*e == Error::LowOrderPoint && low_order_possible());
            assert!(
                allowed,
                "{what}: snow rejects ({s:?}), lwsec fails with {e:?}"
            );
            false
        }
        (Ok(payload), lwsec) => {
            if low_order_certain() {
                assert_eq!(
                    lwsec,
                    &Err(Error::LowOrderPoint),
                    "{what}: a key gives an all-zero DH (snow accepts)"
                );
                return false;
            }
            match (payload_rule(payload), lwsec) {
                (Ok(()), Ok(())) => true,
                (Ok(()), Err(e)) => {
                    panic!("{what}: snow accepts, the payload is valid, lwsec fails with {e:?}")
                }
                (Err(alert), Ok(())) => {
                    panic!("{what}: lwsec accepts a payload the reference refuses (alert {alert})")
                }
                (Err(alert), Err(e)) => {
                    assert!(
                        !matches!(e, Error::HandshakeDecrypt | Error::LowOrderPoint),
                        "{what}: snow accepts, lwsec fails with {e:?}"
                    );
                    assert_eq!(
                        e.alert().map(|a| a.to_u8()),
                        Some(alert),
                        "{what}: lwsec refuses the payload with {e:?}"
                    );
                    false
                }
            }
        }
    }
}

/// A failed connection queued exactly its error's cleartext alert.
fn assert_alert_sent(conn: &Connection, e: &Error) {
    let expected = e
        .alert()
        .map(|a| spec::frame(spec::FRAME_ALERT, &[a.to_u8()]))
        .unwrap_or_default();
    assert_eq!(conn.pending_output(), expected, "alert for {e:?}");
}

fn take_output(conn: &mut Connection) -> Vec<u8> {
    let out = conn.pending_output().to_vec();
    conn.consume_output(out.len());
    out
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// Checks a connection's keys against the reference key schedule applied
/// to snow's `Split()` and handshake hash.
fn check_secrets(
    conn: &Connection,
    side: Side,
    suite: u8,
    split: &([u8; 32], [u8; 32]),
    h: &[u8; 32],
) {
    assert_eq!(conn.handshake_hash(), Some(*h), "{side:?}: handshake hash");
    let s = spec::key_schedule(&split.0, &split.1, h);
    let (send, recv) = match side {
        Side::Client => (s.c2s, s.s2c),
        Side::Server => (s.s2c, s.c2s),
    };
    let got = conn
        .dangerous_peek_secrets()
        .expect("established connection");
    for (what, d, secret) in [("send", &got.send, send), ("recv", &got.recv, recv)] {
        let want = spec::Direction::new(suite, secret);
        assert_eq!(*d.secret, want.secret, "{side:?} {what} secret");
        assert_eq!(*d.key, want.key, "{side:?} {what} key");
        assert_eq!(d.iv, want.iv, "{side:?} {what} iv");
    }
    let mut out = [0u8; 40];
    conn.export_keying_material(b"diff", b"context", &mut out)
        .unwrap();
    assert_eq!(
        Some(out.to_vec()),
        spec::export(&s.exporter, b"diff", b"context", 40),
        "{side:?}: exporter"
    );
}

// ----- the run -----

impl Case {
    fn ik(&self) -> bool {
        self.pattern == Pattern::Ik
    }

    fn pattern_code(&self) -> u8 {
        if self.ik() { spec::IK } else { spec::NK }
    }

    fn client_now(&self) -> u64 {
        SERVER_NOW.wrapping_add_signed(i64::from(self.client_offset))
    }

    fn lwsec_client(&self) -> Connection {
        let server_key = PublicKey::from_bytes(self.server_public);
        let device = StaticKeyPair::from_private_bytes(self.client_static);
        assert_eq!(
            device.public_key().as_bytes(),
            &spec::public_key(&self.client_static)
        );
        let mut cfg = match self.pattern {
            Pattern::Ik => ClientConfig::ik(server_key, device),
            _ => ClientConfig::nk(server_key),
        };
        cfg.suites = self.client_suites.clone();
        cfg.rng = Arc::new(ReplayRandom::new(
            &[self.client_e1, self.client_e2].concat(),
        ));
        let cfg = Arc::new(cfg);
        let now = Time::from_millis(self.client_now());
        match &self.early_data {
            Some(data) => Connection::client_with_replayable_early_data(cfg, now, data),
            None => Connection::client(cfg, now),
        }
        .unwrap()
    }

    /// The lwsec server and its randomness (its ephemeral key only).
    fn lwsec_server(&self) -> (Connection, Arc<ReplayRandom>) {
        let key = StaticKeyPair::from_private_bytes(self.server_static);
        assert_eq!(key.public_key().as_bytes(), &self.server_public);
        let mut cfg = ServerConfig::new(key);
        cfg.suites = self.server_suites.clone();
        let rng = Arc::new(ReplayRandom::new(&self.server_e));
        cfg.rng = rng.clone();
        cfg.set_cookie_secret(COOKIE_SECRET);
        if self.server_accepts_early_data {
            cfg.enable_replayable_early_data(Duration::from_millis(WINDOW_MS));
        }
        let options =
            ServerOptions::for_peer_address(PEER_ADDRESS).with_cookie_demanded(self.demand_cookie);
        let server =
            Connection::server_with_options(Arc::new(cfg), Time::from_millis(SERVER_NOW), options)
                .unwrap();
        (server, rng)
    }

    /// The reference's view of a first flight the server decides on
    /// (spec 4.3 step 8): `h` its header, `e` and `rs` the ephemeral and
    /// (IK) static keys snow read, `offer` the early data it carries. The
    /// connection's own early-data checks in the order of spec 4.9.
    fn check_view(
        &self,
        view: &ClientHello,
        h: &Header,
        e: &[u8],
        rs: Option<&[u8]>,
        offer: Option<&(u64, Vec<u8>)>,
    ) {
        assert_eq!(view.pattern().to_u8(), h.pattern, "view: pattern");
        assert_eq!(view.suite().to_u8(), h.suite, "view: suite");
        assert_eq!(view.server_key_id(), h.key_id, "view: key id");
        assert_eq!(
            view.claimed_client_key().map(|k| k.as_bytes().to_vec()),
            rs.map(<[u8]>::to_vec),
            "view: claimed client key"
        );
        assert_eq!(view.peer_address(), PEER_ADDRESS, "view: peer address");
        assert_eq!(view.retry_echoed(), !h.retry.is_empty(), "view: Retry echo");
        match (view.early_data(), offer) {
            (None, None) => {}
            (Some(o), Some((t, data))) => {
                assert_eq!(o.len(), data.len(), "view: early data length");
                assert_eq!(o.timestamp().as_millis(), *t, "view: timestamp");
                assert_eq!(&o.flight_id()[..], e, "view: flight id");
                assert_eq!(
                    o.device().map(|k| k.as_bytes().to_vec()),
                    rs.map(<[u8]>::to_vec),
                    "view: device"
                );
                if self.server_accepts_early_data {
                    assert_eq!(o.window(), Duration::from_millis(WINDOW_MS), "view: window");
                }
                let refused = if !self.server_accepts_early_data {
                    Some(EarlyDataRefusal::NotEnabled)
                } else if !h.retry.is_empty() {
                    Some(EarlyDataRefusal::AfterRetry)
                } else if !spec::early_data_fresh(*t, SERVER_NOW, WINDOW_MS) {
                    Some(EarlyDataRefusal::OutsideWindow)
                } else {
                    None
                };
                assert_eq!(o.refused(), refused, "view: early data refusal");
            }
            (v, o) => panic!("view: early data {v:?}, the reference: {o:?}"),
        }
    }

    /// A snow initiator with this case's keys; `low_order` replaces its
    /// ephemeral or static key.
    fn snow_initiator(&self, header: &Header, e: &[u8; 32], low_order: LowOrder) -> HandshakeState {
        let prologue = spec::prologue(&header.encode());
        let s = self.ik().then_some(&self.client_static);
        let (s, e, lo) = match low_order {
            LowOrder::ClientE => (s, &MARK_E, Some((MARK_E, self.point))),
            LowOrder::ClientS => (Some(&MARK_S), e, Some((MARK_S, self.point))),
            _ => (s, e, None),
        };
        snow_state(
            true,
            header.pattern,
            header.suite,
            &prologue,
            s,
            Some(&self.server_public),
            e,
            lo,
        )
    }

    /// A snow responder with this case's keys for a ClientHello with
    /// `header` (its exact bytes); `low_order` replaces its ephemeral key.
    fn snow_responder(
        &self,
        header: &Header,
        header_bytes: &[u8],
        low_order: bool,
    ) -> HandshakeState {
        let (e, lo) = if low_order {
            (&MARK_E, Some((MARK_E, self.point)))
        } else {
            (&self.server_e, None)
        };
        snow_state(
            false,
            header.pattern,
            header.suite,
            &spec::prologue(header_bytes),
            Some(&self.server_static),
            None,
            e,
            lo,
        )
    }

    /// Checks that `hello` is the spec's header and snow's message 1 for
    /// `payload`; returns the snow initiator that wrote it.
    fn check_client_hello(
        &self,
        hello: &[u8],
        header: &Header,
        e: &[u8; 32],
        payload: &[u8],
    ) -> HandshakeState {
        let header_bytes = header.encode();
        let (ty, body, rest) = spec::split_frame(hello).expect("a whole frame");
        assert_eq!((ty, rest), (spec::FRAME_CLIENT_HELLO, &[][..]));
        assert_eq!(
            &body[..header_bytes.len().min(body.len())],
            &header_bytes[..],
            "ClientHello header differs from the spec's"
        );
        let mut si = self.snow_initiator(header, e, LowOrder::None);
        let m1 = snow_write(&mut si, payload);
        assert!(
            body[header_bytes.len()..] == m1[..],
            "Noise message 1 differs from snow's"
        );
        si
    }

    /// Whether a server given this (edited) header reaches Noise
    /// `ReadMessage` (spec 4.3 steps 2 to 6); `honest` is the header the
    /// client sent (its Retry echo carries the server's cookie).
    fn reaches_noise(&self, h: &Header, honest: &Header) -> bool {
        let accepted: Vec<u8> = self.server_suites.iter().map(|s| s.to_u8()).collect();
        let selected = h.suites.iter().copied().find(|c| accepted.contains(c));
        let known = (h.pattern == spec::NK || h.pattern == spec::IK)
            && h.key_id == spec::key_id(&self.server_public)
            && selected == Some(h.suite);
        if !known {
            return false;
        }
        if h.retry.is_empty() {
            return !self.demand_cookie;
        }
        let cookie = &h.retry[2..];
        h.retry[0] == h.suite
            && if cookie.is_empty() {
                !self.demand_cookie
            } else {
                honest.retry.get(2..) == Some(cookie)
            }
    }

    fn run(&self) -> Outcome {
        let mut outcome = Outcome::default();
        let server_now = Time::from_millis(SERVER_NOW);
        let client_now = Time::from_millis(self.client_now());
        let mut client = self.lwsec_client();
        let (mut server, server_rng) = self.lwsec_server();

        // The first ClientHello.
        let offered: Vec<u8> = self.client_suites.iter().map(|s| s.to_u8()).collect();
        let mut header = Header {
            pattern: self.pattern_code(),
            suite: offered[0],
            suites: offered.clone(),
            key_id: spec::key_id(&self.server_public),
            flags: u8::from(self.early_data.is_some()),
            retry: Vec::new(),
            ticket: Vec::new(),
        };
        let mut payload1 = match &self.early_data {
            Some(data) => spec::early_data_payload(self.client_now(), data),
            None => Vec::new(),
        };
        let mut e = self.client_e1;
        let mut hello = take_output(&mut client);
        let mut si = self.check_client_hello(&hello, &header, &e, &payload1);

        // Suite selection, Retry (spec 4.3 steps 4 to 6, 4.5).
        let accepted: Vec<u8> = self.server_suites.iter().map(|s| s.to_u8()).collect();
        let Some(selected) = offered.iter().copied().find(|c| accepted.contains(c)) else {
            let r = peers::server_read_client_hello(&mut server, &hello, server_now);
            assert_eq!(r, Err(Error::NoCommonSuite));
            assert_alert_sent(&server, &Error::NoCommonSuite);
            outcome.message1 = Some(Err(Error::NoCommonSuite));
            return outcome;
        };
        if selected != offered[0] || self.demand_cookie {
            let reply =
                peers::server_read_client_hello(&mut server, &hello, server_now).expect("a Retry");
            let (ty, retry, rest) = spec::split_frame(&reply).expect("a whole frame");
            assert_eq!((ty, rest), (spec::FRAME_RETRY, &[][..]));
            assert_eq!(retry[0], selected, "the Retry names the selected suite");
            assert_eq!(retry.len(), 2 + usize::from(retry[1]));
            assert_eq!(
                usize::from(retry[1]),
                if self.demand_cookie { 24 } else { 0 }
            );
            assert!(!peers::server_is_established(&server));
            outcome.retry = true;
            assert_eq!(client.handle_input(&reply, client_now), Ok(reply.len()));
            header.suite = selected;
            header.retry = retry.to_vec();
            // Never early data after a Retry (spec 4.9): the client drops it.
            header.flags = 0;
            payload1 = Vec::new();
            e = self.client_e2;
            hello = take_output(&mut client);
            si = self.check_client_hello(&hello, &header, &e, &payload1);
        }
        let header_bytes = header.encode();
        let (_, honest_body, _) = spec::split_frame(&hello).unwrap();

        // Message 1, as lwsec wrote it or from a snow initiator.
        let client_low_order = matches!(self.low_order, LowOrder::ClientE | LowOrder::ClientS);
        let m1_payload = if self.custom && self.target == Target::Message1 {
            self.custom_payload.clone()
        } else {
            payload1.clone()
        };
        let custom_m1 = self.custom && self.target == Target::Message1;
        let body = if client_low_order || m1_payload != payload1 || custom_m1 {
            let mut h = header.clone();
            if custom_m1 && self.custom_early_flag {
                h.flags |= 1;
            }
            let mut writer = self.snow_initiator(&h, &e, self.low_order);
            [h.encode(), snow_write(&mut writer, &m1_payload)].concat()
        } else {
            honest_body.to_vec()
        };
        let body1 = if self.target == Target::Message1 {
            edit(&body, &self.edits, header_bytes.len())
        } else {
            body.clone()
        };
        // The decision: a fresh replay guard, asked only when the offer
        // needs it (start far in the past, so the start rule passes).
        let mut view = None;
        let lwsec1 = peers::server_read_client_hello_with(
            &mut server,
            &spec::frame(spec::FRAME_CLIENT_HELLO, &body1),
            server_now,
            |hello| {
                assert_eq!(
                    server_rng.remaining(),
                    32,
                    "randomness drawn before the decision"
                );
                view = Some(hello.clone());
                let fresh = hello.early_data().is_some_and(|offer| {
                    offer.needs_replay_check()
                        && StrikeRegister::new(16, Time::from_millis(0)).check(offer, server_now)
                });
                Ok(Acceptance::new().with_fresh_early_data(fresh))
            },
        );
        if lwsec1.is_err() {
            assert_eq!(
                server_rng.remaining(),
                32,
                "a refused flight drew randomness"
            );
        }
        outcome.message1 = Some(lwsec1.as_ref().map(|_| ()).map_err(Clone::clone));
        if body1.len() > spec::MAX_CLIENT_HELLO_BODY {
            assert_eq!(lwsec1, Err(Error::RecordOverflow));
            return outcome;
        }
        let header1 = Header::parse(&body1);
        // A resumption header (pattern 0x03, spec 4.11) to this server,
        // which has no ticket keys, is answered with ResumeRefused.
        let resumption = header1
            .as_ref()
            .is_some_and(|(h, _)| h.pattern == spec::RESUME);
        let parsed = header1.filter(|(h, _)| self.reaches_noise(h, &header));
        let Some((h1, h1_len)) = parsed else {
            // Refused before Noise, or answered with a Retry (or, for a
            // resumption, a ResumeRefused).
            assert!(!peers::server_is_established(&server));
            match &lwsec1 {
                // Step 4a comes before the Retry checks.
                Ok(reply) if resumption => assert_eq!(
                    reply[..],
                    [spec::FRAME_RESUME_REFUSED, 0, 0],
                    "a resumption flight"
                ),
                Ok(reply) => assert_eq!(reply.first(), Some(&spec::FRAME_RETRY)),
                Err(e) => {
                    assert!(
                        !matches!(e, Error::HandshakeDecrypt | Error::LowOrderPoint),
                        "header refused by the reference, lwsec fails in Noise: {e:?}"
                    );
                    assert_alert_sent(&server, e);
                }
            }
            return outcome;
        };
        let noise1 = &body1[h1_len..];
        let ik1 = h1.pattern == spec::IK;
        let mut sr = self.snow_responder(&h1, &body1[..h1_len], false);
        let snow1 = snow_read(&mut sr, noise1);
        let low_e = || {
            noise1.len() >= 32
                && spec::dh_is_zero(&self.server_static, noise1[..32].try_into().unwrap())
        };
        let both = check_verdict(
            "message 1",
            &lwsec1.as_ref().map(|_| ()).map_err(Clone::clone),
            &snow1,
            noise1.len() < if ik1 { 96 } else { 48 },
            || self.low_order == LowOrder::ClientS || low_e(),
            || {
                low_e()
                    || sr.get_remote_static().is_some_and(|rs| {
                        spec::dh_is_zero(&self.server_static, rs.try_into().unwrap())
                    })
            },
            |p| spec::check_client_payload(p, h1.flags).map(|_| ()),
        );
        if !both {
            if let Err(e) = &lwsec1 {
                assert_alert_sent(&server, e);
            }
            assert!(view.is_none(), "a refused flight reached the decision");
            return outcome;
        }
        assert_eq!(body1, body, "both accept an edited message 1");

        // The decision point's view, then the ServerHello: snow's message 2
        // with the reference's payload (spec 4.9: enabled, no Retry echo,
        // within the window, fresh to a new guard).
        let snow_payload1 = snow1.unwrap();
        let offer = spec::check_client_payload(&snow_payload1, h1.flags).unwrap();
        self.check_view(
            view.as_ref().expect("the server decided"),
            &h1,
            &noise1[..32],
            sr.get_remote_static(),
            offer.as_ref(),
        );
        assert_eq!(server_rng.remaining(), 0, "the ephemeral key at acceptance");
        assert!(server.is_awaiting_confirmation() && !server.is_established());
        let status = offer.as_ref().map(|(t, _)| {
            self.server_accepts_early_data
                && h1.retry.is_empty()
                && spec::early_data_fresh(*t, SERVER_NOW, WINDOW_MS)
        });
        let payload2 = spec::server_payload(status);
        let reply = lwsec1.unwrap();
        let (ty, m2_lwsec, rest) = spec::split_frame(&reply).expect("a whole frame");
        assert_eq!((ty, rest), (spec::FRAME_SERVER_HELLO, &[][..]));
        let m2_snow = snow_write(&mut sr, &payload2);
        assert!(
            m2_lwsec == m2_snow,
            "ServerHello differs from snow's message 2"
        );
        let client_static_seen = sr.get_remote_static().map(|k| k.to_vec());
        let expect_early = match (&offer, status) {
            (Some((_, data)), Some(true)) => Some(data.clone()),
            _ => None,
        };
        let suite = h1.suite;
        let server_result = (snow_hash(&sr), sr.dangerously_get_raw_split());

        // Message 2 to the lwsec client, when it wrote message 1.
        let mut server_finished = false;
        if body1 == honest_body {
            let m2_source = if self.low_order == LowOrder::ServerE
                || (self.custom && self.target == Target::Message2)
            {
                let mut writer =
                    self.snow_responder(&h1, &header_bytes, self.low_order == LowOrder::ServerE);
                snow_read(&mut writer, noise1).unwrap();
                let p = if self.custom && self.target == Target::Message2 {
                    &self.custom_payload
                } else {
                    &payload2
                };
                snow_write(&mut writer, p)
            } else {
                m2_lwsec.to_vec()
            };
            let m2 = if self.target == Target::Message2 {
                edit(&m2_source, &self.edits, 0)
            } else {
                m2_source
            };
            let lwsec2 = client
                .handle_input(&spec::frame(spec::FRAME_SERVER_HELLO, &m2), client_now)
                .map(|_| ());
            outcome.message2 = Some(lwsec2.clone());
            if m2.len() > spec::MAX_HANDSHAKE_BODY {
                assert_eq!(lwsec2, Err(Error::RecordOverflow));
            } else {
                let snow2 = snow_read(&mut si, &m2);
                let low = || {
                    m2.len() >= 32 && {
                        let re: [u8; 32] = m2[..32].try_into().unwrap();
                        spec::dh_is_zero(&e, &re)
                            || (self.ik() && spec::dh_is_zero(&self.client_static, &re))
                    }
                };
                // The ClientHello that reached the server carried early data.
                let offered_early = self.early_data.is_some() && !outcome.retry;
                let both =
                    check_verdict("message 2", &lwsec2, &snow2, m2.len() < 48, low, low, |p| {
                        spec::check_server_payload(p, offered_early).map(|_| ())
                    });
                if both {
                    let split = si.dangerously_get_raw_split();
                    check_secrets(&client, Side::Client, suite, &split, &snow_hash(&si));
                    assert_eq!(
                        client.peer_static_key(),
                        Some(PublicKey::from_bytes(self.server_public))
                    );
                    let (status, announced) =
                        spec::check_server_payload(&snow2.unwrap(), offered_early).unwrap();
                    let mut expected = vec![Event::HandshakeComplete];
                    match status {
                        Some(1) => expected.push(Event::EarlyDataAccepted),
                        Some(_) => expected.push(Event::EarlyDataRejected),
                        // Dropped at the Retry.
                        None if self.early_data.is_some() => {
                            expected.push(Event::EarlyDataRejected)
                        }
                        None => {}
                    }
                    if let Some(keys) = announced {
                        let keys = keys.into_iter().map(PublicKey::from_bytes).collect();
                        expected.push(Event::ServerKeysAnnounced(keys));
                    }
                    assert_eq!(events(&mut client), expected);
                    // The key confirmation: `confirm`, empty, c2s seq 0
                    // (spec 4.10), the client's only output.
                    let c2s = spec::key_schedule(&split.0, &split.1, &snow_hash(&si)).c2s;
                    let confirm = spec::Direction::new(suite, c2s).seal(spec::CT_CONFIRM, &[], 1);
                    assert!(
                        client.pending_output() == confirm,
                        "the client's confirm record differs from the reference's"
                    );
                    if m2 == m2_lwsec {
                        peers::server_finish(&mut server, &mut client, server_now).unwrap();
                        server_finished = true;
                    }
                } else if let Err(e) = &lwsec2 {
                    assert_alert_sent(&client, e);
                }
            }
        }

        // Otherwise the server finishes with a snow initiator that wrote
        // the same message 1 and reads the server's message 2.
        if !server_finished {
            let mut writer = self.snow_initiator(&h1, &e, LowOrder::None);
            assert!(snow_write(&mut writer, &m1_payload) == noise1);
            assert_eq!(snow_read(&mut writer, m2_lwsec).unwrap(), payload2);
            let hash = snow_hash(&writer);
            let (k1, k2) = writer.dangerously_get_raw_split();
            let split = NoiseSplit::new(
                Side::Client,
                self.pattern,
                Suite::from_u8(suite).unwrap(),
                &k1,
                &k2,
                hash,
            )
            .with_peer_static(PublicKey::from_bytes(self.server_public));
            let mut peer = Connection::dangerous_from_noise_split(
                split,
                TransportConfig::default(),
                client_now,
            )
            .unwrap();
            // Nothing but the confirmation authenticates the client.
            assert!(!peers::server_is_established(&server));
            assert_eq!(server.peer_static_key(), None);
            peers::server_finish(&mut server, &mut peer, server_now).unwrap();
        }
        assert!(peers::server_is_established(&server));
        let (hash, split) = server_result;
        check_secrets(&server, Side::Server, suite, &split, &hash);
        assert_eq!(
            server.peer_static_key().map(|k| k.as_bytes().to_vec()),
            client_static_seen
        );
        // Decision, early data when accepted, then the confirmation.
        let mut expected = vec![Event::ClientHello];
        expected.extend(expect_early.map(|d| Event::EarlyData(d.into())));
        expected.push(Event::HandshakeComplete);
        assert_eq!(events(&mut server), expected, "server events");
        outcome.server_established = true;
        outcome
    }
}

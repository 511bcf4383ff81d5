//! # lwsec: a secure transport for instant messaging
//!
//! lwsec gives IM clients and servers an authenticated, encrypted, message-
//! oriented channel over any byte stream:
//!
//! * a **Noise** handshake (`NK`: server authenticated by a pinned key;
//!   `IK`: both sides authenticated, the client by a device key), X25519,
//!   SHA-256, in one round trip, interoperable with any Noise implementation;
//! * **TLS 1.3-style records** with AES-256-GCM or ChaCha20-Poly1305,
//!   key update, padding, keep-alive and graceful close;
//! * **messages** whose boundaries survive the trip, up to a configured size.
//!
//! The core is **sans-IO**: a [`Connection`] takes bytes, time and randomness
//! as inputs and hands back bytes to send, events and messages. The wire
//! format is specified in `spec/PROTOCOL.md`.
//!
//! Two thin adapters do the I/O for you: [`blocking`] (`std::io::Read` and
//! `Write` plus a message API) and `lwsec::tokio` (feature `tokio`, on by
//! default: `AsyncRead`/`AsyncWrite`, a `Stream + Sink` of messages, timers).
//! Key files are read and written with [`StaticKeyPair::load`],
//! [`PublicKey::load`] and [`keys::load_pinned_keys`].
//!
//! ```
//! use std::sync::Arc;
//! use lwsec::{Acceptance, ClientConfig, Connection, ServerConfig, StaticKeyPair, Time, rng::OsRandom};
//!
//! let server_key = StaticKeyPair::generate(&OsRandom)?;
//! let device_key = StaticKeyPair::generate(&OsRandom)?;
//! let client_cfg = Arc::new(ClientConfig::ik(server_key.public_key(), device_key.clone()));
//! let server_cfg = Arc::new(ServerConfig::new(server_key));
//! let now = Time::from_millis(0);
//! let mut client = Connection::client(client_cfg, now)?;
//! let mut server = Connection::server(server_cfg, now)?;
//!
//! // ClientHello; the server decides on what it claims; ServerHello.
//! let n = server.handle_input(client.pending_output(), now)?;
//! client.consume_output(n);
//! let claimed = server.client_hello().and_then(|h| h.claimed_client_key());
//! assert_eq!(claimed, Some(device_key.public_key()));
//! server.accept_client(Acceptance::new(), now)?;
//! let n = client.handle_input(server.pending_output(), now)?;
//! server.consume_output(n);
//! // The client's key confirmation: only now is the device authenticated.
//! let n = server.handle_input(client.pending_output(), now)?;
//! client.consume_output(n);
//! assert_eq!(server.peer_static_key(), Some(device_key.public_key()));
//!
//! server.send_message(b"welcome")?;
//! let n = client.handle_input(server.pending_output(), now)?;
//! server.consume_output(n);
//! assert_eq!(client.recv_message().as_deref(), Some(&b"welcome"[..]));
//! # Ok::<(), lwsec::Error>(())
//! ```
//!
//! # Architecture
//!
//! Modules form layers; a module imports only from its own layer or the
//! layers below it, and never in a cycle (`tests/architecture.rs` checks
//! it):
//!
//! 0. `error`, `time`, `suite`: errors and alert codes, time as an input, suites and patterns.
//! 1. `wire`, `crypto`, `rng`: the bytes on the wire and their limits; the crypto provider boundary; randomness.
//! 2. `record`, `noise`, `key_schedule`, `cookie`, `ticket`, `keys`: record protection, the Noise handshake state, key derivation, Retry cookies, resumption tickets, the key text format.
//! 3. `config`: client, server and transport settings.
//! 4. `conn`: the sans-IO [`Connection`] state machine.
//! 5. `early_data`, `adapter`: the replay guard's strike register; what the adapters share.
//! 6. `blocking`, `tokio`: the adapters.
//! 7. `ffi`: the C API.
//!
//! # Public API
//!
//! Every public item has one path:
//!
//! * the root: [`Connection`] and what it takes and returns ([`Side`],
//!   [`Event`], [`ClientHello`], [`EarlyDataOffer`], [`EarlyDataRefusal`],
//!   [`Acceptance`], [`Identity`], [`Rejection`], [`ExtractedSecrets`],
//!   [`DirectionSecrets`]), its configuration ([`ClientConfig`],
//!   [`ServerConfig`], [`ServerOptions`], [`TransportConfig`], [`Padding`]
//!   and the `DEFAULT_*` values), keys ([`StaticKeyPair`], [`PublicKey`]),
//!   [`Pattern`], [`Suite`], [`Time`], errors ([`Error`], [`AlertCode`],
//!   [`Limit`], and the reasons [`DecodeReason`], [`UnexpectedReason`],
//!   [`IllegalReason`], [`CookieReason`]) and the size limits ([`MAX_FRAGMENT_LEN`],
//!   [`MAX_RECORD_LEN`], [`MAX_IDENTITY_LEN`], [`MAX_PING_LEN`]);
//! * [`keys`]: the key text format and pinned-key files;
//! * [`rng`]: [`rng::SecureRandom`] and [`rng::OsRandom`];
//! * [`crypto`]: the two providers and their (sealed) primitive traits;
//! * [`early_data`]: the replay guard's [`early_data::StrikeRegister`] and
//!   the early-data limits;
//! * [`blocking`] and `tokio` (feature `tokio`): the adapters;
//! * `ffi` (feature `ffi`): the C API (`include/lwsec.h`).
//!
//! The feature `dangerous` adds hooks for tests, known-answer vectors and
//! interoperability that production code must not need:
//! `rng::DeterministicRandom`, `noise_protocol_name`, `NoiseSplit` with
//! `Connection::dangerous_from_noise_split`, and
//! `Connection::dangerous_peek_secrets`.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::panic
    )
)]

mod adapter;
pub mod blocking;
mod config;
mod conn;
mod cookie;
pub mod crypto;
pub mod early_data;
mod error;
#[cfg(feature = "ffi")]
#[cfg_attr(docsrs, doc(cfg(feature = "ffi")))]
#[allow(unsafe_code)]
pub mod ffi;
mod key_schedule;
pub mod keys;
mod noise;
mod record;
#[path = "crypto/rng.rs"]
pub mod rng;
mod suite;
mod ticket;
mod time;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;
#[cfg(test)]
mod vector_files;
mod wire;

pub use adapter::observe::AcceptorMetrics;
pub use config::{
    ClientConfig, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_KEY_UPDATE_AFTER_RECORDS,
    DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_PARTIAL_MESSAGE_TIMEOUT, DEFAULT_SERVER_IDLE_TIMEOUT,
    DEFAULT_SERVER_KEEPALIVE_INTERVAL, DEFAULT_TICKET_LIFETIME, ServerConfig, ServerOptions,
    TransportConfig,
};
pub use conn::{
    Acceptance, ClientHello, Connection, DirectionSecrets, EarlyDataOffer, EarlyDataRefusal, Event,
    ExtractedSecrets, Identity, MAX_IDENTITY_LEN, MAX_PING_LEN, Resumption, Side,
};
pub use crypto::dh::{PublicKey, StaticKeyPair};
pub use error::{
    AlertCode, CookieReason, DecodeReason, Error, IllegalReason, Limit, Rejection, UnexpectedReason,
};
pub use record::Padding;
pub use suite::{Pattern, Suite};
pub use ticket::{
    MAX_PREVIOUS_TICKET_KEYS, MAX_TICKET_LIFETIME, ResumptionTicket, TicketKeyring, TicketKeys,
    TicketRefusal,
};
pub use time::Time;
pub use wire::limits::{MAX_FRAGMENT_LEN, MAX_RECORD_LEN};
#[cfg(feature = "dangerous")]
#[cfg_attr(docsrs, doc(cfg(feature = "dangerous")))]
pub use {conn::NoiseSplit, suite::noise_protocol_name};

/// The README's code examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

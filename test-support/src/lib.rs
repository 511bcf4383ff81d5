//! Test support for lwsec, shared by its integration tests, its examples
//! and its fuzz targets (`fuzz/`). Not published.
//!
//! | module | holds | used by |
//! | --- | --- | --- |
//! | `vectors` (feature `vectors`) | the model and generators of lwsec's own known-answer vectors, `test-vectors/*.json` | `tests/vectors.rs`, `examples/gen_vectors.rs` |
//! | [`peers`] | fixed keys and configurations, connection pairs, and the functions that drive an lwsec server through its handshake | the fuzz targets, `tests/fuzz_corpus.rs`, `tests/properties.rs`, `tests/resource_bounds.rs` |
//! | [`honest`] | honest senders and a receive loop that checks what a connection delivers | the same |
//! | [`fuzz_input`] | a fuzz input read as a sequence of choices | the fuzz targets |
//! | [`spec_reference`] | the spec written with the raw primitives, without lwsec | the differential fuzz targets |
//! | [`replay_random`] | randomness that yields recorded bytes (exact ephemeral keys) | all of the above |
//! | [`redis_server`] | a private `redis-server` a test can pause and stop | `tests/redis_replay.rs`, `tests/redis_ticket_keys.rs` |
//!
//! The crate depends on lwsec without default features, so that every user
//! picks lwsec's features itself; the fuzz crate leaves the `vectors`
//! feature (serde, snow) out.

pub mod fuzz_input;
pub mod honest;
pub mod peers;
pub mod redis_server;
pub mod replay_random;
pub mod spec_reference;
#[cfg(feature = "vectors")]
pub mod vectors;

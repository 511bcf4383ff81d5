//! The narrow boundary to the cryptographic primitives.
//!
//! Everything lwsec computes goes through this module: X25519 ([`dh`]),
//! AEAD ([`aead`]), SHA-256 and HKDF ([`hash`]) and randomness ([`rng`]).
//! No primitive is implemented here; each wraps an audited crate
//! (`x25519-dalek`, `aes-gcm`, `chacha20poly1305`, `sha2`, `hkdf`).

pub(crate) mod aead;
pub(crate) mod dh;
pub(crate) mod hash;
pub mod rng;
#[cfg(test)]
mod vector_tests;

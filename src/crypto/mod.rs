//! The narrow boundary to the cryptographic primitives.
//!
//! Everything lwsec computes goes through a [`CryptoProvider`]: X25519
//! ([`KeyExchange`], [`AgreementKey`]), AEAD sealing and opening in place ([`AeadAlgorithm`],
//! [`Aead`]), SHA-256 and HKDF ([`Hash`]). Randomness is the separate
//! [`rng::SecureRandom`] input. No primitive is implemented here; each
//! provider wraps audited crates:
//!
//! * [`RUST_CRYPTO`] (default): `x25519-dalek`, `aes-gcm`, `chacha20poly1305`,
//!   `sha2`, `hkdf` — pure Rust, portable, no C toolchain.
//! * [`AWS_LC`] (feature `aws-lc`): `aws-lc-rs` — faster X25519 and AEAD on
//!   servers (assembly), needs a C compiler to build.
//!
//! Select one per configuration (`ClientConfig::provider`,
//! `ServerConfig::provider`); peers using different providers interoperate.
//! The methods here are also the raw primitives that conformance tests and
//! benchmarks compare lwsec against. The traits are sealed and
//! [`CryptoProvider`] cannot be built outside lwsec: a provider is part of
//! what lwsec vouches for (constant-time comparisons, zeroized keys, the
//! all-zero X25519 check), so the set is closed.

pub(crate) mod aead;
#[cfg(feature = "aws-lc")]
mod aws_lc;
pub(crate) mod dh;
pub(crate) mod hash;
pub(crate) use crate::rng;
mod rust_crypto;
#[cfg(test)]
mod vector_tests;

use std::fmt;

use zeroize::Zeroizing;

use crate::error::Error;
use crate::suite::Suite;

/// The provider traits are sealed: lwsec's guarantees (constant-time
/// checks, keys wiped on drop, the all-zero X25519 check) are properties of
/// the two providers it ships, so only they implement them. Call their
/// methods freely, e.g. as the raw primitives a benchmark compares with.
mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// X25519 (RFC 7748). Sealed (see the module docs).
pub trait KeyExchange: Send + Sync + Sealed {
    /// Parses a 32-byte private key (clamped as X25519 requires) once, for
    /// its public key and any number of agreements.
    fn private_key(&self, private: &[u8; 32]) -> Result<Box<dyn AgreementKey>, Error>;
}

/// An X25519 private key in the provider's own form, built once per key
/// (an ephemeral key per handshake, a static key per configuration) and
/// wiped when dropped.
pub trait AgreementKey: Send + Sync + Sealed {
    /// The public key.
    fn public_key(&self) -> [u8; 32];
    /// X25519(private, peer). Fails with [`Error::LowOrderPoint`] when the
    /// result is all zeros (checked in constant time).
    fn agree(&self, peer: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, Error>;
}

/// An AEAD keyed once per traffic key and reused for every record under it.
pub trait Aead: Send + Sync + Sealed {
    /// Encrypts `buf` in place and returns the 16-byte tag.
    fn seal_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], Error>;
    /// Decrypts `buf` = ciphertext || tag in place when the tag verifies and
    /// returns the plaintext length. On failure no plaintext is exposed.
    fn open_in_place(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Result<usize, Error>;
    /// Seals the plaintext `payload || trailer` into `out` as ciphertext
    /// followed by the tag; `out.len()` must be `payload.len() +
    /// trailer.len() + 16`. lwsec seals records this way, straight from the
    /// caller's message into the send buffer. The default copies the
    /// plaintext into `out` and seals it in place; a provider that encrypts
    /// from one buffer into another overrides it to skip the copy.
    fn seal_to(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        payload: &[u8],
        trailer: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        seal_by_copy(self, nonce, aad, payload, trailer, out)
    }
}

/// [`Aead::seal_to`] by copying the plaintext into `out` and sealing it in
/// place (the default, for providers without an out-of-place seal).
pub(crate) fn seal_by_copy<A: Aead + ?Sized>(
    aead: &A,
    nonce: &[u8; 12],
    aad: &[u8],
    payload: &[u8],
    trailer: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    let plain_len = payload.len().saturating_add(trailer.len());
    let (plain, tag_out) = out
        .split_at_mut_checked(plain_len)
        .ok_or(Error::RecordOverflow)?;
    let (head, tail) = plain
        .split_at_mut_checked(payload.len())
        .ok_or(Error::RecordOverflow)?;
    if tail.len() != trailer.len() || tag_out.len() != 16 {
        return Err(Error::RecordOverflow);
    }
    head.copy_from_slice(payload);
    tail.copy_from_slice(trailer);
    let tag = aead.seal_in_place(nonce, aad, plain)?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

/// Builds [`Aead`] keys.
pub trait AeadAlgorithm: Send + Sync + Sealed {
    /// A keyed AEAD for `suite`.
    fn key(&self, suite: Suite, key: &[u8; 32]) -> Result<Box<dyn Aead>, Error>;
}

/// SHA-256 and HKDF-SHA-256 (RFC 5869).
pub trait Hash: Send + Sync + Sealed {
    /// SHA-256 of the concatenation of `parts`.
    fn sha256(&self, parts: &[&[u8]]) -> [u8; 32];
    /// HKDF-Extract(salt, ikm).
    fn hkdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Zeroizing<[u8; 32]>;
    /// HKDF-Expand(prk, info) filling `out` (at most 255 * 32 bytes).
    fn hkdf_expand(&self, prk: &[u8; 32], info: &[u8], out: &mut [u8]) -> Result<(), Error>;
    /// HMAC-SHA-256(key, concatenation of `parts`) (RFC 2104), for the Retry
    /// cookies.
    fn hmac_sha256(&self, key: &[u8; 32], parts: &[&[u8]]) -> Result<[u8; 32], Error>;
}

/// A complete set of primitives.
#[non_exhaustive]
pub struct CryptoProvider {
    /// A short name for logs and benchmark tables.
    pub name: &'static str,
    /// X25519.
    pub kx: &'static dyn KeyExchange,
    /// AES-256-GCM and ChaCha20-Poly1305.
    pub aead: &'static dyn AeadAlgorithm,
    /// SHA-256 and HKDF.
    pub hash: &'static dyn Hash,
}

impl fmt::Debug for CryptoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CryptoProvider({})", self.name)
    }
}

/// The pure-Rust provider (the default).
pub static RUST_CRYPTO: CryptoProvider = CryptoProvider {
    name: "rust-crypto",
    kx: &rust_crypto::X25519,
    aead: &rust_crypto::Aeads,
    hash: &rust_crypto::Sha256Hkdf,
};

/// The `aws-lc-rs` provider.
#[cfg(feature = "aws-lc")]
pub static AWS_LC: CryptoProvider = CryptoProvider {
    name: "aws-lc",
    kx: &aws_lc::X25519,
    aead: &aws_lc::Aeads,
    hash: &aws_lc::Sha256Hkdf,
};

#[cfg(feature = "aws-lc")]
static ALL: [&CryptoProvider; 2] = [&RUST_CRYPTO, &AWS_LC];
#[cfg(not(feature = "aws-lc"))]
static ALL: [&CryptoProvider; 1] = [&RUST_CRYPTO];

/// Every provider compiled into this build.
pub fn providers() -> &'static [&'static CryptoProvider] {
    &ALL
}

/// The provider new configurations use: [`AWS_LC`] when the feature
/// `aws-lc-default` is enabled, else [`RUST_CRYPTO`].
pub fn default_provider() -> &'static CryptoProvider {
    #[cfg(feature = "aws-lc-default")]
    {
        &AWS_LC
    }
    #[cfg(not(feature = "aws-lc-default"))]
    {
        &RUST_CRYPTO
    }
}

/// Whether 32 bytes are all zero, in constant time.
#[cfg(feature = "aws-lc")]
pub(crate) fn is_all_zero(bytes: &[u8; 32]) -> bool {
    use subtle::ConstantTimeEq;
    // OR the four words together (no branch on the data), then one
    // constant-time comparison: a byte-wise `ct_eq` costs 32 optimisation
    // barriers per DH.
    let folded = bytes.chunks_exact(8).fold(0u64, |acc, word| {
        acc | u64::from_ne_bytes(word.try_into().unwrap_or_default())
    });
    folded.ct_eq(&0).into()
}

#[cfg(all(test, feature = "aws-lc"))]
mod tests {
    #[test]
    fn is_all_zero_sees_every_byte() {
        assert!(super::is_all_zero(&[0; 32]));
        for i in 0..32 {
            for bit in 0..8 {
                let mut bytes = [0u8; 32];
                bytes[i] = 1 << bit;
                assert!(!super::is_all_zero(&bytes), "byte {i} bit {bit}");
            }
        }
    }
}

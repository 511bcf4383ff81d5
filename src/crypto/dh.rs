//! X25519 key pairs and Diffie-Hellman, with the all-zero check.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::crypto::rng::SecureRandom;
use crate::crypto::{CryptoProvider, RUST_CRYPTO};
use crate::error::Error;

/// Length of an X25519 public or private key in bytes.
pub(crate) const KEY_LEN: usize = 32;

/// Length of a server key identifier on the wire.
pub(crate) const KEY_ID_LEN: usize = 8;

/// An X25519 public key.
///
/// Equality is constant time.
#[derive(Clone, Copy)]
pub struct PublicKey([u8; KEY_LEN]);

impl PublicKey {
    /// Wraps 32 raw bytes (the X25519 u-coordinate, as on the wire).
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The 32 raw bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The identifier a client sends to say which server key it expects:
    /// the first 8 bytes of `SHA-256("lwsec key id" || key)`.
    pub fn key_id(&self) -> [u8; KEY_ID_LEN] {
        let digest = RUST_CRYPTO.hash.sha256(&[b"lwsec key id", &self.0]);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(digest.get(..KEY_ID_LEN).unwrap_or(&[0u8; KEY_ID_LEN]));
        id
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for PublicKey {}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// An X25519 static key pair: a server's identity key or an IK client's
/// device key. The private half is wiped from memory on drop and never printed.
#[derive(Clone)]
pub struct StaticKeyPair {
    private: Zeroizing<[u8; KEY_LEN]>,
    public: PublicKey,
}

impl StaticKeyPair {
    /// Generates a fresh key pair from `rng`.
    ///
    /// ```
    /// use lwsec::{StaticKeyPair, rng::OsRandom};
    /// let keys = StaticKeyPair::generate(&OsRandom)?;
    /// assert_eq!(keys.public_key().as_bytes().len(), 32);
    /// # Ok::<(), lwsec::Error>(())
    /// ```
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, Error> {
        Self::generate_with(&RUST_CRYPTO, rng)
    }

    /// Generates a fresh key pair from `rng`, computing the public key with
    /// `provider`.
    pub fn generate_with(provider: &CryptoProvider, rng: &dyn SecureRandom) -> Result<Self, Error> {
        let mut private = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill(private.as_mut())?;
        let public = PublicKey(provider.kx.public_key(&private)?);
        Ok(Self { private, public })
    }

    /// Builds a key pair from a 32-byte private key (clamped as X25519 requires).
    pub fn from_private_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let private = Zeroizing::new(bytes);
        // The pure-Rust X25519 cannot fail on a 32-byte private key.
        let public = PublicKey(RUST_CRYPTO.kx.public_key(&private).unwrap_or([0; KEY_LEN]));
        Self { private, public }
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The private key bytes, for saving the key. Handle with care: wrap the
    /// result in [`zeroize::Zeroizing`] or wipe it after use.
    pub fn private_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        self.private.clone()
    }

    /// X25519 with `peer`; fails with [`Error::LowOrderPoint`] when the result
    /// is all zeros (checked in constant time).
    pub(crate) fn dh(
        &self,
        provider: &CryptoProvider,
        peer: &PublicKey,
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
        provider.kx.agree(&self.private, &peer.0)
    }
}

impl fmt::Debug for StaticKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticKeyPair")
            .field("public", &self.public)
            .field("secret", &"<redacted>")
            .finish()
    }
}

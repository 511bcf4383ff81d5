//! X25519 key pairs and Diffie-Hellman, with the all-zero check.

use std::fmt;

use subtle::ConstantTimeEq;
use x25519_dalek::StaticSecret;
use zeroize::Zeroizing;

use crate::crypto::hash;
use crate::crypto::rng::SecureRandom;
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
        let digest = hash::sha256(&[b"lwsec key id", &self.0]);
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
    secret: StaticSecret,
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
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill(bytes.as_mut())?;
        Ok(Self::from_private_bytes(*bytes))
    }

    /// Builds a key pair from a 32-byte private key (clamped as X25519 requires).
    pub fn from_private_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let secret = StaticSecret::from(bytes);
        let public = PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes());
        Self { secret, public }
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The private key bytes, for saving the key. Handle with care: wrap the
    /// result in [`zeroize::Zeroizing`] or wipe it after use.
    pub fn private_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// X25519 with `peer`; fails with [`Error::LowOrderPoint`] when the result
    /// is all zeros (checked in constant time).
    pub(crate) fn dh(&self, peer: &PublicKey) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer.0));
        if !shared.was_contributory() {
            return Err(Error::LowOrderPoint);
        }
        Ok(Zeroizing::new(shared.to_bytes()))
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

/// X25519 on raw bytes, through the same checked path the handshake uses.
///
/// This exists so that conformance tests can run X25519 test vectors
/// (RFC 7748, Wycheproof) through lwsec's DH boundary.
#[cfg(test)]
pub(crate) fn x25519(
    private: [u8; KEY_LEN],
    peer_public: [u8; KEY_LEN],
) -> Result<[u8; KEY_LEN], Error> {
    let pair = StaticKeyPair::from_private_bytes(private);
    let shared = pair.dh(&PublicKey(peer_public))?;
    Ok(*shared)
}

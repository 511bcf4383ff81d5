//! X25519 key pairs and Diffie-Hellman, with the all-zero check.

use std::fmt;
use std::sync::{Arc, OnceLock};

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::crypto::rng::SecureRandom;
use crate::crypto::{AgreementKey, CryptoProvider, RUST_CRYPTO};
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
        self.key_id_with(crate::crypto::default_provider().hash)
    }

    /// [`key_id`](Self::key_id) computed by a configuration's provider.
    pub(crate) fn key_id_with(&self, hash: &dyn crate::crypto::Hash) -> [u8; KEY_ID_LEN] {
        let digest = hash.sha256(&[b"lwsec key id", &self.0]);
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
///
/// The first Diffie-Hellman parses the private key into the provider's form
/// once; clones share the parsed key (a server's key is parsed once, not per
/// handshake).
#[derive(Clone)]
pub struct StaticKeyPair {
    private: Zeroizing<[u8; KEY_LEN]>,
    public: PublicKey,
    /// The private key as each built-in provider parsed it (on first use),
    /// so a key works at full speed with whichever provider a
    /// configuration names.
    parsed: Arc<[OnceLock<Box<dyn AgreementKey>>; PROVIDER_SLOTS]>,
}

/// One cache slot per built-in provider.
const PROVIDER_SLOTS: usize = 2;

/// The cache slot of a built-in provider.
fn slot(provider: &'static CryptoProvider) -> Option<usize> {
    if std::ptr::eq(provider, &RUST_CRYPTO) {
        return Some(0);
    }
    #[cfg(feature = "aws-lc")]
    if std::ptr::eq(provider, &crate::crypto::AWS_LC) {
        return Some(1);
    }
    None
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
    /// `provider` (which keeps the parsed key for the key pair's DH).
    pub fn generate_with(
        provider: &'static CryptoProvider,
        rng: &dyn SecureRandom,
    ) -> Result<Self, Error> {
        let mut private = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill(private.as_mut())?;
        let key = provider.kx.private_key(&private)?;
        let public = PublicKey(key.public_key());
        let parsed: Arc<[OnceLock<Box<dyn AgreementKey>>; PROVIDER_SLOTS]> = Arc::default();
        if let Some(cell) = slot(provider).and_then(|i| parsed.get(i)) {
            let _ = cell.set(key);
        }
        Ok(Self {
            private,
            public,
            parsed,
        })
    }

    /// Builds a key pair from a 32-byte private key (clamped as X25519 requires).
    pub fn from_private_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let private = Zeroizing::new(bytes);
        // The pure-Rust X25519 cannot fail on a 32-byte private key. The
        // parsed key is not kept: the first DH parses it with the provider
        // of the configuration the key is used in.
        let public = RUST_CRYPTO
            .kx
            .private_key(&private)
            .map_or([0; KEY_LEN], |k| k.public_key());
        Self {
            private,
            public: PublicKey(public),
            parsed: Arc::default(),
        }
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
        provider: &'static CryptoProvider,
        peer: &PublicKey,
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
        let Some(cell) = slot(provider).and_then(|i| self.parsed.get(i)) else {
            // A provider from elsewhere: parse for each use.
            return provider.kx.private_key(&self.private)?.agree(&peer.0);
        };
        if cell.get().is_none() {
            // Another thread may win the race; both parsed the same key.
            let _ = cell.set(provider.kx.private_key(&self.private)?);
        }
        match cell.get() {
            Some(key) => key.agree(&peer.0),
            None => provider.kx.private_key(&self.private)?.agree(&peer.0),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::providers;

    /// RFC 7748 section 6.1: Alice's and Bob's key pairs and shared secret.
    const ALICE: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    const BOB_PUBLIC: &str = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    const SHARED: &str = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    fn bytes(hex_text: &str) -> [u8; KEY_LEN] {
        hex::decode(hex_text).unwrap().try_into().unwrap()
    }

    #[test]
    fn parsed_key_is_shared_by_clones_and_right_for_every_provider() {
        let alice = StaticKeyPair::from_private_bytes(bytes(ALICE));
        let bob = PublicKey::from_bytes(bytes(BOB_PUBLIC));
        assert!(
            alice.parsed.iter().all(|c| c.get().is_none()),
            "parsed on first DH only"
        );
        let clone = alice.clone();
        for provider in providers() {
            // Each provider parses once (and the clone sees it); every
            // provider computes the right result.
            assert_eq!(*alice.dh(provider, &bob).unwrap(), bytes(SHARED));
            assert_eq!(*clone.dh(provider, &bob).unwrap(), bytes(SHARED));
            let cell = &clone.parsed[slot(provider).unwrap()];
            assert!(cell.get().is_some());
        }
        // A generated key is parsed by its provider while generating, and
        // the other provider parses it once on its first use: a key made by
        // `generate` works at full speed under any configuration.
        for provider in providers() {
            let rng = crate::rng::DeterministicRandom::dangerous_from_seed_for_testing_only(b"k");
            let e = StaticKeyPair::generate_with(provider, &rng).unwrap();
            let parsed = e.parsed[slot(provider).unwrap()].get().unwrap();
            assert_eq!(parsed.public_key(), *e.public_key().as_bytes());
            for other in providers() {
                e.dh(other, &bob).unwrap();
                let cached = e.parsed[slot(other).unwrap()].get().unwrap();
                let again = e.parsed[slot(other).unwrap()].get().unwrap();
                assert!(std::ptr::eq(cached, again), "parsed once per provider");
            }
        }
    }

    #[test]
    fn all_zero_result_is_refused_through_a_parsed_key() {
        for provider in providers() {
            let key = StaticKeyPair::from_private_bytes(bytes(ALICE));
            // The identity point (all zeros) makes X25519 output zeros.
            let zero = PublicKey::from_bytes([0; KEY_LEN]);
            assert_eq!(key.dh(provider, &zero).err(), Some(Error::LowOrderPoint));
            // The parse stays usable afterwards.
            let bob = PublicKey::from_bytes(bytes(BOB_PUBLIC));
            assert_eq!(*key.dh(provider, &bob).unwrap(), bytes(SHARED));
        }
    }
}

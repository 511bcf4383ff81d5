//! `SymmetricState` (Noise spec section 5.2).

use zeroize::{Zeroize, Zeroizing};

use crate::crypto::CryptoProvider;
use crate::crypto::hash::{self, HASH_LEN};
use crate::error::Error;
use crate::noise::CipherState;
use crate::suite::Suite;

/// The chaining key `ck`, the handshake hash `h` and a `CipherState`.
pub(crate) struct SymmetricState {
    provider: &'static CryptoProvider,
    ck: [u8; HASH_LEN],
    h: [u8; HASH_LEN],
    cipher: CipherState,
}

impl SymmetricState {
    /// `InitializeSymmetric(protocol_name)`.
    pub(crate) fn initialize_symmetric(
        provider: &'static CryptoProvider,
        protocol_name: &str,
        suite: Suite,
    ) -> Self {
        let name = protocol_name.as_bytes();
        let mut h = [0u8; HASH_LEN];
        match h.get_mut(..name.len()) {
            Some(prefix) => prefix.copy_from_slice(name),
            None => h = provider.hash.sha256(&[name]),
        }
        Self {
            provider,
            ck: h,
            h,
            cipher: CipherState::empty(provider, suite),
        }
    }

    /// `MixKey(input_key_material)`.
    pub(crate) fn mix_key(&mut self, ikm: &[u8]) -> Result<(), Error> {
        let (ck, temp_k) = hash::noise_hkdf2(self.provider, &self.ck, ikm)?;
        self.cipher.initialize_key(&temp_k)?;
        self.ck = *ck;
        Ok(())
    }

    /// `MixHash(data)`.
    pub(crate) fn mix_hash(&mut self, data: &[u8]) {
        self.h = self.provider.hash.sha256(&[&self.h, data]);
    }

    /// `EncryptAndHash(plaintext)`: encrypts `buf[start..]` in place (tag
    /// appended) and mixes the ciphertext into `h`.
    pub(crate) fn encrypt_and_hash(
        &mut self,
        buf: &mut Vec<u8>,
        start: usize,
    ) -> Result<(), Error> {
        let h = self.h;
        self.cipher.encrypt_with_ad(&h, buf, start)?;
        let ciphertext = buf.get(start..).ok_or(Error::Decode("encrypt offset"))?;
        self.mix_hash(ciphertext);
        Ok(())
    }

    /// `DecryptAndHash(ciphertext)`.
    pub(crate) fn decrypt_and_hash(
        &mut self,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let h = self.h;
        let plaintext = self.cipher.decrypt_with_ad(&h, ciphertext)?;
        self.mix_hash(ciphertext);
        Ok(plaintext)
    }

    /// Whether `EncryptAndHash` currently encrypts (a key has been mixed in).
    pub(crate) fn has_key(&self) -> bool {
        self.cipher.has_key()
    }

    /// `Split()`: the two transport keys, initiator-to-responder first.
    pub(crate) fn split(&self) -> Result<hash::SecretPair, Error> {
        hash::noise_hkdf2(self.provider, &self.ck, &[])
    }

    /// The handshake hash `h`.
    pub(crate) fn handshake_hash(&self) -> [u8; HASH_LEN] {
        self.h
    }
}

impl Drop for SymmetricState {
    fn drop(&mut self) {
        self.ck.zeroize();
        self.h.zeroize();
    }
}

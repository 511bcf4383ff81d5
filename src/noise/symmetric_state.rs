//! `SymmetricState` (Noise spec section 5.2).

use zeroize::Zeroize;

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

    /// `MixKeyAndHash(input_key_material)` (Noise spec section 5.2, for
    /// the `psk` token).
    pub(crate) fn mix_key_and_hash(&mut self, ikm: &[u8]) -> Result<(), Error> {
        let [ck, temp_h, temp_k] = hash::noise_hkdf3(self.provider, &self.ck, ikm)?;
        self.ck = *ck;
        self.mix_hash(temp_h.as_ref());
        self.cipher.initialize_key(&temp_k)
    }

    /// `MixHash(data)`.
    pub(crate) fn mix_hash(&mut self, data: &[u8]) {
        self.h = self.provider.hash.sha256(&[&self.h, data]);
    }

    /// `MixHash(data)` where `data` is the concatenation of `parts` (at
    /// most three), hashed without being copied together.
    pub(crate) fn mix_hash_parts(&mut self, parts: &[&[u8]]) -> Result<(), Error> {
        let mut all: [&[u8]; 4] = [&[]; 4];
        let (first, rest) = all
            .split_first_mut()
            .ok_or(Error::Internal("mix_hash_parts"))?;
        *first = &self.h;
        if parts.len() > rest.len() {
            return Err(Error::Internal("mix_hash_parts: too many parts"));
        }
        for (slot, part) in rest.iter_mut().zip(parts) {
            *slot = part;
        }
        let h = self.provider.hash.sha256(&all);
        self.h = h;
        Ok(())
    }

    /// `EncryptAndHash(plaintext)` in place: `buf` holds the plaintext in
    /// its first `len` bytes and room for the tag; mixes the ciphertext
    /// into `h` and returns its length.
    pub(crate) fn encrypt_and_hash_in_place(
        &mut self,
        buf: &mut [u8],
        len: usize,
    ) -> Result<usize, Error> {
        let h = self.h;
        let written = self.cipher.encrypt_in_place(&h, buf, len)?;
        let ciphertext = buf
            .get(..written)
            .ok_or(Error::Internal("encrypt: ciphertext length"))?;
        self.mix_hash(ciphertext);
        Ok(written)
    }

    /// `EncryptAndHash(plaintext)`: encrypts `buf[start..]` in place (tag
    /// appended) and mixes the ciphertext into `h`.
    #[cfg(test)]
    pub(crate) fn encrypt_and_hash(
        &mut self,
        buf: &mut Vec<u8>,
        start: usize,
    ) -> Result<(), Error> {
        let (body, len) = super::cipher_state::with_tag_room(buf, start, self.has_key())?;
        self.encrypt_and_hash_in_place(body, len).map(|_| ())
    }

    /// `DecryptAndHash(ciphertext)` in place: `buf` holds the ciphertext
    /// and becomes the plaintext; returns its length. `h` changes only
    /// when the ciphertext is authentic.
    pub(crate) fn decrypt_and_hash_in_place(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let ad = self.h;
        // MixHash(ciphertext) before the ciphertext is overwritten.
        let next_h = self.provider.hash.sha256(&[&ad, buf]);
        let len = self.cipher.decrypt_in_place(&ad, buf)?;
        self.h = next_h;
        Ok(len)
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

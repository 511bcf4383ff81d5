//! `CipherState` (Noise spec section 5.1).

use zeroize::Zeroizing;

use crate::crypto::CryptoProvider;
use crate::crypto::aead::{AeadKey, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::error::Error;
use crate::suite::Suite;

/// A key (maybe empty) and a nonce counter.
pub(crate) struct CipherState {
    provider: &'static CryptoProvider,
    suite: Suite,
    k: Option<AeadKey>,
    n: u64,
}

impl CipherState {
    /// `InitializeKey(empty)`.
    pub(crate) fn empty(provider: &'static CryptoProvider, suite: Suite) -> Self {
        Self {
            provider,
            suite,
            k: None,
            n: 0,
        }
    }

    /// `InitializeKey(key)`: sets the key and resets the nonce.
    pub(crate) fn initialize_key(&mut self, key: &[u8; KEY_LEN]) -> Result<(), Error> {
        self.k = Some(AeadKey::new(self.provider, self.suite, key)?);
        self.n = 0;
        Ok(())
    }

    /// `HasKey()`.
    pub(crate) fn has_key(&self) -> bool {
        self.k.is_some()
    }

    /// The 96-bit nonce for counter `n` (Noise spec section 12.3 and 12.4):
    /// 32 zero bits, then the counter big-endian (AESGCM) or little-endian (ChaChaPoly).
    fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        let counter = match self.suite {
            Suite::Aes256Gcm => self.n.to_be_bytes(),
            Suite::ChaCha20Poly1305 => self.n.to_le_bytes(),
        };
        nonce[4..].copy_from_slice(&counter);
        nonce
    }

    /// `EncryptWithAd(ad, plaintext)`: encrypts `buf[start..]` in place and
    /// appends the tag; without a key the plaintext is left as is.
    pub(crate) fn encrypt_with_ad(
        &mut self,
        ad: &[u8],
        buf: &mut Vec<u8>,
        start: usize,
    ) -> Result<(), Error> {
        let Some(k) = &self.k else { return Ok(()) };
        // 2^64 - 1 is reserved (spec section 5.1); reaching it is fatal.
        let next = self
            .n
            .checked_add(1)
            .filter(|n| *n != u64::MAX)
            .ok_or(Error::SequenceExhausted)?;
        let body = buf
            .get_mut(start..)
            .ok_or(Error::Decode("encrypt offset"))?;
        let tag = k.seal_in_place(&self.nonce(), ad, body)?;
        buf.extend_from_slice(&tag);
        self.n = next;
        Ok(())
    }

    /// `DecryptWithAd(ad, ciphertext)`: returns the plaintext, or fails and
    /// leaves the nonce unchanged.
    pub(crate) fn decrypt_with_ad(
        &mut self,
        ad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let Some(k) = &self.k else {
            return Ok(Zeroizing::new(ciphertext.to_vec()));
        };
        let next = self
            .n
            .checked_add(1)
            .filter(|n| *n != u64::MAX)
            .ok_or(Error::SequenceExhausted)?;
        if ciphertext.len() < TAG_LEN {
            return Err(Error::Decode("ciphertext shorter than a tag"));
        }
        let mut plain = Zeroizing::new(ciphertext.to_vec());
        let len = k
            .open_in_place(&self.nonce(), ad, &mut plain)
            .map_err(|_| Error::HandshakeDecrypt)?;
        plain.truncate(len);
        self.n = next;
        Ok(plain)
    }
}

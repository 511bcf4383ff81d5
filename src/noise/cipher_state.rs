//! `CipherState` (Noise spec section 5.1).

use zeroize::Zeroizing;

use crate::crypto::CryptoProvider;
use crate::crypto::aead::{AeadKey, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::error::DecodeReason;
use crate::error::Error;
use crate::suite::Suite;

/// A key (maybe empty) and a nonce counter.
pub(crate) struct CipherState {
    provider: &'static CryptoProvider,
    suite: Suite,
    k: Key,
    n: u64,
}

/// The cipher's key. A key is made into an AEAD only when it first
/// encrypts or decrypts: in a handshake some keys are replaced before any
/// use (IK's `ee` key by `se`; NNpsk0's psk key by `e`, and the responder's
/// `e` key by `ee`), and building an AEAD costs a key expansion and an
/// allocation.
enum Key {
    Empty,
    Raw(Zeroizing<[u8; KEY_LEN]>),
    Keyed(AeadKey),
}

impl CipherState {
    /// `InitializeKey(empty)`.
    pub(crate) fn empty(provider: &'static CryptoProvider, suite: Suite) -> Self {
        Self {
            provider,
            suite,
            k: Key::Empty,
            n: 0,
        }
    }

    /// `InitializeKey(key)`: sets the key and resets the nonce.
    pub(crate) fn initialize_key(&mut self, key: &[u8; KEY_LEN]) -> Result<(), Error> {
        self.k = Key::Raw(Zeroizing::new(*key));
        self.n = 0;
        Ok(())
    }

    /// `HasKey()`.
    pub(crate) fn has_key(&self) -> bool {
        !matches!(self.k, Key::Empty)
    }

    /// The AEAD of the key, built on first use; `None` without a key.
    fn aead(&mut self) -> Result<Option<&AeadKey>, Error> {
        if let Key::Raw(raw) = &self.k {
            self.k = Key::Keyed(AeadKey::new(self.provider, self.suite, raw)?);
        }
        Ok(match &self.k {
            Key::Keyed(k) => Some(k),
            Key::Empty | Key::Raw(_) => None,
        })
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

    /// The nonce counter after one more use: 2^64 - 1 is reserved (spec
    /// section 5.1); reaching it is fatal.
    fn next_n(&self) -> Result<u64, Error> {
        self.n
            .checked_add(1)
            .filter(|n| *n != u64::MAX)
            .ok_or(Error::SequenceExhausted)
    }

    /// `EncryptWithAd(ad, plaintext)` in place: `buf` holds the plaintext in
    /// its first `len` bytes and room for the tag after them; returns the
    /// ciphertext length (`len + 16` with a key, `len` without one, when
    /// the plaintext is left as is).
    pub(crate) fn encrypt_in_place(
        &mut self,
        ad: &[u8],
        buf: &mut [u8],
        len: usize,
    ) -> Result<usize, Error> {
        let next = self.next_n();
        let nonce = self.nonce();
        let Some(k) = self.aead()? else {
            return Ok(len);
        };
        let next = next?;
        let (body, rest) = buf
            .split_at_mut_checked(len)
            .ok_or(Error::Internal("encrypt: plaintext longer than the buffer"))?;
        let tag_slot = rest
            .get_mut(..TAG_LEN)
            .ok_or(Error::Internal("encrypt: no room for the tag"))?;
        let tag = k.seal_in_place(&nonce, ad, body)?;
        tag_slot.copy_from_slice(&tag);
        self.n = next;
        Ok(len.saturating_add(TAG_LEN))
    }

    /// `EncryptWithAd(ad, plaintext)`: encrypts `buf[start..]` in place and
    /// appends the tag; without a key the plaintext is left as is.
    #[cfg(test)]
    pub(crate) fn encrypt_with_ad(
        &mut self,
        ad: &[u8],
        buf: &mut Vec<u8>,
        start: usize,
    ) -> Result<(), Error> {
        let (body, len) = with_tag_room(buf, start, self.has_key())?;
        self.encrypt_in_place(ad, body, len).map(|_| ())
    }

    /// `DecryptWithAd(ad, ciphertext)` in place: `buf` holds the ciphertext
    /// and becomes the plaintext; returns its length. Fails and leaves the
    /// nonce unchanged when the tag does not verify (the buffer's content
    /// is then unspecified). Without a key the ciphertext is the plaintext.
    pub(crate) fn decrypt_in_place(&mut self, ad: &[u8], buf: &mut [u8]) -> Result<usize, Error> {
        let next = self.next_n();
        let nonce = self.nonce();
        let Some(k) = self.aead()? else {
            return Ok(buf.len());
        };
        let next = next?;
        if buf.len() < TAG_LEN {
            return Err(Error::Decode(DecodeReason::CiphertextShorterThanTag));
        }
        let len = k
            .open_in_place(&nonce, ad, buf)
            .map_err(|_| Error::HandshakeDecrypt)?;
        self.n = next;
        Ok(len)
    }

    /// `DecryptWithAd(ad, ciphertext)`: returns the plaintext, or fails and
    /// leaves the nonce unchanged.
    #[cfg(test)]
    pub(crate) fn decrypt_with_ad(
        &mut self,
        ad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let mut plain = Zeroizing::new(ciphertext.to_vec());
        let len = self.decrypt_in_place(ad, &mut plain)?;
        plain.truncate(len);
        Ok(plain)
    }
}

/// For the `Vec` forms of encryption (tests): the plaintext at
/// `buf[start..]` with room for a tag appended when there is a key; returns
/// that slice and the plaintext length.
#[cfg(test)]
pub(crate) fn with_tag_room(
    buf: &mut Vec<u8>,
    start: usize,
    has_key: bool,
) -> Result<(&mut [u8], usize), Error> {
    let len = buf
        .len()
        .checked_sub(start)
        .ok_or(Error::Internal("encrypt offset"))?;
    let tag_room = if has_key { TAG_LEN } else { 0 };
    buf.resize(buf.len().saturating_add(tag_room), 0);
    let body = buf
        .get_mut(start..)
        .ok_or(Error::Internal("encrypt offset"))?;
    Ok((body, len))
}

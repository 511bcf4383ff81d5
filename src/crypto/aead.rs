//! AEAD constants and the keyed AEAD lwsec holds per traffic key.

use crate::crypto::{Aead, CryptoProvider};
use crate::error::Error;
use crate::suite::Suite;

/// AEAD key length (both suites).
pub(crate) const KEY_LEN: usize = 32;
/// AEAD nonce length (both suites).
pub(crate) const NONCE_LEN: usize = 12;
/// AEAD tag length (both suites).
pub(crate) const TAG_LEN: usize = 16;

/// A keyed AEAD from a provider, built once per key and reused for every
/// record under it.
pub(crate) struct AeadKey(Box<dyn Aead>);

impl AeadKey {
    pub(crate) fn new(
        provider: &CryptoProvider,
        suite: Suite,
        key: &[u8; KEY_LEN],
    ) -> Result<Self, Error> {
        Ok(Self(provider.aead.key(suite, key)?))
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        self.0.seal_in_place(nonce, aad, buf)
    }

    /// Seals `payload || trailer` into `out` (ciphertext || tag).
    #[inline]
    pub(crate) fn seal_to(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        payload: &[u8],
        trailer: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        self.0.seal_to(nonce, aad, payload, trailer, out)
    }

    /// Decrypts `buf` = ciphertext || tag in place; returns the plaintext length.
    pub(crate) fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<usize, Error> {
        self.0.open_in_place(nonce, aad, buf)
    }
}

/// One-shot AEAD seal (`ciphertext || tag`), for conformance tests of the
/// primitives behind lwsec's boundary.
#[cfg(test)]
pub(crate) fn seal(
    provider: &CryptoProvider,
    suite: Suite,
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut buf = plaintext.to_vec();
    let tag = AeadKey::new(provider, suite, key)?.seal_in_place(nonce, aad, &mut buf)?;
    buf.extend_from_slice(&tag);
    Ok(buf)
}

/// One-shot AEAD open of `ciphertext || tag`; fails with
/// [`Error::BadRecordMac`] when authentication fails.
#[cfg(test)]
pub(crate) fn open(
    provider: &CryptoProvider,
    suite: Suite,
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut buf = sealed.to_vec();
    let len = AeadKey::new(provider, suite, key)?.open_in_place(nonce, aad, &mut buf)?;
    buf.truncate(len);
    Ok(buf)
}

//! AEAD keys for both suites: seal and open in place, detached tags.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;

use crate::error::Error;
use crate::suite::Suite;

/// AEAD key length (both suites).
pub(crate) const KEY_LEN: usize = 32;
/// AEAD nonce length (both suites).
pub(crate) const NONCE_LEN: usize = 12;
/// AEAD tag length (both suites).
pub(crate) const TAG_LEN: usize = 16;

/// A keyed AEAD, built once per key and reused for every record under it.
/// The key schedule inside is wiped on drop by the underlying crates.
pub(crate) enum AeadKey {
    Aes256Gcm(Box<Aes256Gcm>),
    ChaCha20Poly1305(Box<ChaCha20Poly1305>),
}

impl AeadKey {
    pub(crate) fn new(suite: Suite, key: &[u8; KEY_LEN]) -> Self {
        match suite {
            Suite::Aes256Gcm => Self::Aes256Gcm(Box::new(Aes256Gcm::new(key.into()))),
            Suite::ChaCha20Poly1305 => {
                Self::ChaCha20Poly1305(Box::new(ChaCha20Poly1305::new(key.into())))
            }
        }
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        let tag = match self {
            Self::Aes256Gcm(k) => k.encrypt_in_place_detached(nonce.into(), aad, buf),
            Self::ChaCha20Poly1305(k) => k.encrypt_in_place_detached(nonce.into(), aad, buf),
        }
        // Only reachable for inputs longer than the AEAD's limit (64 GiB).
        .map_err(|_| Error::RecordOverflow)?;
        Ok(tag.into())
    }

    /// Decrypts `buf` in place when `tag` authenticates it. On failure `buf`
    /// is left as ciphertext or zeroed, never as unauthenticated plaintext.
    pub(crate) fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), ()> {
        match self {
            Self::Aes256Gcm(k) => k.decrypt_in_place_detached(nonce.into(), aad, buf, tag.into()),
            Self::ChaCha20Poly1305(k) => {
                k.decrypt_in_place_detached(nonce.into(), aad, buf, tag.into())
            }
        }
        .map_err(|_| ())
    }
}

/// One-shot AEAD seal (`ciphertext || tag`), for conformance tests of the
/// primitives behind lwsec's boundary.
#[cfg(test)]
pub(crate) fn seal(
    suite: Suite,
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut buf = plaintext.to_vec();
    let tag = AeadKey::new(suite, key).seal_in_place(nonce, aad, &mut buf)?;
    buf.extend_from_slice(&tag);
    Ok(buf)
}

/// One-shot AEAD open of `ciphertext || tag`; fails with
/// [`Error::BadRecordMac`] when authentication fails.
#[cfg(test)]
pub(crate) fn open(
    suite: Suite,
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, Error> {
    let body_len = sealed
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(Error::BadRecordMac)?;
    let (body, tag) = sealed.split_at(body_len);
    let mut tag_arr = [0u8; TAG_LEN];
    tag_arr.copy_from_slice(tag);
    let mut buf = body.to_vec();
    AeadKey::new(suite, key)
        .open_in_place(nonce, aad, &mut buf, &tag_arr)
        .map_err(|_| Error::BadRecordMac)?;
    Ok(buf)
}

//! The `aws-lc-rs` provider (feature `aws-lc`).

use aws_lc_rs::{aead, agreement, digest, hkdf, hmac};
use zeroize::Zeroizing;

use crate::crypto::{
    Aead, AeadAlgorithm, AgreementKey, Hash, KeyExchange, is_all_zero, seal_by_copy,
};
use crate::error::Error;
use crate::suite::Suite;

pub(crate) struct X25519;

impl KeyExchange for X25519 {
    fn private_key(&self, private: &[u8; 32]) -> Result<Box<dyn AgreementKey>, Error> {
        let invalid = || Error::InvalidKey("X25519 private key");
        // aws-lc derives the public key while parsing (a base-point
        // multiplication): done once per key, not per agreement.
        let key = agreement::PrivateKey::from_private_key(&agreement::X25519, private)
            .map_err(|_| invalid())?;
        let public = key
            .compute_public_key()
            .map_err(|_| invalid())?
            .as_ref()
            .try_into()
            .map_err(|_| Error::InvalidKey("X25519 public key length"))?;
        Ok(Box::new(AwsLcKey { key, public }))
    }
}

/// A parsed X25519 key (aws-lc wipes it when freeing it).
struct AwsLcKey {
    key: agreement::PrivateKey,
    public: [u8; 32],
}

impl AgreementKey for AwsLcKey {
    fn public_key(&self) -> [u8; 32] {
        self.public
    }

    fn agree(&self, peer: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, Error> {
        let peer = agreement::UnparsedPublicKey::new(&agreement::X25519, peer);
        // aws-lc refuses an all-zero result itself; the check below keeps the
        // guarantee independent of that.
        let shared = agreement::agree(&self.key, peer, Error::LowOrderPoint, |secret| {
            let mut out = Zeroizing::new([0u8; 32]);
            if secret.len() != 32 {
                return Err(Error::LowOrderPoint);
            }
            out.copy_from_slice(secret);
            Ok(out)
        })?;
        if is_all_zero(&shared) {
            return Err(Error::LowOrderPoint);
        }
        Ok(shared)
    }
}

/// A keyed aws-lc AEAD. `seal_out_of_place` is set for AES-GCM, whose
/// scatter seal continues the GCM stream over the trailer; aws-lc's
/// ChaCha20-Poly1305 computes a separate keystream block for a trailer, which
/// costs more than the copy it saves, so it seals in place.
struct Keyed {
    key: aead::LessSafeKey,
    seal_out_of_place: bool,
}

impl Aead for Keyed {
    fn seal_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], Error> {
        let tag = self
            .key
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(*nonce),
                aead::Aad::from(aad),
                buf,
            )
            .map_err(|_| Error::RecordOverflow)?;
        tag.as_ref().try_into().map_err(|_| Error::RecordOverflow)
    }

    fn seal_to(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        payload: &[u8],
        trailer: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        if !self.seal_out_of_place {
            return seal_by_copy(self, nonce, aad, payload, trailer, out);
        }
        // Out of place: the payload is encrypted from the caller's buffer
        // into `out`, the trailer after it, then the tag.
        let (ciphertext, trailer_and_tag) = out
            .split_at_mut_checked(payload.len())
            .ok_or(Error::RecordOverflow)?;
        self.key
            .seal_out_of_place_scatter(
                aead::Nonce::assume_unique_for_key(*nonce),
                aead::Aad::from(aad),
                payload,
                ciphertext,
                trailer,
                trailer_and_tag,
            )
            .map_err(|_| Error::RecordOverflow)
    }

    fn open_in_place(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Result<usize, Error> {
        let plain = self
            .key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(*nonce),
                aead::Aad::from(aad),
                buf,
            )
            .map_err(|_| Error::BadRecordMac)?;
        Ok(plain.len())
    }
}

pub(crate) struct Aeads;

impl AeadAlgorithm for Aeads {
    fn key(&self, suite: Suite, key: &[u8; 32]) -> Result<Box<dyn Aead>, Error> {
        let algorithm = match suite {
            Suite::Aes256Gcm => &aead::AES_256_GCM,
            Suite::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        };
        let unbound =
            aead::UnboundKey::new(algorithm, key).map_err(|_| Error::InvalidKey("AEAD key"))?;
        Ok(Box::new(Keyed {
            key: aead::LessSafeKey::new(unbound),
            seal_out_of_place: suite == Suite::Aes256Gcm,
        }))
    }
}

pub(crate) struct Sha256Hkdf;

/// An HKDF output length for `aws-lc-rs`.
struct OutLen(usize);

impl hkdf::KeyType for OutLen {
    fn len(&self) -> usize {
        self.0
    }
}

impl Hash for Sha256Hkdf {
    fn sha256(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = digest::Context::new(&digest::SHA256);
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    fn hkdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Zeroizing<[u8; 32]> {
        // HKDF-Extract(salt, ikm) = HMAC-SHA-256(salt, ikm) (RFC 5869 2.2).
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, salt), ikm);
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(tag.as_ref());
        out
    }

    fn hkdf_expand(&self, prk: &[u8; 32], info: &[u8], out: &mut [u8]) -> Result<(), Error> {
        let too_long = Error::Internal("HKDF output longer than 255 * 32 bytes");
        let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, prk);
        let info = [info];
        let okm = prk
            .expand(&info, OutLen(out.len()))
            .map_err(|_| too_long.clone())?;
        okm.fill(out).map_err(|_| too_long)
    }

    fn hmac_sha256(&self, key: &[u8; 32], parts: &[&[u8]]) -> Result<[u8; 32], Error> {
        let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, key));
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        Ok(out)
    }
}

impl super::Sealed for X25519 {}
impl super::Sealed for AwsLcKey {}
impl super::Sealed for Keyed {}
impl super::Sealed for Aeads {}
impl super::Sealed for Sha256Hkdf {}

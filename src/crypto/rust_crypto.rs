//! The pure-Rust provider: `x25519-dalek`, `aes-gcm`, `chacha20poly1305`,
//! `sha2`, `hkdf`.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::crypto::{Aead, AeadAlgorithm, AgreementKey, Hash, KeyExchange};
use crate::error::Error;
use crate::suite::Suite;

pub(crate) struct X25519;

impl KeyExchange for X25519 {
    fn private_key(&self, private: &[u8; 32]) -> Result<Box<dyn AgreementKey>, Error> {
        let secret = x25519_dalek::StaticSecret::from(*private);
        let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        Ok(Box::new(DalekKey { secret, public }))
    }
}

/// A parsed X25519 key (`StaticSecret` is wiped on drop).
struct DalekKey {
    secret: x25519_dalek::StaticSecret,
    public: [u8; 32],
}

impl AgreementKey for DalekKey {
    fn public_key(&self) -> [u8; 32] {
        self.public
    }

    fn agree(&self, peer: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, Error> {
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(*peer));
        if !shared.was_contributory() {
            return Err(Error::LowOrderPoint);
        }
        Ok(Zeroizing::new(shared.to_bytes()))
    }
}

/// A keyed RustCrypto AEAD (key schedules are wiped on drop by the crates).
struct Keyed<A>(A);

impl<A> Aead for Keyed<A>
where
    A: AeadInPlace<NonceSize = U12, TagSize = U16> + Send + Sync,
{
    fn seal_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], Error> {
        let tag = self
            .0
            .encrypt_in_place_detached(nonce.into(), aad, buf)
            // Only reachable for inputs longer than the AEAD's limit (64 GiB).
            .map_err(|_| Error::RecordOverflow)?;
        let mut out = [0u8; 16];
        out.copy_from_slice(tag.as_slice());
        Ok(out)
    }

    fn open_in_place(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Result<usize, Error> {
        let len = buf.len().checked_sub(16).ok_or(Error::BadRecordMac)?;
        let (body, tag) = buf.split_at_mut(len);
        self.0
            .decrypt_in_place_detached(nonce.into(), aad, body, GenericArray::from_slice(tag))
            .map_err(|_| Error::BadRecordMac)?;
        Ok(len)
    }
}

pub(crate) struct Aeads;

impl AeadAlgorithm for Aeads {
    fn key(&self, suite: Suite, key: &[u8; 32]) -> Result<Box<dyn Aead>, Error> {
        Ok(match suite {
            Suite::Aes256Gcm => Box::new(Keyed(Aes256Gcm::new(key.into()))),
            Suite::ChaCha20Poly1305 => Box::new(Keyed(ChaCha20Poly1305::new(key.into()))),
        })
    }
}

pub(crate) struct Sha256Hkdf;

impl Hash for Sha256Hkdf {
    fn sha256(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        hasher.finalize().into()
    }

    fn hkdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Zeroizing<[u8; 32]> {
        let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), ikm);
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&prk);
        out
    }

    fn hkdf_expand(&self, prk: &[u8; 32], info: &[u8], out: &mut [u8]) -> Result<(), Error> {
        let hk = Hkdf::<Sha256>::from_prk(prk).map_err(|_| Error::Internal("HKDF PRK length"))?;
        hk.expand(info, out)
            .map_err(|_| Error::Internal("HKDF output longer than 255 * 32 bytes"))
    }

    fn hmac_sha256(&self, key: &[u8; 32], parts: &[&[u8]]) -> Result<[u8; 32], Error> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
            .map_err(|_| Error::Internal("HMAC key length"))?;
        for part in parts {
            Mac::update(&mut mac, part);
        }
        Ok(mac.finalize().into_bytes().into())
    }
}

impl super::Sealed for X25519 {}
impl super::Sealed for DalekKey {}
impl<A> super::Sealed for Keyed<A> {}
impl super::Sealed for Aeads {}
impl super::Sealed for Sha256Hkdf {}

//! The key schedule (`spec/PROTOCOL.md` section 7): from Noise `Split()` and
//! the handshake hash to per-direction traffic secrets, record keys and IVs,
//! key updates and the exporter.

use zeroize::Zeroizing;

use crate::crypto::CryptoProvider;
use crate::crypto::aead::{KEY_LEN, NONCE_LEN};
use crate::crypto::hash::{self, HASH_LEN};
use crate::error::Error;

/// A 32-byte secret, wiped on drop.
pub(crate) type Secret = Zeroizing<[u8; HASH_LEN]>;

/// The secrets derived once at the end of the handshake.
pub(crate) struct HandshakeSecrets {
    pub(crate) client_to_server: Secret,
    pub(crate) server_to_client: Secret,
    pub(crate) exporter: Secret,
}

fn expand_secret(
    p: &CryptoProvider,
    secret: &[u8; HASH_LEN],
    label: &[u8],
) -> Result<Secret, Error> {
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    hash::expand_label(p, secret, label, &[], out.as_mut())?;
    Ok(out)
}

impl HandshakeSecrets {
    /// `master = HKDF-Extract(salt = h, ikm = k1 || k2)`, then one
    /// `HKDF-Expand-Label` per secret.
    pub(crate) fn derive(
        p: &CryptoProvider,
        k1: &[u8; HASH_LEN],
        k2: &[u8; HASH_LEN],
        h: &[u8; HASH_LEN],
    ) -> Result<Self, Error> {
        let mut ikm = Zeroizing::new([0u8; 2 * HASH_LEN]);
        let (a, b) = ikm.split_at_mut(HASH_LEN);
        a.copy_from_slice(k1);
        b.copy_from_slice(k2);
        let master = p.hash.hkdf_extract(h, ikm.as_ref());
        Ok(Self {
            client_to_server: expand_secret(p, &master, b"c2s traffic")?,
            server_to_client: expand_secret(p, &master, b"s2c traffic")?,
            exporter: expand_secret(p, &master, b"exporter")?,
        })
    }
}

/// The resumption secret (section 4.11), the pre-shared key of the
/// connection's ticket: `HKDF-Expand-Label(exporter_secret, "resumption",
/// "", 32)`. Derived when a ticket is sent or received, so a connection
/// keeps nothing for it (the exporter's own labels hash their context, so
/// no export can produce it).
pub(crate) fn resumption_secret(
    p: &CryptoProvider,
    exporter: &[u8; HASH_LEN],
) -> Result<Secret, Error> {
    expand_secret(p, exporter, b"resumption")
}

/// The record key and IV of a traffic secret.
pub(crate) fn record_key_iv(
    p: &CryptoProvider,
    secret: &[u8; HASH_LEN],
) -> Result<(Zeroizing<[u8; KEY_LEN]>, [u8; NONCE_LEN]), Error> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    let mut iv = [0u8; NONCE_LEN];
    hash::expand_label(p, secret, b"key", &[], key.as_mut())?;
    hash::expand_label(p, secret, b"iv", &[], &mut iv)?;
    Ok((key, iv))
}

/// The traffic secret after a key update.
pub(crate) fn next_traffic_secret(
    p: &CryptoProvider,
    secret: &[u8; HASH_LEN],
) -> Result<Secret, Error> {
    expand_secret(p, secret, b"traffic upd")
}

/// The exporter: `HKDF-Expand-Label(exporter_secret, label, SHA-256(context), len)`.
pub(crate) fn export(
    p: &CryptoProvider,
    exporter: &[u8; HASH_LEN],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    if label.is_empty() {
        return Err(Error::InvalidConfig("exporter label must not be empty"));
    }
    hash::expand_label(p, exporter, label, &p.hash.sha256(&[context]), out)
}

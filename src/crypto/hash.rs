//! SHA-256, HKDF (RFC 5869) and lwsec's `HKDF-Expand-Label`.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::Error;

/// SHA-256 output length.
pub(crate) const HASH_LEN: usize = 32;

/// Prefix of every lwsec HKDF label (`spec/PROTOCOL.md`, "Key schedule").
const LABEL_PREFIX: &[u8] = b"lwsec ";

/// SHA-256 over the concatenation of `parts`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; HASH_LEN] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Noise `HKDF(chaining_key, input_key_material, 2)`: RFC 5869 HKDF with
/// salt = `chaining_key`, empty info, 64 bytes of output split in two.
pub(crate) fn noise_hkdf2(
    chaining_key: &[u8; HASH_LEN],
    ikm: &[u8],
) -> (Zeroizing<[u8; HASH_LEN]>, Zeroizing<[u8; HASH_LEN]>) {
    let mut okm = Zeroizing::new([0u8; 2 * HASH_LEN]);
    let hk = Hkdf::<Sha256>::new(Some(chaining_key), ikm);
    // 64 bytes is far below HKDF's 255 * 32 limit.
    let _ = hk.expand(&[], okm.as_mut());
    let (mut a, mut b) = (
        Zeroizing::new([0u8; HASH_LEN]),
        Zeroizing::new([0u8; HASH_LEN]),
    );
    let (first, second) = okm.split_at(HASH_LEN);
    a.copy_from_slice(first);
    b.copy_from_slice(second);
    (a, b)
}

/// RFC 5869 HKDF-Extract.
pub(crate) fn hkdf_extract(salt: &[u8], ikm: &[u8]) -> Zeroizing<[u8; HASH_LEN]> {
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), ikm);
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    out.copy_from_slice(&prk);
    out
}

/// RFC 5869 HKDF-Expand with `prk` used directly as the pseudorandom key.
/// Fails when `out` is longer than 255 * 32 bytes.
pub(crate) fn hkdf_expand(prk: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), Error> {
    let hk = Hkdf::<Sha256>::from_prk(prk)
        .map_err(|_| Error::InvalidKey("HKDF PRK shorter than 32 bytes"))?;
    hk.expand(info, out)
        .map_err(|_| Error::InvalidConfig("HKDF output longer than 255 * 32 bytes"))
}

/// RFC 5869 HKDF (extract then expand), for conformance tests.
#[cfg(test)]
pub(crate) fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), Error> {
    let prk = hkdf_extract(salt, ikm);
    hkdf_expand(prk.as_ref(), info, out)
}

/// `HKDF-Expand-Label(secret, label, context, length)`:
/// HKDF-Expand with info = `u16 length || u8 len || "lwsec " + label || u8 len || context`.
pub(crate) fn expand_label(
    secret: &[u8; HASH_LEN],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    let length = u16::try_from(out.len()).map_err(|_| Error::InvalidConfig("output too long"))?;
    let full_label_len = LABEL_PREFIX.len().saturating_add(label.len());
    let label_len =
        u8::try_from(full_label_len).map_err(|_| Error::InvalidConfig("label too long"))?;
    let context_len =
        u8::try_from(context.len()).map_err(|_| Error::InvalidConfig("context too long"))?;
    let mut info = Vec::with_capacity(
        full_label_len
            .saturating_add(context.len())
            .saturating_add(4),
    );
    info.extend_from_slice(&length.to_be_bytes());
    info.push(label_len);
    info.extend_from_slice(LABEL_PREFIX);
    info.extend_from_slice(label);
    info.push(context_len);
    info.extend_from_slice(context);
    hkdf_expand(secret, &info, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_hkdf_matches_hmac_definition() {
        // Noise spec section 4.3: temp = HMAC(ck, ikm); o1 = HMAC(temp, 0x01);
        // o2 = HMAC(temp, o1 || 0x02). HKDF with empty info is the same.
        use hmac::{Hmac, Mac};
        let ck = [7u8; 32];
        let (o1, o2) = noise_hkdf2(&ck, b"input");
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&ck).unwrap();
        m.update(b"input");
        let temp = m.finalize().into_bytes();
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&temp).unwrap();
        m.update(&[1]);
        let t1 = m.finalize().into_bytes();
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&temp).unwrap();
        m.update(&t1);
        m.update(&[2]);
        let t2 = m.finalize().into_bytes();
        assert_eq!(&o1[..], &t1[..]);
        assert_eq!(&o2[..], &t2[..]);
    }

    #[test]
    fn expand_label_info_layout() {
        let secret = [1u8; 32];
        let mut a = [0u8; 12];
        expand_label(&secret, b"iv", b"", &mut a).unwrap();
        let mut info = vec![0, 12, 8];
        info.extend_from_slice(b"lwsec iv");
        info.push(0);
        let mut b = [0u8; 12];
        hkdf_expand(&secret, &info, &mut b).unwrap();
        assert_eq!(a, b);
    }
}

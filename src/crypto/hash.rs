//! SHA-256, HKDF (RFC 5869) and lwsec's `HKDF-Expand-Label`, through a provider.

use zeroize::Zeroizing;

use crate::crypto::CryptoProvider;
use crate::error::Error;

/// SHA-256 output length.
pub(crate) const HASH_LEN: usize = 32;

/// Two 32-byte secrets, wiped on drop.
pub(crate) type SecretPair = (Zeroizing<[u8; HASH_LEN]>, Zeroizing<[u8; HASH_LEN]>);

/// Prefix of every lwsec HKDF label (`spec/PROTOCOL.md`, "Key schedule").
const LABEL_PREFIX: &[u8] = b"lwsec ";

/// Noise `HKDF(chaining_key, input_key_material, 2)`: RFC 5869 HKDF with
/// salt = `chaining_key`, empty info, 64 bytes of output split in two.
pub(crate) fn noise_hkdf2(
    p: &CryptoProvider,
    chaining_key: &[u8; HASH_LEN],
    ikm: &[u8],
) -> Result<SecretPair, Error> {
    let prk = p.hash.hkdf_extract(chaining_key, ikm);
    let mut okm = Zeroizing::new([0u8; 2 * HASH_LEN]);
    p.hash.hkdf_expand(&prk, &[], okm.as_mut())?;
    let (mut a, mut b) = (
        Zeroizing::new([0u8; HASH_LEN]),
        Zeroizing::new([0u8; HASH_LEN]),
    );
    let (first, second) = okm.split_at(HASH_LEN);
    a.copy_from_slice(first);
    b.copy_from_slice(second);
    Ok((a, b))
}

/// Noise's `HKDF(chaining_key, input_key_material, 3)` (for
/// `MixKeyAndHash`): three 32-byte outputs.
pub(crate) fn noise_hkdf3(
    p: &CryptoProvider,
    chaining_key: &[u8; HASH_LEN],
    ikm: &[u8],
) -> Result<[Zeroizing<[u8; HASH_LEN]>; 3], Error> {
    let prk = p.hash.hkdf_extract(chaining_key, ikm);
    let mut okm = Zeroizing::new([0u8; 3 * HASH_LEN]);
    p.hash.hkdf_expand(&prk, &[], okm.as_mut())?;
    let mut out: [Zeroizing<[u8; HASH_LEN]>; 3] = Default::default();
    for (slot, chunk) in out.iter_mut().zip(okm.chunks_exact(HASH_LEN)) {
        slot.copy_from_slice(chunk);
    }
    Ok(out)
}

/// RFC 5869 HKDF (extract then expand), for conformance tests.
#[cfg(test)]
pub(crate) fn hkdf(
    p: &CryptoProvider,
    salt: &[u8],
    ikm: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    let prk = p.hash.hkdf_extract(salt, ikm);
    p.hash.hkdf_expand(&prk, info, out)
}

/// `HKDF-Expand-Label(secret, label, context, length)`:
/// HKDF-Expand with info = `u16 length || u8 len || "lwsec " + label || u8 len || context`.
pub(crate) fn expand_label(
    p: &CryptoProvider,
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
    let mut info = [0u8; 2 + 1 + 255 + 1 + 255];
    let mut n = 0usize;
    for part in [
        &length.to_be_bytes()[..],
        &[label_len],
        LABEL_PREFIX,
        label,
        &[context_len],
        context,
    ] {
        let end = n.saturating_add(part.len());
        info.get_mut(n..end)
            .ok_or(Error::InvalidConfig("label too long"))?
            .copy_from_slice(part);
        n = end;
    }
    p.hash
        .hkdf_expand(secret, info.get(..n).unwrap_or_default(), out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::RUST_CRYPTO;
    use sha2::Sha256;

    #[test]
    fn noise_hkdf_matches_hmac_definition() {
        // Noise spec section 4.3: temp = HMAC(ck, ikm); o1 = HMAC(temp, 0x01);
        // o2 = HMAC(temp, o1 || 0x02). HKDF with empty info is the same.
        use hmac::{Hmac, Mac};
        let ck = [7u8; 32];
        let (o1, o2) = noise_hkdf2(&RUST_CRYPTO, &ck, b"input").unwrap();
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
        expand_label(&RUST_CRYPTO, &secret, b"iv", b"", &mut a).unwrap();
        let mut info = vec![0, 12, 8];
        info.extend_from_slice(b"lwsec iv");
        info.push(0);
        let mut b = [0u8; 12];
        RUST_CRYPTO
            .hash
            .hkdf_expand(&secret, &info, &mut b)
            .unwrap();
        assert_eq!(a, b);
    }
}

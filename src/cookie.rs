//! Stateless cookies for the Retry (`spec/PROTOCOL.md` section 4.5).
//!
//! `cookie = timestamp (8) || HMAC-SHA256(secret, "lwsec cookie v1" ||
//! timestamp || address)[..16]`: the server proves, without keeping state,
//! that a retried ClientHello comes from an address that received its Retry
//! recently.

use std::time::Duration;

use subtle::ConstantTimeEq;

use crate::crypto::Hash;
use crate::error::CookieReason;
use crate::error::Error;
use crate::time::Time;

/// Length of a cookie on the wire.
pub(crate) const COOKIE_LEN: usize = 24;
const MAC_LEN: usize = 16;
/// How far in the future a cookie's timestamp may be (clock skew in a fleet).
const MAX_FUTURE: Duration = Duration::from_secs(5);

/// The cookie's MAC: the first 16 bytes of HMAC-SHA256 over the label, the
/// timestamp and the address, computed by the configuration's provider.
fn mac(
    hash: &dyn Hash,
    secret: &[u8; 32],
    timestamp: u64,
    address: &[u8],
) -> Result<[u8; MAC_LEN], Error> {
    let full = hash.hmac_sha256(
        secret,
        &[b"lwsec cookie v1", &timestamp.to_be_bytes(), address],
    )?;
    let mut tag = [0u8; MAC_LEN];
    for (t, f) in tag.iter_mut().zip(full) {
        *t = f;
    }
    Ok(tag)
}

/// A cookie for `address` issued at `now`.
pub(crate) fn make(
    hash: &dyn Hash,
    secret: &[u8; 32],
    now: Time,
    address: &[u8],
) -> Result<Vec<u8>, Error> {
    let ts = now.as_millis();
    let mut cookie = Vec::with_capacity(COOKIE_LEN);
    cookie.extend_from_slice(&ts.to_be_bytes());
    cookie.extend_from_slice(&mac(hash, secret, ts, address)?);
    Ok(cookie)
}

/// Checks a cookie echoed from `address` at `now` (constant-time MAC check).
pub(crate) fn verify(
    hash: &dyn Hash,
    secret: &[u8; 32],
    cookie: &[u8],
    address: &[u8],
    now: Time,
    lifetime: Duration,
) -> Result<(), Error> {
    if cookie.len() != COOKIE_LEN {
        return Err(Error::InvalidCookie(CookieReason::WrongLength));
    }
    let (ts_bytes, tag) = cookie.split_at(8);
    let ts = u64::from_be_bytes(
        ts_bytes
            .try_into()
            .map_err(|_| Error::InvalidCookie(CookieReason::WrongLength))?,
    );
    if !bool::from(mac(hash, secret, ts, address)?.ct_eq(tag)) {
        return Err(Error::InvalidCookie(CookieReason::Forged));
    }
    let issued = Time::from_millis(ts);
    if now.saturating_add(MAX_FUTURE) < issued {
        return Err(Error::InvalidCookie(CookieReason::FromTheFuture));
    }
    if issued.saturating_add(lifetime) < now {
        return Err(Error::InvalidCookie(CookieReason::Expired));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::providers;

    const LIFE: Duration = Duration::from_secs(30);

    #[test]
    fn cookie_binds_address_secret_and_time() {
        for provider in providers() {
            binds(provider.hash);
        }
    }

    #[test]
    fn providers_make_the_same_cookie() {
        let now = Time::from_millis(1_000_000);
        let cookies: Vec<_> = providers()
            .iter()
            .map(|p| make(p.hash, &[7; 32], now, b"10.0.0.1:5").unwrap())
            .collect();
        assert!(cookies.windows(2).all(|w| w[0] == w[1]));
        // HMAC-SHA256 as RFC 4231 computes it, by an independent crate.
        use hmac::{Hmac, Mac};
        let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&[7; 32]).unwrap();
        m.update(b"lwsec cookie v1");
        m.update(&now.as_millis().to_be_bytes());
        m.update(b"10.0.0.1:5");
        assert_eq!(cookies[0][8..], m.finalize().into_bytes()[..16]);
    }

    fn binds(hash: &dyn Hash) {
        let now = Time::from_millis(1_000_000);
        let c = make(hash, &[1; 32], now, b"10.0.0.1:5").unwrap();
        assert_eq!(c.len(), COOKIE_LEN);
        assert_eq!(verify(hash, &[1; 32], &c, b"10.0.0.1:5", now, LIFE), Ok(()));
        assert!(verify(hash, &[1; 32], &c, b"10.0.0.2:5", now, LIFE).is_err());
        assert!(verify(hash, &[2; 32], &c, b"10.0.0.1:5", now, LIFE).is_err());
        let later = now.saturating_add(Duration::from_secs(31));
        assert_eq!(
            verify(hash, &[1; 32], &c, b"10.0.0.1:5", later, LIFE),
            Err(Error::InvalidCookie(CookieReason::Expired))
        );
        let mut forged = c.clone();
        forged[23] ^= 1;
        assert!(verify(hash, &[1; 32], &forged, b"10.0.0.1:5", now, LIFE).is_err());
        let mut moved = c;
        moved[7] ^= 1; // change the timestamp
        assert!(verify(hash, &[1; 32], &moved, b"10.0.0.1:5", now, LIFE).is_err());
    }
}

//! Stateless cookies for the Retry (`spec/PROTOCOL.md` section 4.5).
//!
//! `cookie = timestamp (8) || HMAC-SHA256(secret, "lwsec cookie v1" ||
//! timestamp || address)[..16]`: the server proves, without keeping state,
//! that a retried ClientHello comes from an address that received its Retry
//! recently.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::Error;
use crate::time::Time;

/// Length of a cookie on the wire.
pub(crate) const COOKIE_LEN: usize = 24;
const MAC_LEN: usize = 16;
/// How far in the future a cookie's timestamp may be (clock skew in a fleet).
const MAX_FUTURE: Duration = Duration::from_secs(5);

fn mac(secret: &[u8; 32], timestamp: u64, address: &[u8]) -> Result<Hmac<Sha256>, Error> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .map_err(|_| Error::InvalidConfig("cookie secret"))?;
    m.update(b"lwsec cookie v1");
    m.update(&timestamp.to_be_bytes());
    m.update(address);
    Ok(m)
}

/// A cookie for `address` issued at `now`.
pub(crate) fn make(secret: &[u8; 32], now: Time, address: &[u8]) -> Result<Vec<u8>, Error> {
    let ts = now.as_millis();
    let tag = mac(secret, ts, address)?.finalize().into_bytes();
    let mut cookie = Vec::with_capacity(COOKIE_LEN);
    cookie.extend_from_slice(&ts.to_be_bytes());
    cookie.extend_from_slice(
        tag.get(..MAC_LEN)
            .ok_or(Error::InvalidConfig("mac length"))?,
    );
    Ok(cookie)
}

/// Checks a cookie echoed from `address` at `now` (constant-time MAC check).
pub(crate) fn verify(
    secret: &[u8; 32],
    cookie: &[u8],
    address: &[u8],
    now: Time,
    lifetime: Duration,
) -> Result<(), Error> {
    if cookie.len() != COOKIE_LEN {
        return Err(Error::InvalidCookie("wrong length"));
    }
    let (ts_bytes, tag) = cookie.split_at(8);
    let ts = u64::from_be_bytes(
        ts_bytes
            .try_into()
            .map_err(|_| Error::InvalidCookie("wrong length"))?,
    );
    mac(secret, ts, address)?
        .verify_truncated_left(tag)
        .map_err(|_| {
            Error::InvalidCookie("forged, or issued to another address or by another secret")
        })?;
    let issued = Time::from_millis(ts);
    if now.saturating_add(MAX_FUTURE) < issued {
        return Err(Error::InvalidCookie("issued in the future"));
    }
    if issued.saturating_add(lifetime) < now {
        return Err(Error::InvalidCookie("expired"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFE: Duration = Duration::from_secs(30);

    #[test]
    fn cookie_binds_address_secret_and_time() {
        let now = Time::from_millis(1_000_000);
        let c = make(&[1; 32], now, b"10.0.0.1:5").unwrap();
        assert_eq!(c.len(), COOKIE_LEN);
        assert_eq!(verify(&[1; 32], &c, b"10.0.0.1:5", now, LIFE), Ok(()));
        assert!(verify(&[1; 32], &c, b"10.0.0.2:5", now, LIFE).is_err());
        assert!(verify(&[2; 32], &c, b"10.0.0.1:5", now, LIFE).is_err());
        let later = now.saturating_add(Duration::from_secs(31));
        assert_eq!(
            verify(&[1; 32], &c, b"10.0.0.1:5", later, LIFE),
            Err(Error::InvalidCookie("expired"))
        );
        let mut forged = c.clone();
        forged[23] ^= 1;
        assert!(verify(&[1; 32], &forged, b"10.0.0.1:5", now, LIFE).is_err());
        let mut moved = c;
        moved[7] ^= 1; // change the timestamp
        assert!(verify(&[1; 32], &moved, b"10.0.0.1:5", now, LIFE).is_err());
    }
}

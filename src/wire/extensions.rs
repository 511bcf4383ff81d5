//! Handshake payload extensions: the plaintext of every Noise handshake
//! payload is a list of `type (2) || length (2) || value`, in strictly
//! increasing type order.
//!
//! An unknown extension is ignored unless its type has the critical bit
//! (0x8000) set, in which case the handshake fails with
//! `unsupported_extension`. Version 1 defines no extension yet; the type
//! numbers below 0x0100 are reserved for lwsec (`spec/PROTOCOL.md` 4.4).

use crate::error::Error;
use crate::wire::Reader;

/// The bit that makes an extension critical.
pub(crate) const CRITICAL: u16 = 0x8000;

/// Checks an extension list and returns the extensions this version
/// understands (none in version 1: the list is validated and skipped).
pub(crate) fn parse(payload: &[u8]) -> Result<(), Error> {
    let mut r = Reader::new(payload);
    let mut previous: Option<u16> = None;
    while r.remaining() > 0 {
        let ty = r.u16("extension type")?;
        let len = r.u16("extension length")?;
        let _value = r.take(usize::from(len), "extension value")?;
        if previous.is_some_and(|p| ty <= p) {
            return Err(Error::Decode("extensions not in strictly increasing order"));
        }
        previous = Some(ty);
        if ty & CRITICAL != 0 {
            return Err(Error::UnsupportedExtension(ty));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_extensions_are_skipped_unless_critical() {
        assert_eq!(parse(&[]), Ok(()));
        assert_eq!(parse(&[0x12, 0x34, 0, 2, 7, 7, 0x12, 0x35, 0, 0]), Ok(()));
        assert_eq!(
            parse(&[0x92, 0x34, 0, 0]),
            Err(Error::UnsupportedExtension(0x9234))
        );
        assert!(matches!(
            parse(&[0, 5, 0, 0, 0, 5, 0, 0]),
            Err(Error::Decode(_))
        ));
        assert!(matches!(parse(&[0, 5, 0, 3, 1]), Err(Error::Decode(_))));
        assert!(matches!(parse(&[0]), Err(Error::Decode(_))));
    }
}

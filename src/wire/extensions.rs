//! Handshake payload extensions: the plaintext of every Noise handshake
//! payload is a list of `type (2) || length (2) || value`, in strictly
//! increasing type order (`spec/PROTOCOL.md` section 4.4).
//!
//! An unknown extension is ignored unless its type has the critical bit
//! (0x8000) set, in which case the handshake fails with
//! `unsupported_extension`. A known extension in the wrong message is an
//! `illegal_parameter`.

use crate::error::Error;
use crate::error::{DecodeReason, IllegalReason};
use crate::wire::Reader;
use crate::wire::limits::MAX_EARLY_DATA;

/// The bit that makes an extension critical.
pub(crate) const CRITICAL: u16 = 0x8000;
/// ClientHello: the client's clock (u64 milliseconds since the UNIX epoch).
pub(crate) const TIMESTAMP: u16 = 0x0001;
/// ClientHello: early application data.
pub(crate) const EARLY_DATA: u16 = 0x0002;
/// ServerHello: whether the early data was accepted (1) or rejected (0).
pub(crate) const EARLY_DATA_STATUS: u16 = 0x0003;
/// ServerHello: the server static keys the client should pin, in order
/// (authenticated: message 2 is encrypted and bound to the handshake).
pub(crate) const SERVER_KEYS: u16 = 0x0004;
/// Most keys a `server_keys` extension may announce.
pub(crate) const MAX_ANNOUNCED_KEYS: usize = 8;

/// Which handshake message a payload belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Message {
    ClientHello,
    ServerHello,
}

/// The extensions this version understands.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Extensions<'a> {
    pub(crate) timestamp: Option<u64>,
    pub(crate) early_data: Option<&'a [u8]>,
    pub(crate) early_data_status: Option<bool>,
    /// Raw 32-byte public keys.
    pub(crate) server_keys: Option<Vec<[u8; 32]>>,
}

/// Checks an extension list and returns the known extensions.
pub(crate) fn parse(payload: &[u8], message: Message) -> Result<Extensions<'_>, Error> {
    let mut r = Reader::new(payload);
    let mut previous: Option<u16> = None;
    let mut exts = Extensions::default();
    while r.remaining() > 0 {
        let ty = r.u16(DecodeReason::ExtensionType)?;
        let len = r.u16(DecodeReason::ExtensionLength)?;
        let value = r.take(usize::from(len), DecodeReason::ExtensionValue)?;
        if previous.is_some_and(|p| ty <= p) {
            return Err(Error::Decode(DecodeReason::ExtensionsOutOfOrder));
        }
        previous = Some(ty);
        match (ty, message) {
            (TIMESTAMP, Message::ClientHello) => {
                let bytes: [u8; 8] = value
                    .try_into()
                    .map_err(|_| Error::Decode(DecodeReason::TimestampLength))?;
                exts.timestamp = Some(u64::from_be_bytes(bytes));
            }
            (EARLY_DATA, Message::ClientHello) => {
                if value.len() > MAX_EARLY_DATA {
                    return Err(Error::IllegalParameter(IllegalReason::EarlyDataTooLong));
                }
                exts.early_data = Some(value);
            }
            (EARLY_DATA_STATUS, Message::ServerHello) => {
                exts.early_data_status = Some(match value {
                    [0] => false,
                    [1] => true,
                    _ => return Err(Error::Decode(DecodeReason::EarlyDataStatusValue)),
                });
            }
            (SERVER_KEYS, Message::ServerHello) => {
                let keys: Vec<[u8; 32]> = value
                    .chunks(32)
                    .filter_map(|k| <[u8; 32]>::try_from(k).ok())
                    .collect();
                if value.is_empty() || value.len() % 32 != 0 || keys.len() > MAX_ANNOUNCED_KEYS {
                    return Err(Error::Decode(DecodeReason::ServerKeysLength));
                }
                exts.server_keys = Some(keys);
            }
            (TIMESTAMP | EARLY_DATA | EARLY_DATA_STATUS | SERVER_KEYS, _) => {
                return Err(Error::IllegalParameter(IllegalReason::ExtensionNotAllowed));
            }
            (t, _) if t & CRITICAL != 0 => return Err(Error::UnsupportedExtension(t)),
            _ => {}
        }
    }
    Ok(exts)
}

/// Appends one extension.
pub(crate) fn push(out: &mut Vec<u8>, ty: u16, value: &[u8]) -> Result<(), Error> {
    let len = u16::try_from(value.len()).map_err(|_| Error::Internal("extension too long"))?;
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_extensions_are_skipped_unless_critical() {
        let ch = Message::ClientHello;
        assert_eq!(parse(&[], ch), Ok(Extensions::default()));
        assert_eq!(
            parse(&[0x12, 0x34, 0, 2, 7, 7, 0x12, 0x35, 0, 0], ch),
            Ok(Extensions::default())
        );
        assert_eq!(
            parse(&[0x92, 0x34, 0, 0], ch),
            Err(Error::UnsupportedExtension(0x9234))
        );
        assert!(matches!(
            parse(&[0, 5, 0, 0, 0, 5, 0, 0], ch),
            Err(Error::Decode(_))
        ));
        assert!(matches!(parse(&[0, 5, 0, 3, 1], ch), Err(Error::Decode(_))));
        assert!(matches!(parse(&[0], ch), Err(Error::Decode(_))));
    }

    #[test]
    fn server_keys_hold_one_to_eight_keys() {
        let sh = Message::ServerHello;
        let mut p = Vec::new();
        push(&mut p, SERVER_KEYS, &[7; 64]).unwrap();
        let keys = parse(&p, sh).unwrap().server_keys.unwrap();
        assert_eq!(keys, vec![[7; 32]; 2]);
        for bad in [0usize, 31, 33, 9 * 32] {
            let mut p = Vec::new();
            push(&mut p, SERVER_KEYS, &vec![7; bad]).unwrap();
            assert!(matches!(parse(&p, sh), Err(Error::Decode(_))), "{bad}");
        }
        let mut p = Vec::new();
        push(&mut p, SERVER_KEYS, &[7; 32]).unwrap();
        assert!(matches!(
            parse(&p, Message::ClientHello),
            Err(Error::IllegalParameter(_))
        ));
    }

    #[test]
    fn known_extensions_parse_in_their_message_only() {
        let mut p = Vec::new();
        push(&mut p, TIMESTAMP, &7u64.to_be_bytes()).unwrap();
        push(&mut p, EARLY_DATA, b"hi").unwrap();
        let e = parse(&p, Message::ClientHello).unwrap();
        assert_eq!((e.timestamp, e.early_data), (Some(7), Some(&b"hi"[..])));
        assert!(matches!(
            parse(&p, Message::ServerHello),
            Err(Error::IllegalParameter(_))
        ));
        let mut s = Vec::new();
        push(&mut s, EARLY_DATA_STATUS, &[1]).unwrap();
        assert_eq!(
            parse(&s, Message::ServerHello).unwrap().early_data_status,
            Some(true)
        );
        assert!(matches!(
            parse(&s, Message::ClientHello),
            Err(Error::IllegalParameter(_))
        ));
    }
}

//! The outer framing: `type (1) || length (2, big-endian) || body`.

use crate::error::DecodeReason;
use crate::error::Error;

/// Length of a frame header.
pub(crate) const HEADER_LEN: usize = super::limits::FRAME_HEADER_LEN;

/// Largest body of a ServerHello or Retry frame.
pub(crate) const MAX_HANDSHAKE_BODY: usize = 2048;

/// Largest body of a ClientHello frame (room for 8192 bytes of early data).
pub(crate) const MAX_CLIENT_HELLO_BODY: usize = 10240;

/// Largest body of an alert frame (one code byte).
pub(crate) const ALERT_BODY_LEN: usize = 1;

/// The type byte of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameType {
    ClientHello,
    ServerHello,
    Retry,
    /// The server will not resume with the ticket; the client runs a full
    /// handshake on the same connection (section 4.11). Empty body.
    ResumeRefused,
    Alert,
    Record,
}

impl FrameType {
    pub(crate) const fn to_u8(self) -> u8 {
        match self {
            Self::ClientHello => 0x01,
            Self::ServerHello => 0x02,
            Self::Retry => 0x03,
            Self::ResumeRefused => 0x04,
            Self::Alert => 0x15,
            Self::Record => 0x17,
        }
    }

    pub(crate) fn from_u8(b: u8) -> Result<Self, Error> {
        Ok(match b {
            0x01 => Self::ClientHello,
            0x02 => Self::ServerHello,
            0x03 => Self::Retry,
            0x04 => Self::ResumeRefused,
            0x15 => Self::Alert,
            0x17 => Self::Record,
            _ => return Err(Error::Decode(DecodeReason::UnknownFrameType)),
        })
    }

    /// The largest body length allowed for this type.
    pub(crate) fn max_body(self) -> usize {
        match self {
            Self::ClientHello => MAX_CLIENT_HELLO_BODY,
            Self::ServerHello | Self::Retry => MAX_HANDSHAKE_BODY,
            Self::ResumeRefused => 0,
            Self::Alert => ALERT_BODY_LEN,
            Self::Record => super::limits::MAX_CIPHERTEXT_LEN,
        }
    }
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub(crate) frame_type: FrameType,
    pub(crate) body_len: usize,
}

impl FrameHeader {
    /// Parses and bounds-checks a frame header.
    pub(crate) fn decode(bytes: [u8; HEADER_LEN]) -> Result<Self, Error> {
        let [ty, hi, lo] = bytes;
        let frame_type = FrameType::from_u8(ty)?;
        let body_len = usize::from(u16::from_be_bytes([hi, lo]));
        if body_len > frame_type.max_body() {
            return Err(Error::RecordOverflow);
        }
        Ok(Self {
            frame_type,
            body_len,
        })
    }

    /// Encodes a header for `body_len` bytes.
    pub(crate) fn encode(
        frame_type: FrameType,
        body_len: usize,
    ) -> Result<[u8; HEADER_LEN], Error> {
        if body_len > frame_type.max_body() {
            return Err(Error::RecordOverflow);
        }
        let len = u16::try_from(body_len).map_err(|_| Error::RecordOverflow)?;
        let [hi, lo] = len.to_be_bytes();
        Ok([frame_type.to_u8(), hi, lo])
    }
}

/// Appends a whole frame to `out`.
pub(crate) fn write_frame(
    out: &mut Vec<u8>,
    frame_type: FrameType,
    body: &[u8],
) -> Result<(), Error> {
    out.extend_from_slice(&FrameHeader::encode(frame_type, body.len())?);
    out.extend_from_slice(body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_limits_are_enforced() {
        assert_eq!(
            FrameHeader::decode([0x15, 0, 2]),
            Err(Error::RecordOverflow)
        );
        assert_eq!(
            FrameHeader::decode([0x99, 0, 0]),
            Err(Error::Decode(DecodeReason::UnknownFrameType))
        );
        let h = FrameHeader::decode([0x01, 0x00, 0x30]).unwrap();
        assert_eq!(
            h,
            FrameHeader {
                frame_type: FrameType::ClientHello,
                body_len: 0x30
            }
        );
        assert!(FrameHeader::decode([0x17, 0xff, 0xff]).is_err());
    }
}

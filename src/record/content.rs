//! Record content types.

/// What a record carries (the byte after the payload in the inner plaintext).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum ContentType {
    /// The last (or only) fragment of an application message. 0x01.
    MessageEnd,
    /// A fragment of an application message; more follow. 0x02.
    MessageContinues,
    /// The sender switches to its next traffic secret after this record. 0x03.
    KeyUpdate,
    /// Keep-alive request; the receiver answers with a pong. 0x04.
    Ping,
    /// Keep-alive answer echoing the ping's payload. 0x05.
    Pong,
    /// An alert: close_notify or a fatal error code. 0x06.
    Alert,
    /// Key confirmation: the client's first record, empty, proving it holds
    /// the handshake's keys (`spec/PROTOCOL.md` section 4.10). 0x07.
    Confirm,
    /// A resumption ticket, server to client after the key confirmation
    /// (`spec/PROTOCOL.md` section 4.11). 0x08.
    Ticket,
}

impl ContentType {
    /// The type's byte.
    pub(crate) const fn to_u8(self) -> u8 {
        match self {
            Self::MessageEnd => 0x01,
            Self::MessageContinues => 0x02,
            Self::KeyUpdate => 0x03,
            Self::Ping => 0x04,
            Self::Pong => 0x05,
            Self::Alert => 0x06,
            Self::Confirm => 0x07,
            Self::Ticket => 0x08,
        }
    }

    /// The type for a byte, if defined.
    pub(crate) const fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0x01 => Self::MessageEnd,
            0x02 => Self::MessageContinues,
            0x03 => Self::KeyUpdate,
            0x04 => Self::Ping,
            0x05 => Self::Pong,
            0x06 => Self::Alert,
            0x07 => Self::Confirm,
            0x08 => Self::Ticket,
            _ => return None,
        })
    }
}

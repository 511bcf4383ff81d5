//! Why the peer's input was refused, one enum per error that carries a
//! reason: typed, so that code can match on them (and count them), and each
//! with the words [`Error`](super::Error)'s `Display` uses.

use std::fmt;

/// Declares a reason enum: each variant documented by, and displayed as,
/// its text.
macro_rules! reasons {
    (
        $(#[$doc:meta])*
        $name:ident {
            $($variant:ident => $text:literal,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = $text]
                $variant,
            )*
        }

        impl $name {
            /// The reason in words, as `Display` writes it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

reasons! {
    /// Why the peer's bytes could not be parsed ([`Error::Decode`](super::Error::Decode),
    /// alert `decode_error`): the field or structure at fault.
    DecodeReason {
        UnknownFrameType => "unknown frame type",
        Magic => "magic",
        BadMagic => "bad magic: not an lwsec ClientHello",
        Version => "version",
        Pattern => "pattern",
        Suite => "suite",
        SuiteList => "suite list",
        SuiteListLength => "suite list must hold 1 to 8 suites",
        Flags => "flags",
        ServerKeyId => "server key id",
        RetrySuite => "retry suite",
        RetryEcho => "retry echo",
        RetryCookie => "retry cookie",
        RetryCookieTooLong => "retry cookie too long",
        TrailingBytesAfterRetry => "trailing bytes after retry",
        TrailingBytes => "trailing bytes",
        HeaderBounds => "ClientHello header bounds",
        ExtensionType => "extension type",
        ExtensionLength => "extension length",
        ExtensionValue => "extension value",
        ExtensionsOutOfOrder => "extensions not in strictly increasing order",
        TimestampLength => "timestamp length",
        EarlyDataStatusValue => "early_data_status value",
        ServerKeysLength => "server_keys: 1 to 8 keys of 32 bytes",
        HandshakeMessageTooShort => "handshake message too short for its keys and tag",
        TruncatedEphemeralKey => "truncated ephemeral key",
        TruncatedStaticKey => "truncated static key",
        PublicKeyLength => "public key length",
        StaticKey => "static key",
        HandshakePayload => "handshake payload",
        CiphertextShorterThanTag => "ciphertext shorter than a tag",
        EmptyAlert => "empty alert",
        AlertPayload => "alert payload",
        EmptyFragment => "empty message fragment",
        KeyUpdatePayload => "key_update payload",
        PingTooLong => "ping payload longer than 64 bytes",
        PongTooLong => "pong payload longer than 64 bytes",
        ConfirmWithPayload => "confirm record with a payload",
        TicketLength => "resumption ticket: 1 to 1024 bytes",
        TicketRecord => "ticket record: lifetime of 1 s to 7 days, then a ticket",
    }
}

reasons! {
    /// What arrived when it is not allowed
    /// ([`Error::UnexpectedMessage`](super::Error::UnexpectedMessage),
    /// alert `unexpected_message`).
    UnexpectedReason {
        ExpectedClientHello => "expected ClientHello",
        ExpectedServerHelloOrRetry => "expected ServerHello or Retry",
        SecondRetry => "a second Retry",
        NoiseFinished => "Noise handshake already finished",
        KeyMissingForDh => "key missing for DH",
        NotOurTurnToWrite => "not this side's turn to write",
        NotOurTurnToRead => "not this side's turn to read",
        HandshakeFrameAfterHandshake => "handshake frame after the handshake",
        CleartextAlertAfterHandshake => "cleartext alert after the handshake",
        RecordBeforeConfirmation => "record before the client's key confirmation",
        ConfirmAfterHandshake => "confirm record after the handshake",
        RecordWithoutContentType => "record without a content type",
        UnknownContentType => "unknown record content type",
        RecordAfterCloseNotify => "record after close_notify",
        CloseNotifyInsideMessage => "close_notify inside an unfinished message",
        ResumeRefusedWithoutTicket => "ResumeRefused answering a ClientHello without a ticket",
        TicketToServer => "ticket record sent to a server",
        SecondTicket => "a second ticket record",
    }
}

reasons! {
    /// Which field had a value that is never allowed
    /// ([`Error::IllegalParameter`](super::Error::IllegalParameter), alert
    /// `illegal_parameter`).
    IllegalReason {
        ReservedFlags => "reserved flags set",
        DuplicateSuite => "duplicate suite in suite list",
        FirstSuiteNotListed => "first-flight suite not in the suite list",
        RetryEchoSuiteMismatch => "Retry echo does not match the ClientHello suite",
        RetriedSuiteNotSelected => "retried ClientHello uses a suite the server did not select",
        RetrySuiteNotOffered => "Retry selected a suite the client did not offer",
        RetryChangesNothing => "Retry that changes nothing",
        ExtensionNotAllowed => "extension not allowed in this message",
        EarlyDataTooLong => "early data longer than 8192 bytes",
        EarlyDataMismatch => "early data flag, data and timestamp disagree",
        EarlyDataStatusMissing => "early_data_status missing",
        EarlyDataStatusUnexpected => "early_data_status without early data",
    }
}

reasons! {
    /// Why a Retry cookie was refused ([`Error::InvalidCookie`](super::Error::InvalidCookie),
    /// alert `bad_cookie`).
    CookieReason {
        Required => "a cookie is required",
        WrongLength => "wrong length",
        Forged => "forged, or issued to another address or by another secret",
        FromTheFuture => "issued in the future",
        Expired => "expired",
    }
}

//! Errors and alert codes.
//!
//! Every failure is one [`Error`]. Errors caused by the peer map to an
//! [`AlertCode`] that lwsec sends before it gives up on the connection; errors
//! caused by the local application (API misuse, bad configuration) are never
//! sent to the peer.

use std::fmt;

mod reasons;

pub use reasons::{CookieReason, DecodeReason, IllegalReason, UnexpectedReason};

/// A code carried by an alert, in the clear during the handshake and inside a
/// protected record afterwards (`spec/PROTOCOL.md`, "Alerts").
///
/// The numbers are part of the wire format and never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AlertCode {
    /// Graceful close: the sender will send nothing more.
    CloseNotify,
    /// A message arrived that is not allowed in the receiver's state.
    UnexpectedMessage,
    /// A record failed authentication.
    BadRecordMac,
    /// A record or handshake frame is longer than the limits allow.
    RecordOverflow,
    /// No suite, pattern or parameter is acceptable to both sides.
    HandshakeFailure,
    /// A field has a value the receiver cannot accept.
    IllegalParameter,
    /// A message could not be parsed.
    DecodeError,
    /// A handshake message failed to decrypt, or a DH result was all zeros.
    DecryptError,
    /// The protocol version is not supported.
    ProtocolVersion,
    /// The sender hit an internal failure (for example its RNG failed).
    InternalError,
    /// The server does not hold the static key the client asked for.
    UnknownServerKey,
    /// The server's application refused the client's static key (IK).
    ClientRejected,
    /// A critical extension is not understood.
    UnsupportedExtension,
    /// A message exceeds the receiver's maximum message size.
    MessageTooLarge,
    /// A Retry cookie is forged, expired, or was issued to another address.
    BadCookie,
    /// A code this version of lwsec does not know.
    Unknown(u8),
}

impl AlertCode {
    /// The code's byte on the wire.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::CloseNotify => 0,
            Self::UnexpectedMessage => 10,
            Self::BadRecordMac => 20,
            Self::RecordOverflow => 22,
            Self::HandshakeFailure => 40,
            Self::IllegalParameter => 47,
            Self::DecodeError => 50,
            Self::DecryptError => 51,
            Self::ProtocolVersion => 70,
            Self::InternalError => 80,
            Self::UnknownServerKey => 90,
            Self::ClientRejected => 91,
            Self::UnsupportedExtension => 92,
            Self::MessageTooLarge => 93,
            Self::BadCookie => 94,
            Self::Unknown(code) => code,
        }
    }

    /// The code for a byte read from the wire.
    pub fn from_u8(code: u8) -> Self {
        match code {
            0 => Self::CloseNotify,
            10 => Self::UnexpectedMessage,
            20 => Self::BadRecordMac,
            22 => Self::RecordOverflow,
            40 => Self::HandshakeFailure,
            47 => Self::IllegalParameter,
            50 => Self::DecodeError,
            51 => Self::DecryptError,
            70 => Self::ProtocolVersion,
            80 => Self::InternalError,
            90 => Self::UnknownServerKey,
            91 => Self::ClientRejected,
            92 => Self::UnsupportedExtension,
            93 => Self::MessageTooLarge,
            94 => Self::BadCookie,
            other => Self::Unknown(other),
        }
    }
}

impl fmt::Display for AlertCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::CloseNotify => "close_notify",
            Self::UnexpectedMessage => "unexpected_message",
            Self::BadRecordMac => "bad_record_mac",
            Self::RecordOverflow => "record_overflow",
            Self::HandshakeFailure => "handshake_failure",
            Self::IllegalParameter => "illegal_parameter",
            Self::DecodeError => "decode_error",
            Self::DecryptError => "decrypt_error",
            Self::ProtocolVersion => "protocol_version",
            Self::InternalError => "internal_error",
            Self::UnknownServerKey => "unknown_server_key",
            Self::ClientRejected => "client_rejected",
            Self::UnsupportedExtension => "unsupported_extension",
            Self::MessageTooLarge => "message_too_large",
            Self::BadCookie => "bad_cookie",
            Self::Unknown(code) => return write!(f, "unknown alert {code}"),
        };
        write!(f, "{name} ({})", self.to_u8())
    }
}

/// Why a server refused a client; each reason is sent as an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// The application does not let this client in (unknown or revoked
    /// device, banned address): alert `client_rejected`.
    NotAuthorized,
    /// The decision could not be made (the policy store failed or did not
    /// answer in time), so the server fails closed: alert `internal_error`
    /// (the client may try again later).
    PolicyUnavailable,
}

impl Rejection {
    /// The alert the client receives.
    pub fn alert(self) -> AlertCode {
        match self {
            Self::NotAuthorized => AlertCode::ClientRejected,
            Self::PolicyUnavailable => AlertCode::InternalError,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAuthorized => "the application does not authorize this client",
            Self::PolicyUnavailable => "the authorization policy failed or timed out (fail closed)",
        })
    }
}

/// A server-wide limit that made an adapter drop a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// The memory budget for received, undelivered bytes across connections
    /// is spent, and this connection held part of it.
    MemoryBudget,
    /// The cap on open connections is reached.
    Connections,
    /// The client's address is over its handshake rate.
    HandshakeRate,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MemoryBudget => "the memory budget for received data is spent",
            Self::Connections => "the connection cap is reached",
            Self::HandshakeRate => "the client's address is over its handshake rate",
        })
    }
}

/// Everything that can go wrong in lwsec.
///
/// Variants are grouped by who is at fault: the peer sent something invalid,
/// the peer is incompatible or refused us, the connection reached a limit or
/// was closed, or the local application misused the API.
/// [`is_fatal`](Self::is_fatal) tells whether a connection that returned
/// the error is dead (every further call returns the same error, and its
/// output may hold one alert to send) or unchanged (the call was refused:
/// fix the call and go on).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // --- the peer sent something invalid ---
    /// A frame or message could not be parsed; the reason names the field
    /// or structure.
    Decode(DecodeReason),
    /// A well-formed message arrived that is not allowed now; the reason
    /// says which.
    UnexpectedMessage(UnexpectedReason),
    /// A field had a value that is never allowed; the reason names it.
    IllegalParameter(IllegalReason),
    /// A protected record failed authentication: it was corrupted, forged,
    /// replayed, reordered or truncated on the way.
    BadRecordMac,
    /// A Noise handshake message failed to decrypt: it was tampered with, or
    /// the peers disagree on keys or negotiation (prologue).
    HandshakeDecrypt,
    /// The peer's public key (static or ephemeral) is a low-order point: the
    /// Diffie-Hellman result was all zeros, so the handshake was aborted.
    LowOrderPoint,
    /// A record or handshake frame is longer than the protocol allows.
    RecordOverflow,
    /// A retried ClientHello echoed a cookie that is forged, expired or was
    /// issued to another address, or echoed none when one was required.
    InvalidCookie(CookieReason),
    /// The peer sent a message larger than this side's configured maximum.
    MessageTooLarge {
        /// The configured maximum message size in bytes.
        limit: usize,
    },
    /// The peer's data ended without a graceful close: a truncation attack or
    /// a lost connection. Data received so far was authentic but may be incomplete.
    Truncated,

    // --- the peer is incompatible or refused ---
    /// The peer speaks a protocol version this side does not.
    UnsupportedVersion(u8),
    /// Server: the client asked for a static key (by key id) this server
    /// does not hold: its pin is stale, or it was rotated out.
    UnknownServerKey,
    /// The peers have no cipher suite in common.
    NoCommonSuite,
    /// The server does not accept this handshake pattern.
    UnsupportedPattern,
    /// The peer requires an extension this side does not understand.
    UnsupportedExtension(u16),
    /// Server: the application refused this client
    /// ([`Connection::reject_client`](crate::Connection::reject_client), or
    /// an adapter's authorizer); the client was sent the reason's alert.
    ClientRejected(Rejection),
    /// The peer sent a fatal alert.
    ///
    /// During the handshake alerts travel **in the clear**
    /// (`authenticated: false`): anyone on the path can forge one, so it
    /// says only that the connection failed, never why for certain. Do not
    /// act on it as a fact (for example by falling back to another pinned
    /// key). After the handshake alerts are inside protected records
    /// (`authenticated: true`).
    PeerAlert {
        /// The alert's code.
        code: AlertCode,
        /// Whether the alert came inside a protected record.
        authenticated: bool,
    },

    // --- limits and lifecycle ---
    /// The send sequence number is exhausted under the current key and a key
    /// update could not be sent in time; the connection must be re-established.
    SequenceExhausted,
    /// Nothing was received within the configured idle timeout.
    Timeout,
    /// A message begun by the peer was not completed within the configured
    /// partial-message timeout (it pinned its buffer too long).
    PartialMessageTimeout,
    /// The handshake did not complete within this deadline (the peer is
    /// silent or too slow, or the server's decision took too long).
    HandshakeTimeout(std::time::Duration),
    /// The connection was closed (by `close()` or the peer's close) and this
    /// operation needs an open connection.
    Closed,
    /// The random number generator failed.
    Rng,
    /// Server: a server-wide limit made the adapter drop this connection
    /// (nothing is sent; the peer sees the connection end).
    LimitReached(Limit),
    /// lwsec broke one of its own invariants (a bug); the text says which.
    /// The connection fails with `internal_error`.
    Internal(&'static str),

    // --- the local application misused the API ---
    /// Application data was sent or requested before the handshake completed;
    /// wait for [`Event::HandshakeComplete`](crate::Event::HandshakeComplete).
    HandshakeNotComplete,
    /// A message to send is larger than this side's `max_message_size`; split
    /// it or raise the limit on both sides.
    MessageTooLargeToSend {
        /// The configured maximum message size in bytes.
        limit: usize,
    },
    /// The configuration is not usable; the text says which field to fix.
    InvalidConfig(&'static str),
    /// An argument to a call is out of range; the text says which. Nothing
    /// happened and the connection is unchanged.
    InvalidArgument(&'static str),
    /// A key could not be parsed; the text says what is wrong with it.
    InvalidKey(&'static str),
    /// The caller's buffer is too small; `needed` bytes are required. Nothing
    /// was written and the connection is unchanged.
    WouldExceedBuffer {
        /// Bytes the caller's buffer must hold.
        needed: usize,
    },
}

impl Error {
    /// Whether a connection that returned this error has failed for good.
    /// `false` for API misuse, which changes nothing: sending before the
    /// handshake completed ([`HandshakeNotComplete`](Self::HandshakeNotComplete))
    /// or after [`close`](crate::Connection::close) ([`Closed`](Self::Closed)),
    /// a message over the limit ([`MessageTooLargeToSend`](Self::MessageTooLargeToSend)),
    /// an out-of-range argument, a bad configuration or key, a short buffer.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            Self::HandshakeNotComplete
                | Self::Closed
                | Self::MessageTooLargeToSend { .. }
                | Self::InvalidArgument(_)
                | Self::InvalidConfig(_)
                | Self::InvalidKey(_)
                | Self::WouldExceedBuffer { .. }
        )
    }

    /// The alert this side sends when it fails with this error, if any.
    ///
    /// Errors caused locally, and alerts received from the peer, send nothing.
    pub fn alert(&self) -> Option<AlertCode> {
        Some(match self {
            Self::Decode(_) => AlertCode::DecodeError,
            Self::UnexpectedMessage(_) => AlertCode::UnexpectedMessage,
            Self::IllegalParameter(_) => AlertCode::IllegalParameter,
            Self::BadRecordMac => AlertCode::BadRecordMac,
            Self::HandshakeDecrypt | Self::LowOrderPoint => AlertCode::DecryptError,
            Self::RecordOverflow => AlertCode::RecordOverflow,
            Self::InvalidCookie(_) => AlertCode::BadCookie,
            Self::MessageTooLarge { .. } => AlertCode::MessageTooLarge,
            Self::UnsupportedVersion(_) => AlertCode::ProtocolVersion,
            Self::UnknownServerKey => AlertCode::UnknownServerKey,
            Self::NoCommonSuite | Self::UnsupportedPattern => AlertCode::HandshakeFailure,
            Self::UnsupportedExtension(_) => AlertCode::UnsupportedExtension,
            Self::ClientRejected(reason) => reason.alert(),
            Self::SequenceExhausted | Self::Rng | Self::Internal(_) => AlertCode::InternalError,
            Self::Timeout
            | Self::LimitReached(_)
            | Self::PartialMessageTimeout
            | Self::HandshakeTimeout(_)
            | Self::Truncated
            | Self::PeerAlert { .. }
            | Self::Closed
            | Self::HandshakeNotComplete
            | Self::MessageTooLargeToSend { .. }
            | Self::InvalidConfig(_)
            | Self::InvalidArgument(_)
            | Self::InvalidKey(_)
            | Self::WouldExceedBuffer { .. } => return None,
        })
    }

    /// The error a side reports when it receives this fatal alert;
    /// `authenticated` says whether it came in a protected record.
    pub(crate) fn from_alert(code: AlertCode, authenticated: bool) -> Self {
        Self::PeerAlert {
            code,
            authenticated,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(what) => write!(f, "malformed message from peer: {what}"),
            Self::UnexpectedMessage(what) => write!(f, "unexpected message from peer: {what}"),
            Self::IllegalParameter(what) => write!(f, "illegal parameter from peer: {what}"),
            Self::BadRecordMac => f.write_str(
                "a record failed authentication (corrupted, forged, replayed or reordered data)",
            ),
            Self::HandshakeDecrypt => f.write_str(
                "handshake message failed to decrypt: tampered with, wrong keys, or negotiation mismatch",
            ),
            Self::LowOrderPoint => {
                f.write_str("peer public key is a low-order point (all-zero Diffie-Hellman result)")
            }
            Self::RecordOverflow => f.write_str("peer sent a frame longer than the protocol allows"),
            Self::InvalidCookie(why) => write!(f, "invalid Retry cookie: {why}"),
            Self::MessageTooLarge { limit } => {
                write!(f, "peer sent a message larger than the maximum of {limit} bytes")
            }
            Self::Truncated => f.write_str(
                "connection ended without a graceful close (truncation or lost connection)",
            ),
            Self::UnsupportedVersion(v) => write!(f, "peer uses unsupported protocol version {v}"),
            Self::UnknownServerKey => f.write_str(
                "the client asked for a server key this server does not hold (stale pin, or a retired key)",
            ),
            Self::NoCommonSuite => f.write_str("no cipher suite in common with the peer"),
            Self::UnsupportedPattern => f.write_str("the server does not accept this handshake pattern"),
            Self::UnsupportedExtension(t) => {
                write!(f, "peer requires unsupported critical extension 0x{t:04x}")
            }
            Self::ClientRejected(reason) => write!(f, "client refused: {reason}"),
            Self::PeerAlert {
                code,
                authenticated: true,
            } => write!(f, "peer sent fatal alert {code}"),
            Self::PeerAlert {
                code,
                authenticated: false,
            } => write!(
                f,
                "handshake failed: received alert {code} in the clear (unauthenticated: \
                 anyone on the path can forge it; treat it as a failed connection, not as a fact)"
            ),
            Self::SequenceExhausted => {
                f.write_str("record sequence numbers exhausted; reconnect to continue")
            }
            Self::Timeout => f.write_str("nothing received from the peer within the idle timeout"),
            Self::PartialMessageTimeout => f.write_str(
                "the peer began a message and did not complete it within the partial-message timeout",
            ),
            Self::HandshakeTimeout(d) => write!(
                f,
                "the handshake did not complete within {d:?} (silent or slow peer, or a slow server decision)"
            ),
            Self::Closed => f.write_str("the connection is closed"),
            Self::Rng => f.write_str("the random number generator failed"),
            Self::LimitReached(limit) => write!(f, "connection dropped: {limit}"),
            Self::Internal(what) => write!(f, "internal error (a bug in lwsec): {what}"),
            Self::HandshakeNotComplete => {
                f.write_str("the handshake is not complete; wait for HandshakeComplete before sending")
            }
            Self::MessageTooLargeToSend { limit } => write!(
                f,
                "message exceeds max_message_size ({limit} bytes); split it or raise the limit on both sides"
            ),
            Self::InvalidConfig(what) => write!(f, "invalid configuration: {what}"),
            Self::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Self::InvalidKey(what) => write!(f, "invalid key: {what}"),
            Self::WouldExceedBuffer { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(err: Error) -> Self {
        use std::io::ErrorKind;
        let kind = match &err {
            Error::Truncated => ErrorKind::UnexpectedEof,
            Error::Timeout | Error::HandshakeTimeout(_) | Error::PartialMessageTimeout => {
                ErrorKind::TimedOut
            }
            Error::Closed => ErrorKind::BrokenPipe,
            Error::LimitReached(Limit::MemoryBudget) => ErrorKind::ConnectionAborted,
            Error::LimitReached(_) => ErrorKind::ConnectionRefused,
            Error::PeerAlert { .. } => ErrorKind::ConnectionAborted,
            Error::InvalidConfig(_)
            | Error::InvalidArgument(_)
            | Error::InvalidKey(_)
            | Error::HandshakeNotComplete
            | Error::MessageTooLargeToSend { .. }
            | Error::WouldExceedBuffer { .. } => ErrorKind::InvalidInput,
            _ => ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_codes_round_trip() {
        for byte in 0..=u8::MAX {
            assert_eq!(AlertCode::from_u8(byte).to_u8(), byte);
        }
    }

    #[test]
    fn reasons_are_typed_and_read_as_words() {
        let err = Error::Decode(DecodeReason::EmptyAlert);
        assert_eq!(err.to_string(), "malformed message from peer: empty alert");
        assert!(matches!(err, Error::Decode(DecodeReason::EmptyAlert)));
        assert_eq!(err.alert(), Some(AlertCode::DecodeError));
        assert_eq!(
            Error::InvalidCookie(CookieReason::Expired).to_string(),
            "invalid Retry cookie: expired"
        );
        assert_eq!(
            Error::UnexpectedMessage(UnexpectedReason::SecondRetry).alert(),
            Some(AlertCode::UnexpectedMessage)
        );
        assert_eq!(
            Error::IllegalParameter(IllegalReason::ReservedFlags).alert(),
            Some(AlertCode::IllegalParameter)
        );
    }

    #[test]
    fn peer_faults_map_to_alerts_and_back() {
        assert_eq!(
            Error::UnknownServerKey.alert(),
            Some(AlertCode::UnknownServerKey)
        );
        assert_eq!(
            Error::from_alert(AlertCode::UnknownServerKey, false),
            Error::PeerAlert {
                code: AlertCode::UnknownServerKey,
                authenticated: false
            }
        );
        assert_eq!(
            Error::ClientRejected(Rejection::NotAuthorized).alert(),
            Some(AlertCode::ClientRejected)
        );
        assert_eq!(
            Error::PeerAlert {
                code: AlertCode::BadRecordMac,
                authenticated: true
            }
            .alert(),
            None
        );
        assert_eq!(Error::InvalidConfig("x").alert(), None);
    }
}

//! Result codes of the C API and their messages.

use std::ffi::c_char;

use crate::error::Error;

/// The result of every fallible `lwsec_*` function.
///
/// `LWSEC_OK` (0) is success. The other codes are stable: a code is never
/// renumbered or reused. Codes 1-99 are about the call itself (a NULL
/// argument, a short buffer); codes from 100 up name the class of the
/// underlying lwsec error: 1xx the peer sent something invalid, 2xx the peer
/// is incompatible or refused us, 3xx limits and lifecycle, 4xx the
/// application misused the API. `lwsec_result_str` gives a short static
/// message for each code; `lwsec_conn_last_error` gives the detailed one.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum lwsec_result {
    /// Success.
    LWSEC_OK = 0,
    /// A required pointer argument was NULL (or a buffer pointer was NULL
    /// with a non-zero length).
    LWSEC_NULL_PARAMETER = 1,
    /// The caller's output buffer is too small. Nothing was written or
    /// consumed; the object is unchanged.
    LWSEC_BUFFER_TOO_SMALL = 2,
    /// lwsec hit an internal bug (a Rust panic), caught at the API boundary.
    /// The object it happened on should not be used again, only freed.
    LWSEC_PANIC = 3,
    /// An argument has an invalid value: an unknown suite or pattern code, a
    /// key of the wrong length, text that is not UTF-8, a count larger than
    /// what is available.
    LWSEC_INVALID_PARAMETER = 4,
    /// There is nothing to return (yet): no complete message, no peer static
    /// key (NK server), no timer armed, no error recorded.
    LWSEC_NOT_AVAILABLE = 5,

    // --- 1xx: the peer sent something invalid ---
    /// A frame or message from the peer could not be parsed.
    LWSEC_DECODE_ERROR = 100,
    /// The peer sent a message not allowed in the current state.
    LWSEC_UNEXPECTED_MESSAGE = 101,
    /// The peer sent a field with a value that is never allowed.
    LWSEC_ILLEGAL_PARAMETER = 102,
    /// A record failed authentication (corrupted, forged, replayed, reordered).
    LWSEC_BAD_RECORD_MAC = 103,
    /// A handshake message failed to decrypt.
    LWSEC_HANDSHAKE_DECRYPT = 104,
    /// The peer's public key is a low-order point.
    LWSEC_LOW_ORDER_POINT = 105,
    /// The peer sent a frame longer than the protocol allows.
    LWSEC_RECORD_OVERFLOW = 106,
    /// The peer sent a message larger than this side's maximum message size.
    LWSEC_MESSAGE_TOO_LARGE = 107,
    /// The peer's stream ended without a graceful close.
    LWSEC_TRUNCATED = 108,
    /// A retried ClientHello echoed a forged, expired or missing Retry cookie.
    LWSEC_INVALID_COOKIE = 109,

    // --- 2xx: the peer is incompatible or refused us ---
    /// The peer speaks an unsupported protocol version.
    LWSEC_UNSUPPORTED_VERSION = 200,
    /// Server: the client asked for a server key this server does not hold.
    LWSEC_UNKNOWN_SERVER_KEY = 201,
    /// No cipher suite in common with the peer.
    LWSEC_NO_COMMON_SUITE = 202,
    /// The server does not accept this handshake pattern.
    LWSEC_UNSUPPORTED_PATTERN = 203,
    /// The peer requires an unsupported critical extension.
    LWSEC_UNSUPPORTED_EXTENSION = 204,
    /// Server: the application refused the client (`lwsec_conn_reject_client`).
    LWSEC_CLIENT_REJECTED = 205,
    /// The peer sent a fatal alert; `lwsec_conn_peer_alert` gives its code
    /// and whether it was authenticated (alerts during the handshake are
    /// cleartext: anyone on the path can forge them).
    LWSEC_PEER_ALERT = 206,

    // --- 3xx: limits and lifecycle ---
    /// Record sequence numbers are exhausted; reconnect.
    LWSEC_SEQUENCE_EXHAUSTED = 300,
    /// Nothing was received within the idle timeout.
    LWSEC_TIMEOUT = 301,
    /// The connection is closed.
    LWSEC_CLOSED = 302,
    /// The random number generator failed.
    LWSEC_RNG_ERROR = 303,
    /// The handshake did not complete within its deadline.
    LWSEC_HANDSHAKE_TIMEOUT = 304,
    /// lwsec broke one of its own invariants (a bug).
    LWSEC_INTERNAL_ERROR = 305,

    // --- 4xx: the application misused the API ---
    /// The handshake is not complete yet.
    LWSEC_HANDSHAKE_NOT_COMPLETE = 400,
    /// The message to send exceeds the maximum message size.
    LWSEC_MESSAGE_TOO_LARGE_TO_SEND = 401,
    /// The configuration is not usable.
    LWSEC_INVALID_CONFIG = 402,
    /// A key could not be parsed.
    LWSEC_INVALID_KEY = 403,
}

impl lwsec_result {
    /// Every code, for tests and tables.
    pub const ALL: [lwsec_result; 33] = [
        Self::LWSEC_OK,
        Self::LWSEC_NULL_PARAMETER,
        Self::LWSEC_BUFFER_TOO_SMALL,
        Self::LWSEC_PANIC,
        Self::LWSEC_INVALID_PARAMETER,
        Self::LWSEC_NOT_AVAILABLE,
        Self::LWSEC_DECODE_ERROR,
        Self::LWSEC_UNEXPECTED_MESSAGE,
        Self::LWSEC_ILLEGAL_PARAMETER,
        Self::LWSEC_BAD_RECORD_MAC,
        Self::LWSEC_HANDSHAKE_DECRYPT,
        Self::LWSEC_LOW_ORDER_POINT,
        Self::LWSEC_RECORD_OVERFLOW,
        Self::LWSEC_MESSAGE_TOO_LARGE,
        Self::LWSEC_TRUNCATED,
        Self::LWSEC_INVALID_COOKIE,
        Self::LWSEC_UNSUPPORTED_VERSION,
        Self::LWSEC_UNKNOWN_SERVER_KEY,
        Self::LWSEC_NO_COMMON_SUITE,
        Self::LWSEC_UNSUPPORTED_PATTERN,
        Self::LWSEC_UNSUPPORTED_EXTENSION,
        Self::LWSEC_CLIENT_REJECTED,
        Self::LWSEC_PEER_ALERT,
        Self::LWSEC_SEQUENCE_EXHAUSTED,
        Self::LWSEC_TIMEOUT,
        Self::LWSEC_CLOSED,
        Self::LWSEC_RNG_ERROR,
        Self::LWSEC_HANDSHAKE_TIMEOUT,
        Self::LWSEC_INTERNAL_ERROR,
        Self::LWSEC_HANDSHAKE_NOT_COMPLETE,
        Self::LWSEC_MESSAGE_TOO_LARGE_TO_SEND,
        Self::LWSEC_INVALID_CONFIG,
        Self::LWSEC_INVALID_KEY,
    ];

    /// The code for an lwsec error. Exhaustive on purpose: a new error
    /// variant does not compile until it has a code here.
    pub fn from_error(err: &Error) -> Self {
        match err {
            Error::Decode(_) => Self::LWSEC_DECODE_ERROR,
            Error::UnexpectedMessage(_) => Self::LWSEC_UNEXPECTED_MESSAGE,
            Error::IllegalParameter(_) => Self::LWSEC_ILLEGAL_PARAMETER,
            Error::BadRecordMac => Self::LWSEC_BAD_RECORD_MAC,
            Error::HandshakeDecrypt => Self::LWSEC_HANDSHAKE_DECRYPT,
            Error::LowOrderPoint => Self::LWSEC_LOW_ORDER_POINT,
            Error::RecordOverflow => Self::LWSEC_RECORD_OVERFLOW,
            Error::MessageTooLarge { .. } => Self::LWSEC_MESSAGE_TOO_LARGE,
            Error::Truncated => Self::LWSEC_TRUNCATED,
            Error::InvalidCookie(_) => Self::LWSEC_INVALID_COOKIE,
            Error::UnsupportedVersion(_) => Self::LWSEC_UNSUPPORTED_VERSION,
            Error::UnknownServerKey => Self::LWSEC_UNKNOWN_SERVER_KEY,
            Error::NoCommonSuite => Self::LWSEC_NO_COMMON_SUITE,
            Error::UnsupportedPattern => Self::LWSEC_UNSUPPORTED_PATTERN,
            Error::UnsupportedExtension(_) => Self::LWSEC_UNSUPPORTED_EXTENSION,
            Error::ClientRejected(_) => Self::LWSEC_CLIENT_REJECTED,
            Error::PeerAlert { .. } => Self::LWSEC_PEER_ALERT,
            Error::SequenceExhausted => Self::LWSEC_SEQUENCE_EXHAUSTED,
            Error::Timeout | Error::PartialMessageTimeout => Self::LWSEC_TIMEOUT,
            Error::LimitReached(_) => Self::LWSEC_CLOSED,
            Error::Closed => Self::LWSEC_CLOSED,
            Error::Rng => Self::LWSEC_RNG_ERROR,
            Error::HandshakeTimeout(_) => Self::LWSEC_HANDSHAKE_TIMEOUT,
            Error::Internal(_) => Self::LWSEC_INTERNAL_ERROR,
            Error::InvalidArgument(_) => Self::LWSEC_INVALID_PARAMETER,
            Error::HandshakeNotComplete => Self::LWSEC_HANDSHAKE_NOT_COMPLETE,
            Error::MessageTooLargeToSend { .. } => Self::LWSEC_MESSAGE_TOO_LARGE_TO_SEND,
            Error::InvalidConfig(_) => Self::LWSEC_INVALID_CONFIG,
            Error::InvalidKey(_) => Self::LWSEC_INVALID_KEY,
            Error::WouldExceedBuffer { .. } => Self::LWSEC_BUFFER_TOO_SMALL,
        }
    }

    /// The code's static message, NUL-terminated.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::LWSEC_OK => "success\0",
            Self::LWSEC_NULL_PARAMETER => "a required pointer argument was NULL\0",
            Self::LWSEC_BUFFER_TOO_SMALL => "the output buffer is too small; nothing was written\0",
            Self::LWSEC_PANIC => "internal error in lwsec (caught panic); free this object\0",
            Self::LWSEC_INVALID_PARAMETER => "an argument has an invalid value\0",
            Self::LWSEC_NOT_AVAILABLE => "nothing available yet\0",
            Self::LWSEC_DECODE_ERROR => "malformed message from peer\0",
            Self::LWSEC_UNEXPECTED_MESSAGE => "unexpected message from peer\0",
            Self::LWSEC_ILLEGAL_PARAMETER => "illegal parameter from peer\0",
            Self::LWSEC_BAD_RECORD_MAC => "a record failed authentication\0",
            Self::LWSEC_HANDSHAKE_DECRYPT => "handshake message failed to decrypt\0",
            Self::LWSEC_LOW_ORDER_POINT => "peer public key is a low-order point\0",
            Self::LWSEC_RECORD_OVERFLOW => "peer sent a frame longer than the protocol allows\0",
            Self::LWSEC_MESSAGE_TOO_LARGE => "peer sent a message larger than the maximum\0",
            Self::LWSEC_TRUNCATED => "connection ended without a graceful close\0",
            Self::LWSEC_INVALID_COOKIE => "invalid Retry cookie\0",
            Self::LWSEC_UNSUPPORTED_VERSION => "peer uses an unsupported protocol version\0",
            Self::LWSEC_UNKNOWN_SERVER_KEY => {
                "the client asked for a server key this server does not hold\0"
            }
            Self::LWSEC_NO_COMMON_SUITE => "no cipher suite in common with the peer\0",
            Self::LWSEC_UNSUPPORTED_PATTERN => {
                "the server does not accept this handshake pattern\0"
            }
            Self::LWSEC_UNSUPPORTED_EXTENSION => {
                "peer requires an unsupported critical extension\0"
            }
            Self::LWSEC_CLIENT_REJECTED => "the application refused the client\0",
            Self::LWSEC_PEER_ALERT => {
                "peer sent a fatal alert (unauthenticated if in the clear; see lwsec_conn_peer_alert)\0"
            }
            Self::LWSEC_SEQUENCE_EXHAUSTED => "record sequence numbers exhausted; reconnect\0",
            Self::LWSEC_TIMEOUT => "nothing received within the idle timeout\0",
            Self::LWSEC_CLOSED => "the connection is closed\0",
            Self::LWSEC_RNG_ERROR => "the random number generator failed\0",
            Self::LWSEC_HANDSHAKE_TIMEOUT => "the handshake did not complete in time\0",
            Self::LWSEC_INTERNAL_ERROR => "internal error in lwsec (a bug)\0",
            Self::LWSEC_HANDSHAKE_NOT_COMPLETE => "the handshake is not complete\0",
            Self::LWSEC_MESSAGE_TOO_LARGE_TO_SEND => "message exceeds the maximum message size\0",
            Self::LWSEC_INVALID_CONFIG => "invalid configuration\0",
            Self::LWSEC_INVALID_KEY => "invalid key\0",
        }
    }

    /// The code for a raw value, if it is one.
    pub fn from_u32(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|r| *r as u32 == code)
    }
}

/// A static, NUL-terminated English message for `result`.
///
/// Takes the code as a plain integer so that any value is safe to pass;
/// an unknown code gives "unknown lwsec_result". The returned pointer is
/// valid for the life of the program and must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn lwsec_result_str(result: u32) -> *const c_char {
    const UNKNOWN: &str = "unknown lwsec_result\0";
    let message = std::panic::catch_unwind(|| {
        lwsec_result::from_u32(result).map_or(UNKNOWN, lwsec_result::message)
    })
    .unwrap_or(UNKNOWN);
    message.as_ptr().cast::<c_char>()
}

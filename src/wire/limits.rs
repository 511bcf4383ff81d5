//! The sizes the wire format fixes (`spec/PROTOCOL.md` sections 3, 4, 6
//! and 11). Every other module takes them from here.

/// Length of an AEAD tag.
pub(crate) const TAG_LEN: usize = 16;

/// Largest application payload in one record.
pub const MAX_FRAGMENT_LEN: usize = 16384;

/// Largest inner plaintext: payload, content type and padding.
pub(crate) const MAX_INNER_LEN: usize = MAX_FRAGMENT_LEN + 1;

/// Largest record body (ciphertext and tag).
pub(crate) const MAX_CIPHERTEXT_LEN: usize = MAX_INNER_LEN + TAG_LEN;

/// Length of a frame header: type (1) and length (2).
pub(crate) const FRAME_HEADER_LEN: usize = 3;

/// Largest record on the wire, header included.
pub const MAX_RECORD_LEN: usize = FRAME_HEADER_LEN + MAX_CIPHERTEXT_LEN;

/// Largest early data a client may send in its first flight.
pub(crate) const MAX_EARLY_DATA: usize = 8192;

/// Longest resumption ticket in a ClientHello header or a ticket record.
pub(crate) const MAX_TICKET_LEN: usize = 1024;

/// Length of a server key identifier on the wire.
pub(crate) const KEY_ID_LEN: usize = 8;

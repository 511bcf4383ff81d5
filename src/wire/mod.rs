//! The wire format: frames, the ClientHello header, Retry, alerts and
//! handshake payload extensions (`spec/PROTOCOL.md`, sections 3 to 6).
//!
//! Every decoder here reads from a [`Reader`], returns a typed error on
//! malformed input and rejects trailing bytes.

pub(crate) mod codec;
pub(crate) mod extensions;
pub(crate) mod frame;
pub(crate) mod hello;
pub(crate) mod limits;

pub(crate) use codec::Reader;

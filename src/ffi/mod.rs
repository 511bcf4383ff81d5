//! The C API (feature `ffi`): drive lwsec from C or C++ with your own event
//! loop — bytes in, bytes out.
//!
//! The header is `include/lwsec.h`, generated from this module by cbindgen
//! (`cargo run -p lwsec-header`; `cargo test -p lwsec-header` checks it).
//! Build the static and shared libraries with
//!
//! ```text
//! cargo rustc --release --lib --features ffi --crate-type staticlib,cdylib
//! ```
//!
//! which writes `target/release/liblwsec.a` and `target/release/liblwsec.so`.
//! Link the static library with `-llwsec -lpthread -ldl -lm`.
//!
//! # Conventions
//!
//! * Every function is prefixed `lwsec_` and returns an [`lwsec_result`]
//!   (`LWSEC_OK` is 0), except the `_free` functions and
//!   [`lwsec_result_str`]. [`lwsec_conn_last_error`] gives the detailed
//!   message of a connection's last failure.
//! * Handles (`lwsec_key_pair`, `lwsec_client_config`,
//!   `lwsec_server_config`, `lwsec_ticket_keyring`, `lwsec_conn`) are
//!   opaque, created by a `_new`/`_generate`/`_from_*` function and owned
//!   by the caller until
//!   passed to the matching `_free`; `_free(NULL)` is a no-op. Memory
//!   allocated by lwsec is never freed with C `free`, and lwsec never frees
//!   the caller's memory. Objects are copied in: a configuration holds its
//!   own copy of a key pair, a server configuration its own reference to a
//!   ticket keyring, a connection its own reference to its configuration.
//! * Input buffers are a pointer followed by a length (a NULL pointer is
//!   accepted with length 0) and need not be NUL-terminated. Output
//!   parameters come last and are written only on success; output buffers
//!   are a pointer and a length followed by an `out_written` count.
//! * NULL handles or pointers, wrong key lengths and unknown codes give an
//!   error code, never a crash; no Rust panic crosses the boundary
//!   (`LWSEC_PANIC`). Using a handle after freeing it, or a pointer that
//!   does not match its length, is undefined behaviour that lwsec cannot
//!   detect.
//! * Configurations and key pairs may be shared between threads once set
//!   up; a connection must be used by one thread at a time. A ticket
//!   keyring may be rotated from any thread while connections use it.
//!
//! # Session resumption
//!
//! (`spec/PROTOCOL.md` section 4.11.) A server enables it with a
//! [`lwsec_ticket_keyring`] ([`lwsec_ticket_keyring_new`] from the fleet's
//! shared secrets, [`lwsec_ticket_keyring_generate`] for a lone server)
//! given to [`lwsec_server_config_enable_resumption`], and rotates the keys
//! while running with [`lwsec_ticket_keyring_rotate`];
//! [`lwsec_server_config_set_ticket_lifetime`] and
//! [`lwsec_server_config_set_resumption_max_age`] tune it. At the decision
//! point, [`lwsec_client_hello_info`] says whether the client resumes, when
//! it last ran a full handshake, and [`lwsec_conn_client_hello_ticket_identity`]
//! gives the identity its ticket carries.
//!
//! A client receives `LWSEC_EVENT_RESUMPTION_TICKET` after the handshake,
//! copies the ticket out with [`lwsec_conn_take_ticket`] (secret bytes, for
//! one connection), and stores it in its configuration with
//! [`lwsec_client_config_set_ticket`]: the next [`lwsec_conn_new_client`]
//! resumes with it and takes it out of the configuration.
//! [`lwsec_conn_is_resumed`] tells, on both sides, whether the handshake
//! resumed (a server that cannot open the ticket makes the client fall back
//! to a full handshake on the same connection).

#![allow(non_camel_case_types)]

mod boundary;
pub mod config;
pub mod conn;
pub mod error;
pub mod keys;
pub mod ticket;
pub mod version;

pub use config::*;
pub use conn::*;
pub use error::*;
pub use keys::*;
pub use ticket::*;
pub use version::*;

//! Session resumption (`spec/PROTOCOL.md` section 4.11): the server's ticket
//! keyring, shared by a fleet and rotated while it runs.
//!
//! The client side lives with the client configuration
//! (`lwsec_client_config_set_ticket`) and the connection
//! (`LWSEC_EVENT_RESUMPTION_TICKET`, `lwsec_conn_take_ticket`,
//! `lwsec_conn_is_resumed`).

use std::sync::{Arc, Mutex, PoisonError};

use zeroize::Zeroizing;

use crate::crypto::rng::OsRandom;
use crate::ffi::boundary::{Out, free_handle, guard, handle, input, into_handle};
use crate::ffi::error::lwsec_result;
use crate::ticket::{MAX_PREVIOUS_TICKET_KEYS, TicketKeyring, TicketKeys};

/// Length in bytes of a ticket secret (`lwsec_ticket_keyring_new`,
/// `lwsec_ticket_keyring_rotate`).
pub const LWSEC_TICKET_SECRET_LEN: usize = 32;

/// Most previous ticket secrets a keyring keeps (they open tickets, seal
/// none); rotating beyond drops the oldest.
pub const LWSEC_MAX_PREVIOUS_TICKET_SECRETS: usize = 3;

/// Longest stored resumption ticket, in bytes (`lwsec_conn_take_ticket`):
/// a buffer of this size always suffices.
pub const LWSEC_RESUMPTION_TICKET_MAX_LEN: usize = 1071;

// The C constants are literals (cbindgen does not evaluate paths): keep
// them equal to the Rust limits they mirror. A stored ticket is
// "lwt1" (4), expires (8), pattern (1), psk (32), ticket_len (2), ticket.
const _: () = assert!(LWSEC_MAX_PREVIOUS_TICKET_SECRETS == MAX_PREVIOUS_TICKET_KEYS);
const _: () = assert!(
    LWSEC_RESUMPTION_TICKET_MAX_LEN == 4 + 8 + 1 + 32 + 2 + crate::wire::limits::MAX_TICKET_LEN
);

/// A server's resumption ticket keys: a current 32-byte secret that seals
/// new tickets and up to `LWSEC_MAX_PREVIOUS_TICKET_SECRETS` previous ones
/// that still open tickets sealed before a rotation. Servers of a fleet
/// holding the same secrets accept each other's tickets. Opaque; create it
/// with `lwsec_ticket_keyring_new` or `lwsec_ticket_keyring_generate`, give
/// it to `lwsec_server_config_enable_resumption`, rotate it with
/// `lwsec_ticket_keyring_rotate`, free it with `lwsec_ticket_keyring_free`.
///
/// **The secrets are as sensitive as a server's private key**: whoever holds
/// one can impersonate the fleet to clients resuming with tickets it sealed
/// and read their early data. They are wiped from memory when the last user
/// (the handle and every configuration and connection using it) is gone.
pub struct lwsec_ticket_keyring {
    pub(crate) inner: Arc<TicketKeyring>,
    /// Serialises rotations (read, rotate, replace) of this handle.
    rotation: Mutex<()>,
}

fn secret(bytes: &[u8]) -> Result<Zeroizing<[u8; LWSEC_TICKET_SECRET_LEN]>, lwsec_result> {
    <[u8; LWSEC_TICKET_SECRET_LEN]>::try_from(bytes)
        .map(Zeroizing::new)
        .map_err(|_| lwsec_result::LWSEC_INVALID_PARAMETER)
}

fn new_keyring(keys: TicketKeys, out: Out<*mut lwsec_ticket_keyring>) {
    out.set(into_handle(lwsec_ticket_keyring {
        inner: Arc::new(TicketKeyring::new(keys)),
        rotation: Mutex::new(()),
    }));
}

/// Creates a ticket keyring from the fleet's secrets: `current`
/// (`LWSEC_TICKET_SECRET_LEN` bytes) seals new tickets; `previous` holds 0
/// to `LWSEC_MAX_PREVIOUS_TICKET_SECRETS` older secrets back to back, most
/// recent first (NULL with length 0 for none), which only open tickets.
///
/// A `current_len` other than `LWSEC_TICKET_SECRET_LEN`, a `previous_len`
/// that is not a multiple of it, or more than
/// `LWSEC_MAX_PREVIOUS_TICKET_SECRETS` previous secrets give
/// `LWSEC_INVALID_PARAMETER`. The secrets are copied (wipe your buffers
/// afterwards). On success `*out_keyring` receives a new handle owned by
/// the caller (free with `lwsec_ticket_keyring_free`).
///
/// # Safety
///
/// `current` points to `current_len` readable bytes, `previous` to
/// `previous_len`; `out_keyring` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_ticket_keyring_new(
    current: *const u8,
    current_len: usize,
    previous: *const u8,
    previous_len: usize,
    out_keyring: *mut *mut lwsec_ticket_keyring,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both buffers and the out pointer are valid.
        let (current, previous, out) = unsafe {
            (
                input(current, current_len)?,
                input(previous, previous_len)?,
                Out::new(out_keyring)?,
            )
        };
        if previous.len() % LWSEC_TICKET_SECRET_LEN != 0
            || previous.len() / LWSEC_TICKET_SECRET_LEN > MAX_PREVIOUS_TICKET_KEYS
        {
            return Err(lwsec_result::LWSEC_INVALID_PARAMETER.into());
        }
        let mut keys = TicketKeys::new(*secret(current)?);
        for old in previous.chunks(LWSEC_TICKET_SECRET_LEN) {
            keys = keys
                .with_previous(*secret(old)?)
                .map_err(|_| lwsec_result::LWSEC_INVALID_PARAMETER)?;
        }
        new_keyring(keys, out);
        Ok(())
    })
}

/// Creates a ticket keyring with a fresh random current secret from the
/// operating system's RNG, for a server whose tickets need not open on
/// other servers (a fleet shares its secrets: use
/// `lwsec_ticket_keyring_new`). On success `*out_keyring` receives a new
/// handle owned by the caller.
///
/// # Safety
///
/// `out_keyring` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_ticket_keyring_generate(
    out_keyring: *mut *mut lwsec_ticket_keyring,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised `out_keyring` is NULL or writable.
        let out = unsafe { Out::new(out_keyring)? };
        new_keyring(TicketKeys::generate(&OsRandom)?, out);
        Ok(())
    })
}

/// Rotates the keys, live: `new_secret` (`LWSEC_TICKET_SECRET_LEN` bytes,
/// else `LWSEC_INVALID_PARAMETER`) becomes the current secret, the old
/// current one the first previous secret (the oldest is dropped beyond
/// `LWSEC_MAX_PREVIOUS_TICKET_SECRETS`). Every server configuration the
/// keyring was given to uses the new keys from its next handshake on:
/// tickets sealed before still open, new ones are sealed with
/// `new_secret`. Rotate every server of a fleet with the same secret (daily
/// is typical).
///
/// Safe to call while connections on other threads use the keyring, and
/// from several threads at once (rotations are serialised). The secret is
/// copied.
///
/// # Safety
///
/// `keyring` is NULL or a live ticket keyring; `new_secret` points to
/// `new_secret_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_ticket_keyring_rotate(
    keyring: *const lwsec_ticket_keyring,
    new_secret: *const u8,
    new_secret_len: usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (ring, new_secret) = unsafe { (handle(keyring)?, input(new_secret, new_secret_len)?) };
        let new_secret = secret(new_secret)?;
        let _rotating = ring.rotation.lock().unwrap_or_else(PoisonError::into_inner);
        let rotated = ring.inner.keys().rotated(*new_secret);
        ring.inner.replace(rotated);
        Ok(())
    })
}

/// Frees a ticket keyring handle. NULL is a no-op. Server configurations
/// (and their connections) it was given to keep using its keys; only
/// rotating through this handle is no longer possible.
///
/// # Safety
///
/// `keyring` is NULL or a ticket keyring from this library not yet freed;
/// it must not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_ticket_keyring_free(keyring: *mut lwsec_ticket_keyring) {
    // SAFETY: the caller promised `keyring` is NULL or an unfreed handle.
    unsafe { free_handle(keyring) }
}

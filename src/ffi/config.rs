//! Client and server configurations.
//!
//! A configuration handle may be shared by many connections: each
//! connection keeps its own reference, so a configuration can be freed as
//! soon as the connections are created. Setters change the configuration
//! for connections created afterwards only; they must not run concurrently
//! with any other use of the same handle.
//!
//! A client configuration may also hold a resumption ticket
//! (`lwsec_client_config_set_ticket`): the next connection created from it
//! resumes with the ticket and takes it out, since a ticket is for one
//! connection only.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::config::{ClientConfig, ServerConfig, TransportConfig};
use crate::crypto::dh::PublicKey;
use crate::error::Error;
use crate::ffi::boundary::{
    Failure, Out, free_handle, guard, handle, handle_mut, input, into_handle,
};
use crate::ffi::error::lwsec_result;
use crate::ffi::keys::{key_bytes, lwsec_key_pair};
use crate::ffi::ticket::lwsec_ticket_keyring;
use crate::suite::{Pattern, Suite};
use crate::ticket::ResumptionTicket;

/// Wire codes of the cipher suites, as taken by `lwsec_*_set_suites` and
/// returned by `lwsec_conn_suite`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum lwsec_suite {
    /// AES-256-GCM.
    LWSEC_SUITE_AES_256_GCM = 1,
    /// ChaCha20-Poly1305.
    LWSEC_SUITE_CHACHA20_POLY1305 = 2,
}

/// Wire codes of the handshake patterns, as taken by
/// `lwsec_server_config_set_patterns` and returned by `lwsec_conn_pattern`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum lwsec_pattern {
    /// Noise NK: the server is authenticated, the client anonymous.
    LWSEC_PATTERN_NK = 1,
    /// Noise IK: both sides are authenticated by static keys.
    LWSEC_PATTERN_IK = 2,
}

/// A client configuration: the pinned server key, the client's own key for
/// IK, suites and transport settings, and at most one resumption ticket for
/// the next connection. Opaque; free with `lwsec_client_config_free`.
pub struct lwsec_client_config {
    pub(crate) inner: Arc<ClientConfig>,
    /// The ticket the next `lwsec_conn_new_client` resumes with (and takes).
    /// Behind a lock because `lwsec_conn_new_client` takes a `const`
    /// configuration that may be shared between threads: exactly one
    /// connection gets the ticket.
    ticket: Mutex<Option<ResumptionTicket>>,
}

impl lwsec_client_config {
    fn new(inner: ClientConfig) -> Self {
        Self {
            inner: Arc::new(inner),
            ticket: Mutex::new(None),
        }
    }

    /// Takes the ticket out (for the connection being created).
    pub(crate) fn take_ticket(&self) -> Option<ResumptionTicket> {
        self.ticket
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Puts back a ticket taken for a connection that could not be created,
    /// unless another ticket was set meanwhile.
    pub(crate) fn restore_ticket(&self, ticket: ResumptionTicket) {
        let mut slot = self.ticket.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(ticket);
        }
    }
}

/// A server configuration: one or more static key pairs (rotation), accepted
/// suites and patterns, transport settings and the early-data window.
/// Opaque; free with `lwsec_server_config_free`.
pub struct lwsec_server_config {
    pub(crate) inner: Arc<ServerConfig>,
}

fn suites(codes: &[u8]) -> Result<Vec<Suite>, lwsec_result> {
    codes
        .iter()
        .map(|c| Suite::from_u8(*c).ok_or(lwsec_result::LWSEC_INVALID_PARAMETER))
        .collect()
}

fn millis(ms: u64) -> Option<Duration> {
    (ms != 0).then(|| Duration::from_millis(ms))
}

fn set_timers(transport: &mut TransportConfig, keepalive_ms: u64, idle_timeout_ms: u64) {
    transport.keepalive_interval = millis(keepalive_ms);
    transport.idle_timeout = millis(idle_timeout_ms);
}

/// Applies `change` to a copy of the configuration and keeps it only if it
/// is still valid: a failed setter changes nothing.
fn update_client(
    config: &mut lwsec_client_config,
    change: impl FnOnce(&mut ClientConfig) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut new = ClientConfig::clone(&config.inner);
    change(&mut new)?;
    new.validate()?;
    config.inner = Arc::new(new);
    Ok(())
}

fn update_server(
    config: &mut lwsec_server_config,
    change: impl FnOnce(&mut ServerConfig) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut new = ServerConfig::clone(&config.inner);
    change(&mut new)?;
    new.validate()?;
    config.inner = Arc::new(new);
    Ok(())
}

/// Creates an NK client configuration that authenticates the server by its
/// raw 32-byte static public key (decode a `lwsec-public-v1:` text with
/// `lwsec_public_key_from_text` first).
///
/// `server_key_len` must be `LWSEC_KEY_LEN`, else `LWSEC_INVALID_PARAMETER`.
/// Defaults: both suites (AES-256-GCM preferred), 1 MiB messages, no
/// timers. On success `*out_config` receives a new handle owned by the
/// caller (free with `lwsec_client_config_free`).
///
/// # Safety
///
/// `server_key` points to `server_key_len` readable bytes; `out_config` is
/// NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_client_config_new_nk(
    server_key: *const u8,
    server_key_len: usize,
    out_config: *mut *mut lwsec_client_config,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised the buffer and the out pointer are valid.
        let (key, out) = unsafe { (input(server_key, server_key_len)?, Out::new(out_config)?) };
        let server = PublicKey::from_bytes(key_bytes(key)?);
        out.set(into_handle(lwsec_client_config::new(ClientConfig::nk(
            server,
        ))));
        Ok(())
    })
}

/// Creates an IK client configuration: authenticates the server by its raw
/// 32-byte static public key and proves `client_key` (a device key) to it.
///
/// The key pair is copied: the caller still owns `client_key` and may free
/// it at once. `server_key_len` must be `LWSEC_KEY_LEN`. On success
/// `*out_config` receives a new handle owned by the caller.
///
/// # Safety
///
/// `server_key` points to `server_key_len` readable bytes; `client_key` is
/// NULL or a live key pair; `out_config` is NULL or valid for writing one
/// pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_client_config_new_ik(
    server_key: *const u8,
    server_key_len: usize,
    client_key: *const lwsec_key_pair,
    out_config: *mut *mut lwsec_client_config,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised all pointers are NULL or valid as documented.
        let (key, client, out) = unsafe {
            (
                input(server_key, server_key_len)?,
                handle(client_key)?,
                Out::new(out_config)?,
            )
        };
        let server = PublicKey::from_bytes(key_bytes(key)?);
        out.set(into_handle(lwsec_client_config::new(ClientConfig::ik(
            server,
            client.inner.clone(),
        ))));
        Ok(())
    })
}

/// Sets the suites the client offers, most preferred first, as
/// `lwsec_suite` codes (1 to 8 distinct codes).
///
/// An unknown code gives `LWSEC_INVALID_PARAMETER`, an empty or repeating
/// list `LWSEC_INVALID_CONFIG`; on error the configuration is unchanged.
///
/// # Safety
///
/// `config` is NULL or a live client configuration not in use by another
/// thread; `suites` points to `suites_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_client_config_set_suites(
    config: *mut lwsec_client_config,
    suites: *const u8,
    suites_len: usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (config, codes) = unsafe { (handle_mut(config)?, input(suites, suites_len)?) };
        let list = self::suites(codes)?;
        update_client(config, |c| {
            c.suites = list;
            Ok(())
        })
    })
}

/// Sets the largest message the client sends or accepts, in bytes (at
/// least 1; default 1 MiB). Both sides should agree.
///
/// # Safety
///
/// `config` is NULL or a live client configuration not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_client_config_set_max_message_size(
    config: *mut lwsec_client_config,
    max_message_size: usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised `config` is NULL or valid.
        let config = unsafe { handle_mut(config)? };
        update_client(config, |c| {
            c.transport.max_message_size = max_message_size;
            Ok(())
        })
    })
}

/// Sets the client's timers in milliseconds, 0 meaning off (the default):
/// a keep-alive ping after `keepalive_ms` without sending, and failure with
/// `LWSEC_TIMEOUT` after `idle_timeout_ms` without receiving. Timers run
/// only when the application calls `lwsec_conn_poll_timeout` /
/// `lwsec_conn_handle_timeout`.
///
/// # Safety
///
/// `config` is NULL or a live client configuration not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_client_config_set_timers(
    config: *mut lwsec_client_config,
    keepalive_ms: u64,
    idle_timeout_ms: u64,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised `config` is NULL or valid.
        let config = unsafe { handle_mut(config)? };
        update_client(config, |c| {
            set_timers(&mut c.transport, keepalive_ms, idle_timeout_ms);
            Ok(())
        })
    })
}

/// Stores a resumption ticket (bytes from `lwsec_conn_take_ticket` on an
/// earlier connection to the same server or fleet) in the configuration:
/// the **next** `lwsec_conn_new_client` made from it resumes the session
/// with the ticket (`spec/PROTOCOL.md` section 4.11) and takes it out of
/// the configuration, since a ticket is used for one connection only (the
/// resumed connection brings a new one, `LWSEC_EVENT_RESUMPTION_TICKET`).
/// If the server does not know the ticket (rotated keys, another fleet,
/// expired) the connection runs a full handshake on the same socket, one
/// round trip later; an expired ticket is not even sent.
/// `lwsec_conn_is_resumed` tells which happened.
///
/// A previous ticket is replaced; `ticket_len` 0 (`ticket` may then be
/// NULL) clears it. Bytes that are not a stored ticket give `LWSEC_INVALID_PARAMETER`
/// and leave the configuration unchanged. The bytes are copied: **they are
/// a secret** (whoever holds them can resume the session, as this device
/// for an IK ticket); wipe your copy once it is stored here.
///
/// `lwsec_conn_new_client` takes a `const` configuration that may be shared
/// between threads: the ticket is held behind a lock, so exactly one
/// connection gets it even when several are created at once.
///
/// # Safety
///
/// `config` is NULL or a live client configuration not in use by another
/// thread; `ticket` points to `ticket_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_client_config_set_ticket(
    config: *mut lwsec_client_config,
    ticket: *const u8,
    ticket_len: usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (config, bytes) = unsafe { (handle_mut(config)?, input(ticket, ticket_len)?) };
        let ticket = if bytes.is_empty() {
            None
        } else {
            Some(ResumptionTicket::from_bytes(bytes)?)
        };
        *config
            .ticket
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = ticket;
        Ok(())
    })
}

/// Frees a client configuration. NULL is a no-op. Connections created from
/// it keep working (they hold their own reference).
///
/// # Safety
///
/// `config` is NULL or a client configuration from this library not yet
/// freed; it must not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_client_config_free(config: *mut lwsec_client_config) {
    // SAFETY: the caller promised `config` is NULL or an unfreed handle.
    unsafe { free_handle(config) }
}

/// Creates a server configuration holding one static key pair, accepting
/// both patterns and both suites, and every IK client until an authoriser
/// is set.
///
/// The key pair is copied: the caller still owns `key` and may free it at
/// once. On success `*out_config` receives a new handle owned by the caller
/// (free with `lwsec_server_config_free`).
///
/// # Safety
///
/// `key` is NULL or a live key pair; `out_config` is NULL or valid for
/// writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_new(
    key: *const lwsec_key_pair,
    out_config: *mut *mut lwsec_server_config,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (key, out) = unsafe { (handle(key)?, Out::new(out_config)?) };
        out.set(into_handle(lwsec_server_config {
            inner: Arc::new(ServerConfig::new(key.inner.clone())),
        }));
        Ok(())
    })
}

/// Adds another static key pair (key rotation: clients pinned to any held
/// key are accepted). A key already held is not added twice. The key pair
/// is copied; the caller still owns `key`.
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another
/// thread; `key` is NULL or a live key pair.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_add_key(
    config: *mut lwsec_server_config,
    key: *const lwsec_key_pair,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (config, key) = unsafe { (handle_mut(config)?, handle(key)?) };
        update_server(config, |c| {
            c.add_key(key.inner.clone());
            Ok(())
        })
    })
}

/// Stops accepting clients pinned to the raw 32-byte public key
/// `public_key`. Returns `LWSEC_NOT_AVAILABLE` when the key is not held and
/// `LWSEC_INVALID_CONFIG` when it is the last key (a server needs one); in
/// both cases nothing changes.
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another
/// thread; `public_key` points to `public_key_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_retire_key(
    config: *mut lwsec_server_config,
    public_key: *const u8,
    public_key_len: usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (config, key) = unsafe { (handle_mut(config)?, input(public_key, public_key_len)?) };
        let key = PublicKey::from_bytes(key_bytes(key)?);
        update_server(config, |c| {
            if c.retire_key(&key) {
                Ok(())
            } else {
                Err(lwsec_result::LWSEC_NOT_AVAILABLE.into())
            }
        })
    })
}

/// Sets the suites the server accepts, as `lwsec_suite` codes (1 to 8
/// distinct codes). The server picks the client's most preferred suite in
/// this list. On error the configuration is unchanged.
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another
/// thread; `suites` points to `suites_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_set_suites(
    config: *mut lwsec_server_config,
    suites: *const u8,
    suites_len: usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (config, codes) = unsafe { (handle_mut(config)?, input(suites, suites_len)?) };
        let list = self::suites(codes)?;
        update_server(config, |c| {
            c.suites = list;
            Ok(())
        })
    })
}

/// Sets the handshake patterns the server accepts, as `lwsec_pattern`
/// codes (at least one). On error the configuration is unchanged.
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another
/// thread; `patterns` points to `patterns_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_set_patterns(
    config: *mut lwsec_server_config,
    patterns: *const u8,
    patterns_len: usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (config, codes) = unsafe { (handle_mut(config)?, input(patterns, patterns_len)?) };
        let list = codes
            .iter()
            .map(|c| Pattern::from_u8(*c).ok_or(lwsec_result::LWSEC_INVALID_PARAMETER))
            .collect::<Result<Vec<_>, _>>()?;
        update_server(config, |c| {
            c.patterns = list;
            Ok(())
        })
    })
}

/// Sets the largest message the server sends or accepts, in bytes (at
/// least 1; default 1 MiB).
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_set_max_message_size(
    config: *mut lwsec_server_config,
    max_message_size: usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised `config` is NULL or valid.
        let config = unsafe { handle_mut(config)? };
        update_server(config, |c| {
            c.transport.max_message_size = max_message_size;
            Ok(())
        })
    })
}

/// Sets the server's timers in milliseconds, 0 meaning off (the default);
/// see `lwsec_client_config_set_timers`.
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_set_timers(
    config: *mut lwsec_server_config,
    keepalive_ms: u64,
    idle_timeout_ms: u64,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised `config` is NULL or valid.
        let config = unsafe { handle_mut(config)? };
        update_server(config, |c| {
            set_timers(&mut c.transport, keepalive_ms, idle_timeout_ms);
            Ok(())
        })
    })
}

/// Accepts **replayable, non-forward-secret** early data from clients
/// whose flight's timestamp is within `window_ms` milliseconds of the
/// server's clock (`spec/PROTOCOL.md` section 4.9); 0 turns early data off
/// (the default). The application is the replay guard: at the decision
/// point (`LWSEC_EVENT_CLIENT_HELLO`) `lwsec_conn_client_hello` shows the
/// offer, and `lwsec_conn_accept_client` takes the guard's verdict.
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another
/// thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_enable_early_data(
    config: *mut lwsec_server_config,
    window_ms: u64,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised `config` is NULL or valid.
        let config = unsafe { handle_mut(config)? };
        update_server(config, |c| {
            c.set_early_data_window(millis(window_ms));
            Ok(())
        })
    })
}

/// Announces, in every ServerHello, the server keys clients should pin from
/// now on: `keys` holds `keys_len / LWSEC_KEY_LEN` raw public keys (0 to 8)
/// back to back, in order; 0 keys stops announcing. The announcement is
/// authenticated by the handshake (clients see
/// `LWSEC_EVENT_SERVER_KEYS_ANNOUNCED`). A length that is not a multiple of
/// `LWSEC_KEY_LEN`, or more than 8 keys, gives `LWSEC_INVALID_PARAMETER`.
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another
/// thread; `keys` points to `keys_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_announce_server_keys(
    config: *mut lwsec_server_config,
    keys: *const u8,
    keys_len: usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (config, keys) = unsafe { (handle_mut(config)?, input(keys, keys_len)?) };
        if keys.len() % 32 != 0 {
            return Err(lwsec_result::LWSEC_INVALID_PARAMETER.into());
        }
        let keys: Vec<PublicKey> = keys
            .chunks(32)
            .filter_map(|k| <[u8; 32]>::try_from(k).ok().map(PublicKey::from_bytes))
            .collect();
        update_server(config, |c| {
            c.announce_server_keys(keys)
                .map_err(|_| lwsec_result::LWSEC_INVALID_PARAMETER.into())
        })
    })
}

/// Resumes sessions (`spec/PROTOCOL.md` section 4.11): after each confirmed
/// handshake the server sends the client a ticket sealed with the
/// keyring's current secret, and resumes clients whose ticket any of the
/// keyring's secrets opens (a resumed handshake skips the server's
/// static-key work; it still goes through the decision point,
/// `LWSEC_EVENT_CLIENT_HELLO`, with the identity the ticket carries). A
/// ticket the server cannot open is refused and the client runs a full
/// handshake on the same connection.
///
/// The configuration keeps its own reference to the keyring: rotating the
/// keyring (`lwsec_ticket_keyring_rotate`) takes effect at once for this
/// configuration and every connection made from it, and the keyring handle
/// may be freed (then it can no longer be rotated). Give the same keyring
/// to several configurations to rotate them together. Enabling again
/// replaces the keyring.
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another
/// thread; `keyring` is NULL or a live ticket keyring.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_enable_resumption(
    config: *mut lwsec_server_config,
    keyring: *const lwsec_ticket_keyring,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised both pointers are NULL or valid as documented.
        let (config, ring) = unsafe { (handle_mut(config)?, handle(keyring)?) };
        update_server(config, |c| {
            c.enable_resumption(Arc::clone(&ring.inner));
            Ok(())
        })
    })
}

/// Sets how long the tickets the server issues stay valid, in seconds: 1
/// to 604800 (7 days; default 86400, one day), else `LWSEC_INVALID_CONFIG`
/// and nothing changes.
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_set_ticket_lifetime(
    config: *mut lwsec_server_config,
    seconds: u64,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised `config` is NULL or valid.
        let config = unsafe { handle_mut(config)? };
        update_server(config, |c| {
            c.ticket_lifetime = Duration::from_secs(seconds);
            Ok(())
        })
    })
}

/// Sets how long after a client's last **full** handshake it may keep
/// resuming, in seconds (default 604800, 7 days): resumptions chain new
/// tickets, but never past this age, so a client proves its static key
/// (or runs a fresh NK handshake) at least this often. 0 gives
/// `LWSEC_INVALID_CONFIG` (it would refuse every ticket; this is not "no
/// limit").
///
/// # Safety
///
/// `config` is NULL or a live server configuration not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_set_resumption_max_age(
    config: *mut lwsec_server_config,
    seconds: u64,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised `config` is NULL or valid.
        let config = unsafe { handle_mut(config)? };
        if seconds == 0 {
            return Err(
                Error::InvalidConfig("resumption_max_age must be at least 1 second").into(),
            );
        }
        update_server(config, |c| {
            c.resumption_max_age = Duration::from_secs(seconds);
            Ok(())
        })
    })
}

/// Frees a server configuration. NULL is a no-op. Connections created from
/// it keep working (they hold their own reference).
///
/// # Safety
///
/// `config` is NULL or a server configuration from this library not yet
/// freed; it must not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_server_config_free(config: *mut lwsec_server_config) {
    // SAFETY: the caller promised `config` is NULL or an unfreed handle.
    unsafe { free_handle(config) }
}

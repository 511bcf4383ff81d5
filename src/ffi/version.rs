//! The library's version, event names, and the log callback.
//!
//! lwsec reports diagnostic lines (a connection that failed and why, at
//! least) to one process-wide callback that the application registers with
//! `lwsec_set_log_callback`; without one, nothing is formatted or printed.

use std::cell::Cell;
use std::ffi::{c_char, c_void};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{PoisonError, RwLock};

use crate::error::Error;
use crate::ffi::boundary::guard;
use crate::ffi::conn::lwsec_event;
use crate::ffi::error::lwsec_result;

/// The version, NUL-terminated.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The version of the lwsec library, such as `"0.1.0"` (the crate's
/// version, semantic versioning): a static, NUL-terminated string, valid for
/// the life of the program. Do not free it.
///
/// Compare it with the version of the header you compiled against when
/// loading the shared library at run time.
#[unsafe(no_mangle)]
pub extern "C" fn lwsec_version() -> *const c_char {
    let mut version = "\0";
    let _ = guard(|| {
        version = VERSION;
        Ok(())
    });
    version.as_ptr().cast::<c_char>()
}

/// Every event, for looking a code up.
const EVENTS: [lwsec_event; 11] = [
    lwsec_event::LWSEC_EVENT_NONE,
    lwsec_event::LWSEC_EVENT_HANDSHAKE_COMPLETE,
    lwsec_event::LWSEC_EVENT_KEY_UPDATED,
    lwsec_event::LWSEC_EVENT_PONG,
    lwsec_event::LWSEC_EVENT_PEER_CLOSED,
    lwsec_event::LWSEC_EVENT_EARLY_DATA,
    lwsec_event::LWSEC_EVENT_EARLY_DATA_ACCEPTED,
    lwsec_event::LWSEC_EVENT_EARLY_DATA_REJECTED,
    lwsec_event::LWSEC_EVENT_CLIENT_HELLO,
    lwsec_event::LWSEC_EVENT_SERVER_KEYS_ANNOUNCED,
    lwsec_event::LWSEC_EVENT_RESUMPTION_TICKET,
];

/// The event's name, NUL-terminated. Exhaustive on purpose: a new event
/// does not compile until it has a name (add it to `EVENTS` too).
fn event_name(event: lwsec_event) -> &'static str {
    match event {
        lwsec_event::LWSEC_EVENT_NONE => "LWSEC_EVENT_NONE\0",
        lwsec_event::LWSEC_EVENT_HANDSHAKE_COMPLETE => "LWSEC_EVENT_HANDSHAKE_COMPLETE\0",
        lwsec_event::LWSEC_EVENT_KEY_UPDATED => "LWSEC_EVENT_KEY_UPDATED\0",
        lwsec_event::LWSEC_EVENT_PONG => "LWSEC_EVENT_PONG\0",
        lwsec_event::LWSEC_EVENT_PEER_CLOSED => "LWSEC_EVENT_PEER_CLOSED\0",
        lwsec_event::LWSEC_EVENT_EARLY_DATA => "LWSEC_EVENT_EARLY_DATA\0",
        lwsec_event::LWSEC_EVENT_EARLY_DATA_ACCEPTED => "LWSEC_EVENT_EARLY_DATA_ACCEPTED\0",
        lwsec_event::LWSEC_EVENT_EARLY_DATA_REJECTED => "LWSEC_EVENT_EARLY_DATA_REJECTED\0",
        lwsec_event::LWSEC_EVENT_CLIENT_HELLO => "LWSEC_EVENT_CLIENT_HELLO\0",
        lwsec_event::LWSEC_EVENT_SERVER_KEYS_ANNOUNCED => "LWSEC_EVENT_SERVER_KEYS_ANNOUNCED\0",
        lwsec_event::LWSEC_EVENT_RESUMPTION_TICKET => "LWSEC_EVENT_RESUMPTION_TICKET\0",
    }
}

/// The static, NUL-terminated name of an `lwsec_event` code, such as
/// `"LWSEC_EVENT_PONG"`, for logs. Takes the code as a plain integer so
/// that any value is safe to pass; an unknown code gives
/// `"unknown lwsec_event"`. The pointer is valid for the life of the
/// program; do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn lwsec_event_str(event: u32) -> *const c_char {
    let mut name = "unknown lwsec_event\0";
    let _ = guard(|| {
        if let Some(e) = EVENTS.into_iter().find(|e| *e as u32 == event) {
            name = event_name(e);
        }
        Ok(())
    });
    name.as_ptr().cast::<c_char>()
}

/// How much a log line matters. Lower is more severe; a callback receives
/// the lines at or below the level set with `lwsec_set_log_level` (default
/// `LWSEC_LOG_INFO`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(non_camel_case_types)]
pub enum lwsec_log_level {
    /// lwsec itself failed (an internal error, a caught panic, the RNG).
    LWSEC_LOG_ERROR = 1,
    /// A connection failed: the peer sent something invalid, refused us,
    /// timed out or went away without a graceful close.
    LWSEC_LOG_WARN = 2,
    /// A connection's milestones: handshake complete, closed.
    LWSEC_LOG_INFO = 3,
    /// Details for debugging: key updates, pings, each decision.
    LWSEC_LOG_DEBUG = 4,
}

impl lwsec_log_level {
    /// The level for a raw value, if it is one.
    fn from_u32(level: u32) -> Option<Self> {
        [
            Self::LWSEC_LOG_ERROR,
            Self::LWSEC_LOG_WARN,
            Self::LWSEC_LOG_INFO,
            Self::LWSEC_LOG_DEBUG,
        ]
        .into_iter()
        .find(|l| *l as u32 == level)
    }
}

/// A log callback: receives one diagnostic line of lwsec at a time.
///
/// * `userdata` is the pointer given to `lwsec_set_log_callback`;
/// * `level` is an `lwsec_log_level` code;
/// * `message` points to `message_len` bytes of UTF-8 text, one line with
///   no newline, followed by a NUL (not counted in `message_len`). It is
///   valid only during the call: copy it to keep it.
///
/// It is called on the thread of the `lwsec_*` call that logs, possibly
/// from several threads at once, so it must be thread-safe. It must return
/// normally (no C++ exception or `longjmp` out of it, which aborts the
/// process), and should be quick. lwsec calls made from inside it do not
/// log, and `lwsec_set_log_callback` fails there with
/// `LWSEC_INVALID_PARAMETER`.
pub type lwsec_log_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        level: lwsec_log_level,
        message: *const c_char,
        message_len: usize,
    ),
>;

/// The registered callback and its user data.
struct Logger {
    callback: unsafe extern "C" fn(*mut c_void, lwsec_log_level, *const c_char, usize),
    userdata: *mut c_void,
}

// SAFETY: `lwsec_set_log_callback`'s contract makes the callback callable
// from any thread with this user data, at the same time on several threads.
unsafe impl Send for Logger {}
// SAFETY: as for `Send`: the callback may run concurrently on several threads.
unsafe impl Sync for Logger {}

/// The callback. Held for reading while it runs, so that replacing it waits
/// for calls in progress: once `lwsec_set_log_callback` returns, the old
/// user data is never used again.
static LOGGER: RwLock<Option<Logger>> = RwLock::new(None);
/// Whether a callback is registered (skips the lock when none is).
static ENABLED: AtomicBool = AtomicBool::new(false);
/// The most detailed level passed to the callback.
static MAX_LEVEL: AtomicU32 = AtomicU32::new(lwsec_log_level::LWSEC_LOG_INFO as u32);

thread_local! {
    /// This thread is inside the callback: nothing logs, nothing registers.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// Registers the process-wide log callback, replacing the previous one;
/// NULL removes it. No callback is registered at first, and nothing is
/// formatted while none is.
///
/// Returns `LWSEC_OK`, or `LWSEC_INVALID_PARAMETER` when called from inside
/// a log callback. When it returns, no call to the previous callback is
/// running or will start: the previous `userdata` may be freed.
///
/// # Safety
///
/// Until it is replaced or removed, `callback` must be safe to call from any
/// thread, concurrently, with `userdata` (see `lwsec_log_callback`), and
/// `userdata` must stay valid for it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_set_log_callback(
    callback: lwsec_log_callback,
    userdata: *mut c_void,
) -> lwsec_result {
    guard(|| {
        if IN_CALLBACK.with(Cell::get) {
            return Err(lwsec_result::LWSEC_INVALID_PARAMETER.into());
        }
        let logger = callback.map(|callback| Logger { callback, userdata });
        let enabled = logger.is_some();
        let mut slot = LOGGER.write().unwrap_or_else(PoisonError::into_inner);
        *slot = logger;
        ENABLED.store(enabled, Ordering::Release);
        drop(slot);
        log(
            lwsec_log_level::LWSEC_LOG_DEBUG,
            format_args!(
                "log callback registered (lwsec {})",
                env!("CARGO_PKG_VERSION")
            ),
        );
        Ok(())
    })
}

/// Sets the most detailed level the log callback receives (an
/// `lwsec_log_level` code; default `LWSEC_LOG_INFO`). Lines above it are not
/// even formatted. An unknown level gives `LWSEC_INVALID_PARAMETER`.
#[unsafe(no_mangle)]
pub extern "C" fn lwsec_set_log_level(max_level: u32) -> lwsec_result {
    guard(|| {
        let level =
            lwsec_log_level::from_u32(max_level).ok_or(lwsec_result::LWSEC_INVALID_PARAMETER)?;
        MAX_LEVEL.store(level as u32, Ordering::Relaxed);
        Ok(())
    })
}

/// Whether a line at `level` would reach a callback (to skip costly work
/// before [`log`]).
pub(crate) fn log_enabled(level: lwsec_log_level) -> bool {
    ENABLED.load(Ordering::Acquire) && level as u32 <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// Passes one line to the log callback, if one is registered and `level`
/// is enabled: `log(lwsec_log_level::LWSEC_LOG_WARN, format_args!("..."))`.
/// The text is formatted only then. Never panics, never fails.
pub(crate) fn log(level: lwsec_log_level, args: fmt::Arguments<'_>) {
    if !log_enabled(level) || IN_CALLBACK.with(Cell::get) {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let mut line = fmt::format(args).replace(['\n', '\r', '\0'], " ");
        let len = line.len();
        line.push('\0');
        let slot = LOGGER.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(logger) = slot.as_ref() {
            IN_CALLBACK.with(|c| c.set(true));
            // SAFETY: `lwsec_set_log_callback`'s caller promised the callback
            // may be called from this thread with its user data while it is
            // registered, which the read lock guarantees; `line` holds `len`
            // bytes and a NUL, and outlives the call.
            unsafe { (logger.callback)(logger.userdata, level, line.as_ptr().cast(), len) };
            IN_CALLBACK.with(|c| c.set(false));
        }
    }));
}

/// Logs that a connection failed inside the C API function `function`
/// (e.g. `"lwsec_conn_handle_input"`) with `err`: `LWSEC_LOG_ERROR` for
/// lwsec's own failures (internal error, RNG), `LWSEC_LOG_WARN` otherwise.
/// The line names the function, the error's `lwsec_result` code and its
/// message.
pub(crate) fn log_connection_failure(function: &str, err: &Error) {
    let level = match err {
        Error::Internal(_) | Error::Rng => lwsec_log_level::LWSEC_LOG_ERROR,
        _ => lwsec_log_level::LWSEC_LOG_WARN,
    };
    if !log_enabled(level) {
        return;
    }
    let code = lwsec_result::from_error(err);
    log(
        level,
        format_args!("{function}: connection failed: {err} ({code:?})"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::sync::Mutex;

    #[test]
    fn version_is_the_crate_version() {
        // SAFETY: a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(lwsec_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn every_event_has_its_name() {
        for e in EVENTS {
            // SAFETY: static NUL-terminated strings.
            let name = unsafe { CStr::from_ptr(lwsec_event_str(e as u32)) };
            assert_eq!(name.to_str().unwrap(), format!("{e:?}"));
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(lwsec_event_str(999)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown lwsec_event");
    }

    static LINES: Mutex<Vec<(u32, String)>> = Mutex::new(Vec::new());

    /// Records each line, with what it checked (no panic may cross the
    /// callback): the user data, the NUL, the nested calls' outcomes.
    unsafe extern "C" fn collect(
        userdata: *mut c_void,
        level: lwsec_log_level,
        message: *const c_char,
        len: usize,
    ) {
        // SAFETY: lwsec passes `len` bytes followed by a NUL.
        let bytes = unsafe { std::slice::from_raw_parts(message.cast::<u8>(), len + 1) };
        let text = String::from_utf8_lossy(&bytes[..len]).into_owned();
        let ok = userdata as usize == 42 && bytes[len] == 0;
        // Nested calls neither log nor re-register.
        log(lwsec_log_level::LWSEC_LOG_ERROR, format_args!("nested"));
        // SAFETY: a NULL callback.
        let nested = unsafe { lwsec_set_log_callback(None, std::ptr::null_mut()) };
        let ok = ok && nested == lwsec_result::LWSEC_INVALID_PARAMETER;
        if let Ok(mut lines) = LINES.lock() {
            lines.push((level as u32, if ok { text } else { format!("BAD: {text}") }));
        }
    }

    /// One test: the callback is global.
    #[test]
    fn log_callback_receives_lines_at_enabled_levels() {
        log(
            lwsec_log_level::LWSEC_LOG_ERROR,
            format_args!("nobody listens"),
        );
        // SAFETY: `collect` is thread-safe and ignores the user data's target.
        let r = unsafe { lwsec_set_log_callback(Some(collect), 42 as *mut c_void) };
        assert_eq!(r, lwsec_result::LWSEC_OK);
        assert_eq!(
            lwsec_set_log_level(99),
            lwsec_result::LWSEC_INVALID_PARAMETER
        );
        assert_eq!(
            lwsec_set_log_level(lwsec_log_level::LWSEC_LOG_WARN as u32),
            lwsec_result::LWSEC_OK
        );
        log(
            lwsec_log_level::LWSEC_LOG_INFO,
            format_args!("filtered out"),
        );
        log_connection_failure("lwsec_conn_handle_input", &Error::BadRecordMac);
        log_connection_failure("lwsec_conn_new_client", &Error::Rng);
        log(lwsec_log_level::LWSEC_LOG_WARN, format_args!("two\nlines"));
        assert_eq!(
            lwsec_set_log_level(lwsec_log_level::LWSEC_LOG_INFO as u32),
            lwsec_result::LWSEC_OK
        );
        // SAFETY: removing the callback.
        let r = unsafe { lwsec_set_log_callback(None, std::ptr::null_mut()) };
        assert_eq!(r, lwsec_result::LWSEC_OK);
        log(lwsec_log_level::LWSEC_LOG_ERROR, format_args!("removed"));
        let lines = std::mem::take(&mut *LINES.lock().unwrap());
        assert_eq!(
            lines,
            [
                (
                    2,
                    "lwsec_conn_handle_input: connection failed: a record failed authentication \
                     (corrupted, forged, replayed or reordered data) (LWSEC_BAD_RECORD_MAC)"
                        .to_owned()
                ),
                (
                    1,
                    "lwsec_conn_new_client: connection failed: the random number generator \
                     failed (LWSEC_RNG_ERROR)"
                        .to_owned()
                ),
                (2, "two lines".to_owned()),
            ]
        );
    }
}

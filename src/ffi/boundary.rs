//! The checks every `lwsec_*` function goes through: the panic boundary,
//! NULL checks on pointers and buffers, and handle ownership.
//!
//! Nothing here trusts C: a NULL pointer becomes `LWSEC_NULL_PARAMETER`, a
//! panic becomes `LWSEC_PANIC`, and output parameters are written only once
//! the call has succeeded.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use crate::error::Error;
use crate::ffi::error::lwsec_result;

/// Why a call failed: the code returned to C and the detailed message kept
/// for `lwsec_conn_last_error`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: lwsec_result,
    pub(crate) message: String,
}

impl From<lwsec_result> for Failure {
    fn from(code: lwsec_result) -> Self {
        let message = code.message().trim_end_matches('\0').to_owned();
        Self { code, message }
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Self {
            code: lwsec_result::from_error(&err),
            message: err.to_string(),
        }
    }
}

/// The message of a caught panic.
pub(crate) fn panic_failure(payload: &(dyn Any + Send)) -> Failure {
    let detail = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    Failure {
        code: lwsec_result::LWSEC_PANIC,
        message: format!("internal error in lwsec (caught panic: {detail})"),
    }
}

/// Runs `body` inside the panic boundary and turns its outcome into a code.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> lwsec_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => lwsec_result::LWSEC_OK,
        Ok(Err(failure)) => failure.code,
        Err(_) => lwsec_result::LWSEC_PANIC,
    }
}

/// An output parameter: checked for NULL up front, written only on success.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// Checks `ptr` for NULL.
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or valid for writing one `T` (it need not be
    /// initialised) until [`set`](Self::set) is called.
    pub(crate) unsafe fn new(ptr: *mut T) -> Result<Self, lwsec_result> {
        NonNull::new(ptr)
            .map(Self)
            .ok_or(lwsec_result::LWSEC_NULL_PARAMETER)
    }

    /// Writes the value.
    pub(crate) fn set(self, value: T) {
        // SAFETY: `new`'s caller promised the pointer is valid for writing a
        // `T`; `write` does not read or drop the (possibly uninitialised) old value.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// The bytes of an input buffer. A NULL pointer is allowed when `len` is 0.
///
/// # Safety
///
/// Unless NULL, `ptr` points to `len` readable bytes that stay valid and
/// unmodified for `'a`.
pub(crate) unsafe fn input<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], lwsec_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(lwsec_result::LWSEC_NULL_PARAMETER);
    }
    // SAFETY: non-NULL, and the caller promised `len` readable bytes for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// An output buffer. A NULL pointer is allowed when `len` is 0.
///
/// # Safety
///
/// Unless NULL, `ptr` points to `len` writable bytes, not aliased by any
/// other argument, valid for `'a`.
pub(crate) unsafe fn output<'a>(ptr: *mut u8, len: usize) -> Result<&'a mut [u8], lwsec_result> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(lwsec_result::LWSEC_NULL_PARAMETER);
    }
    // SAFETY: non-NULL, and the caller promised `len` writable, unaliased bytes for 'a.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// Borrows a handle.
///
/// # Safety
///
/// `ptr` is NULL or a live handle of type `T` created by this library, not
/// mutated elsewhere during `'a`.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T) -> Result<&'a T, lwsec_result> {
    // SAFETY: the caller promised a live handle or NULL; `as_ref` checks NULL.
    unsafe { ptr.as_ref() }.ok_or(lwsec_result::LWSEC_NULL_PARAMETER)
}

/// Borrows a handle mutably.
///
/// # Safety
///
/// `ptr` is NULL or a live handle of type `T` created by this library, not
/// used elsewhere during `'a`.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T) -> Result<&'a mut T, lwsec_result> {
    // SAFETY: the caller promised a live, unaliased handle or NULL; `as_mut` checks NULL.
    unsafe { ptr.as_mut() }.ok_or(lwsec_result::LWSEC_NULL_PARAMETER)
}

/// Moves `value` to the heap and hands ownership to C.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes ownership back from C and drops the handle; NULL is a no-op.
/// Panics while dropping are caught.
///
/// # Safety
///
/// `ptr` is NULL or a handle of type `T` from [`into_handle`] that has not
/// been freed; it must not be used afterwards.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: the caller promised `ptr` came from `Box::into_raw` in
    // `into_handle` and is freed only once.
    let boxed = unsafe { Box::from_raw(ptr) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(boxed)));
}

/// Copies `src` into the front of `dst`; fails with `LWSEC_BUFFER_TOO_SMALL`
/// (writing nothing) when it does not fit. Returns the bytes written.
pub(crate) fn copy_out(src: &[u8], dst: &mut [u8]) -> Result<usize, Failure> {
    let Some(front) = dst.get_mut(..src.len()) else {
        return Err(Error::WouldExceedBuffer { needed: src.len() }.into());
    };
    front.copy_from_slice(src);
    Ok(src.len())
}

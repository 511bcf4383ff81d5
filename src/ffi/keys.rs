//! Key pairs and public keys: generate, load from bytes or text, export.

use crate::crypto::dh::{PublicKey, StaticKeyPair};
use crate::crypto::rng::OsRandom;
use crate::ffi::boundary::{Out, copy_out, free_handle, guard, handle, input, into_handle, output};
use crate::ffi::error::lwsec_result;

/// Length in bytes of a raw X25519 public or private key.
pub const LWSEC_KEY_LEN: usize = 32;

/// Length in bytes of the handshake hash (`lwsec_conn_handshake_hash`).
pub const LWSEC_HANDSHAKE_HASH_LEN: usize = 32;

/// Length in bytes of a key in the text format (`lwsec-public-v1:` or
/// `lwsec-secret-v1:` followed by 64 hex digits), without any terminator.
pub const LWSEC_KEY_TEXT_LEN: usize = 80;

/// An X25519 static key pair: a server's identity key or an IK client's
/// device key. Opaque; create it with `lwsec_key_pair_generate`,
/// `lwsec_key_pair_from_bytes` or `lwsec_key_pair_from_text`, free it with
/// `lwsec_key_pair_free`. The private key is wiped from memory when freed.
pub struct lwsec_key_pair {
    pub(crate) inner: StaticKeyPair,
}

pub(crate) fn key_bytes(key: &[u8]) -> Result<[u8; LWSEC_KEY_LEN], lwsec_result> {
    <[u8; LWSEC_KEY_LEN]>::try_from(key).map_err(|_| lwsec_result::LWSEC_INVALID_PARAMETER)
}

fn text(bytes: &[u8]) -> Result<&str, lwsec_result> {
    std::str::from_utf8(bytes).map_err(|_| lwsec_result::LWSEC_INVALID_PARAMETER)
}

/// Generates a fresh key pair from the operating system's RNG.
///
/// On success `*out_key_pair` receives a new handle that the caller owns and
/// must free with `lwsec_key_pair_free`.
///
/// # Safety
///
/// `out_key_pair` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_key_pair_generate(
    out_key_pair: *mut *mut lwsec_key_pair,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised `out_key_pair` is NULL or writable.
        let out = unsafe { Out::new(out_key_pair) }?;
        let inner = StaticKeyPair::generate(&OsRandom)?;
        out.set(into_handle(lwsec_key_pair { inner }));
        Ok(())
    })
}

/// Loads a key pair from a raw 32-byte X25519 private key.
///
/// `private_key_len` must be `LWSEC_KEY_LEN`, else `LWSEC_INVALID_PARAMETER`.
/// The bytes are copied; the caller may wipe its buffer afterwards. On
/// success `*out_key_pair` receives a new handle owned by the caller (free it
/// with `lwsec_key_pair_free`).
///
/// # Safety
///
/// `private_key` points to `private_key_len` readable bytes;
/// `out_key_pair` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_key_pair_from_bytes(
    private_key: *const u8,
    private_key_len: usize,
    out_key_pair: *mut *mut lwsec_key_pair,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised the buffer and the out pointer are valid.
        let (bytes, out) = unsafe {
            (
                input(private_key, private_key_len)?,
                Out::new(out_key_pair)?,
            )
        };
        let bytes = zeroize::Zeroizing::new(key_bytes(bytes)?);
        out.set(into_handle(lwsec_key_pair {
            inner: StaticKeyPair::from_private_bytes(*bytes),
        }));
        Ok(())
    })
}

/// Loads a key pair from the key text format (`lwsec-secret-v1:<64 hex>`;
/// blank lines, `#` comment lines and surrounding white space are ignored),
/// for example the contents of a key file.
///
/// `text` need not be NUL-terminated: exactly `text_len` bytes are read.
/// Fails with `LWSEC_INVALID_KEY` when the text is not a secret key
/// (`lwsec_result_str` names the class; the text is not kept). On success
/// `*out_key_pair` receives a new handle owned by the caller.
///
/// # Safety
///
/// `text` points to `text_len` readable bytes; `out_key_pair` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_key_pair_from_text(
    text: *const u8,
    text_len: usize,
    out_key_pair: *mut *mut lwsec_key_pair,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised the buffer and the out pointer are valid.
        let (bytes, out) = unsafe { (input(text, text_len)?, Out::new(out_key_pair)?) };
        let inner = StaticKeyPair::from_text(self::text(bytes)?)?;
        out.set(into_handle(lwsec_key_pair { inner }));
        Ok(())
    })
}

/// Copies the raw 32-byte public key of `key_pair` into `buf`.
///
/// `buf_len` must be at least `LWSEC_KEY_LEN`, else
/// `LWSEC_BUFFER_TOO_SMALL` and nothing is written. On success
/// `*out_written` is `LWSEC_KEY_LEN`.
///
/// # Safety
///
/// `key_pair` is NULL or a live key pair; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_key_pair_public_key(
    key_pair: *const lwsec_key_pair,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised all pointers are NULL or valid as documented.
        let (kp, buf, out) = unsafe {
            (
                handle(key_pair)?,
                output(buf, buf_len)?,
                Out::new(out_written)?,
            )
        };
        out.set(copy_out(kp.inner.public_key().as_bytes(), buf)?);
        Ok(())
    })
}

/// Writes the public key of `key_pair` in the text format
/// (`lwsec-public-v1:<64 hex>`, `LWSEC_KEY_TEXT_LEN` bytes, no NUL
/// terminator) into `buf`; `*out_written` receives the length.
///
/// A buffer shorter than `LWSEC_KEY_TEXT_LEN` gives `LWSEC_BUFFER_TOO_SMALL`
/// and nothing is written.
///
/// # Safety
///
/// `key_pair` is NULL or a live key pair; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_key_pair_public_key_text(
    key_pair: *const lwsec_key_pair,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised all pointers are NULL or valid as documented.
        let (kp, buf, out) = unsafe {
            (
                handle(key_pair)?,
                output(buf, buf_len)?,
                Out::new(out_written)?,
            )
        };
        out.set(copy_out(kp.inner.public_key().to_text().as_bytes(), buf)?);
        Ok(())
    })
}

/// Writes the private key of `key_pair` in the text format
/// (`lwsec-secret-v1:<64 hex>`, `LWSEC_KEY_TEXT_LEN` bytes, no NUL
/// terminator) into `buf`, for saving a generated key to a file. Keep the
/// result secret and wipe the buffer after use.
///
/// A buffer shorter than `LWSEC_KEY_TEXT_LEN` gives `LWSEC_BUFFER_TOO_SMALL`
/// and nothing is written.
///
/// # Safety
///
/// `key_pair` is NULL or a live key pair; `buf` points to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_key_pair_private_key_text(
    key_pair: *const lwsec_key_pair,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised all pointers are NULL or valid as documented.
        let (kp, buf, out) = unsafe {
            (
                handle(key_pair)?,
                output(buf, buf_len)?,
                Out::new(out_written)?,
            )
        };
        out.set(copy_out(kp.inner.to_text().as_bytes(), buf)?);
        Ok(())
    })
}

/// Frees a key pair (wiping the private key). NULL is a no-op.
///
/// Configurations created from the key pair hold their own copy and are
/// not affected.
///
/// # Safety
///
/// `key_pair` is NULL or a key pair from this library not yet freed; it
/// must not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_key_pair_free(key_pair: *mut lwsec_key_pair) {
    // SAFETY: the caller promised `key_pair` is NULL or an unfreed handle.
    unsafe { free_handle(key_pair) }
}

/// Decodes a public key in the text format (`lwsec-public-v1:<64 hex>`,
/// comments and white space allowed as in a key file) into its 32 raw bytes.
///
/// `text` need not be NUL-terminated. `buf_len` must be at least
/// `LWSEC_KEY_LEN` (else `LWSEC_BUFFER_TOO_SMALL`); on success
/// `*out_written` is `LWSEC_KEY_LEN`. Invalid text gives `LWSEC_INVALID_KEY`.
///
/// # Safety
///
/// `text` points to `text_len` readable bytes; `buf` to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_public_key_from_text(
    text: *const u8,
    text_len: usize,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised all pointers are NULL or valid as documented.
        let (text, buf, out) = unsafe {
            (
                input(text, text_len)?,
                output(buf, buf_len)?,
                Out::new(out_written)?,
            )
        };
        let key = PublicKey::from_text(self::text(text)?)?;
        out.set(copy_out(key.as_bytes(), buf)?);
        Ok(())
    })
}

/// Encodes a raw 32-byte public key in the text format
/// (`lwsec-public-v1:<64 hex>`, `LWSEC_KEY_TEXT_LEN` bytes, no NUL
/// terminator).
///
/// `key_len` must be `LWSEC_KEY_LEN` (else `LWSEC_INVALID_PARAMETER`);
/// `buf_len` at least `LWSEC_KEY_TEXT_LEN` (else `LWSEC_BUFFER_TOO_SMALL`).
///
/// # Safety
///
/// `key` points to `key_len` readable bytes; `buf` to `buf_len` writable
/// bytes; `out_written` is NULL or valid for writing a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lwsec_public_key_to_text(
    key: *const u8,
    key_len: usize,
    buf: *mut u8,
    buf_len: usize,
    out_written: *mut usize,
) -> lwsec_result {
    guard(|| {
        // SAFETY: the caller promised all pointers are NULL or valid as documented.
        let (key, buf, out) = unsafe {
            (
                input(key, key_len)?,
                output(buf, buf_len)?,
                Out::new(out_written)?,
            )
        };
        let key = PublicKey::from_bytes(key_bytes(key)?);
        out.set(copy_out(key.to_text().as_bytes(), buf)?);
        Ok(())
    })
}

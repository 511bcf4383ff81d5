//! The key text format: how static keys are saved, loaded and pinned.
//!
//! ```text
//! lwsec-secret-v1:<64 lowercase hex digits: the X25519 private key>
//! lwsec-public-v1:<64 lowercase hex digits: the X25519 public key>
//! ```
//!
//! A key file holds one such line. Blank lines and lines starting with `#`
//! are ignored, as is white space around the line; upper-case hex digits are
//! accepted. Anything else is an [`Error::InvalidKey`] that says what is wrong.
//!
//! Two more secret files use the same rules:
//!
//! ```text
//! lwsec-ticket-keys-v1:<64 hex digits: a ticket key secret>     one line per key,
//! lwsec-ticket-keys-v1:<64 hex digits>                          the current key first,
//!                                                               then up to 3 previous
//! lwsec-resumption-ticket-v1:<hex digits: ResumptionTicket::to_bytes>
//! ```
//!
//! A fleet's servers share a ticket-key file ([`TicketKeys::load`],
//! [`TicketKeys::save`]; `lwsec ticketkeys` writes and rotates one) to
//! accept each other's resumption tickets; a client keeps its ticket in a
//! ticket file ([`ResumptionTicket::load`], [`ResumptionTicket::save`]).
//!
//! [`PublicKey`] implements `Display` and `FromStr` with this text (and,
//! with the feature `serde`, `Serialize` and `Deserialize` as a string);
//! [`StaticKeyPair`] implements `FromStr` only, so a secret is never printed
//! by accident. Loading a file ([`StaticKeyPair::load`], [`PublicKey::load`],
//! [`load_pinned_keys_file`]) fails with an `io::Error` that names the file
//! and says what to do ([`KeyFileError`]); saving replaces the file
//! atomically.
//!
//! ```
//! use lwsec::{PublicKey, StaticKeyPair, rng::OsRandom};
//! let pair = StaticKeyPair::generate(&OsRandom)?;
//! let saved = pair.to_text();
//! let loaded = StaticKeyPair::from_text(&saved)?;
//! assert_eq!(loaded.public_key(), pair.public_key());
//! let pinned = PublicKey::from_text(&pair.public_key().to_text())?;
//! assert_eq!(pinned, pair.public_key());
//! # Ok::<(), lwsec::Error>(())
//! ```

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use zeroize::Zeroizing;

use crate::crypto::dh::{KEY_LEN, PublicKey, StaticKeyPair};
use crate::error::Error;
use crate::ticket::{MAX_PREVIOUS_TICKET_KEYS, ResumptionTicket, TicketKeys};

/// Prefix of a saved private key.
pub const SECRET_PREFIX: &str = "lwsec-secret-v1:";
/// Prefix of a saved public key.
pub const PUBLIC_PREFIX: &str = "lwsec-public-v1:";
/// Prefix of each line of a ticket-key file (one secret per line, the
/// current key first).
pub const TICKET_KEYS_PREFIX: &str = "lwsec-ticket-keys-v1:";
/// Prefix of a saved resumption ticket.
pub const RESUMPTION_TICKET_PREFIX: &str = "lwsec-resumption-ticket-v1:";

const HEX: &[u8; 16] = b"0123456789abcdef";

fn encode(prefix: &str, bytes: &[u8]) -> String {
    let mut out = String::with_capacity(prefix.len().saturating_add(bytes.len().saturating_mul(2)));
    out.push_str(prefix);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(*HEX.get(usize::from(nibble)).unwrap_or(&b'0')));
        }
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => u8::try_from(char::from(c).to_digit(16)?).ok(),
        _ => None,
    }
}

/// Decodes hex `digits` into `out` (exactly twice as many digits as bytes).
fn decode_hex(digits: &[u8], out: &mut [u8]) -> bool {
    if digits.len() != out.len().saturating_mul(2) {
        return false;
    }
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (Some(hi), Some(lo)) = (
            pair.first().copied().and_then(hex_value),
            pair.get(1).copied().and_then(hex_value),
        ) else {
            return false;
        };
        *byte = (hi << 4) | lo;
    }
    true
}

/// The meaningful lines of a key text: trimmed, without comments and
/// blank lines.
fn meaningful_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// The one meaningful line of a key text, without comments and blank lines.
fn key_line(text: &str) -> Result<&str, Error> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines.next().ok_or(Error::InvalidKey(
        "no key found (empty text or only comments)",
    ))?;
    if lines.next().is_some() {
        return Err(Error::InvalidKey(
            "more than one key line; a key file holds exactly one key",
        ));
    }
    Ok(line)
}

fn decode(
    text: &str,
    prefix: &str,
    other_prefix: &str,
    wrong_kind: &'static str,
) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    let line = key_line(text)?;
    if line.starts_with(other_prefix) {
        return Err(Error::InvalidKey(wrong_kind));
    }
    let digits = line.strip_prefix(prefix).ok_or(match prefix {
        SECRET_PREFIX => Error::InvalidKey("missing the prefix `lwsec-secret-v1:`"),
        _ => Error::InvalidKey("missing the prefix `lwsec-public-v1:`"),
    })?;
    let digits = digits.as_bytes();
    if digits.len() != 2 * KEY_LEN {
        return Err(Error::InvalidKey(
            "a key has exactly 64 hex digits after the prefix",
        ));
    }
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (Some(hi), Some(lo)) = (
            pair.first().copied().and_then(hex_value),
            pair.get(1).copied().and_then(hex_value),
        ) else {
            return Err(Error::InvalidKey(
                "a key may only contain hex digits 0-9 and a-f after the prefix",
            ));
        };
        *byte = (hi << 4) | lo;
    }
    Ok(out)
}

impl StaticKeyPair {
    /// The private key in the text format (`lwsec-secret-v1:...`). Keep it secret.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(encode(SECRET_PREFIX, self.private_bytes().as_slice()))
    }

    /// Loads a key pair from the text format.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let bytes = decode(
            text,
            SECRET_PREFIX,
            PUBLIC_PREFIX,
            "this is a public key; a secret key (`lwsec-secret-v1:`) is needed",
        )?;
        Ok(Self::from_private_bytes(*bytes))
    }
}

impl PublicKey {
    /// The public key in the text format (`lwsec-public-v1:...`).
    pub fn to_text(&self) -> String {
        encode(PUBLIC_PREFIX, self.as_bytes())
    }

    /// Loads a public key (for pinning) from the text format.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let bytes = decode(
            text,
            PUBLIC_PREFIX,
            SECRET_PREFIX,
            "this is a secret key; pin the public key (`lwsec-public-v1:`) instead",
        )?;
        Ok(Self::from_bytes(*bytes))
    }
}

/// Parses a list of pinned server public keys: one `lwsec-public-v1:` line
/// per key; blank lines and `#` comments are ignored. At least one key is
/// required.
///
/// The keys are in order: a client connects with the first
/// ([`ClientConfig::set_pinned_keys`](crate::ClientConfig::set_pinned_keys))
/// and never falls back to another because a handshake failed (that failure
/// is unauthenticated); pins change when the server announces new keys
/// inside the handshake ([`Event::ServerKeysAnnounced`](crate::Event::ServerKeysAnnounced)).
pub fn load_pinned_keys(text: &str) -> Result<Vec<PublicKey>, Error> {
    let keys = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(PublicKey::from_text)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(Error::InvalidKey(
            "no key found (empty text or only comments)",
        ));
    }
    Ok(keys)
}

/// Reads a file of pinned server public keys (see [`load_pinned_keys`]).
///
/// Errors name the file and say what to do; see [`KeyFileError`].
pub fn load_pinned_keys_file(path: impl AsRef<Path>) -> io::Result<Vec<PublicKey>> {
    let path = path.as_ref();
    let text = read_key_file(path, KeyFile::Pins)?;
    load_pinned_keys(&text).map_err(|e| KeyFile::Pins.parse_error(path, e))
}

impl TicketKeys {
    /// The keys in the text format: one `lwsec-ticket-keys-v1:` line per
    /// secret, the current key first. **Secret**: whoever reads it can
    /// impersonate the fleet to resuming clients (see [`TicketKeys`]).
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(self.text_len()));
        for secret in self.secrets() {
            text.push_str(&Zeroizing::new(encode(TICKET_KEYS_PREFIX, secret)));
            text.push('\n');
        }
        text
    }

    /// Reads keys from the text format: 1 to 4 `lwsec-ticket-keys-v1:`
    /// lines (the current secret, then up to
    /// [`MAX_PREVIOUS_TICKET_KEYS`] previous ones, newest first), blank
    /// lines and `#` comments ignored.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        // Sized once: a growing vector would leave copies of secrets behind.
        let mut secrets: Vec<Zeroizing<[u8; 32]>> =
            Vec::with_capacity(MAX_PREVIOUS_TICKET_KEYS.saturating_add(1));
        for line in meaningful_lines(text) {
            if secrets.len() > MAX_PREVIOUS_TICKET_KEYS {
                return Err(Error::InvalidKey(
                    "more than 4 ticket keys (the current one and 3 previous)",
                ));
            }
            if line.starts_with(SECRET_PREFIX) || line.starts_with(PUBLIC_PREFIX) {
                return Err(Error::InvalidKey(
                    "this is a static key, not ticket keys (`lwsec-ticket-keys-v1:`); \
                     create ticket keys with `lwsec ticketkeys`",
                ));
            }
            let digits = line
                .strip_prefix(TICKET_KEYS_PREFIX)
                .ok_or(Error::InvalidKey(
                    "missing the prefix `lwsec-ticket-keys-v1:`",
                ))?;
            let mut secret = Zeroizing::new([0u8; 32]);
            if digits.len() != 64 {
                return Err(Error::InvalidKey(
                    "a ticket key has exactly 64 hex digits after the prefix",
                ));
            }
            if !decode_hex(digits.as_bytes(), secret.as_mut()) {
                return Err(Error::InvalidKey(
                    "a ticket key may only contain hex digits 0-9 and a-f after the prefix",
                ));
            }
            if secrets.iter().any(|s| **s == *secret) {
                return Err(Error::InvalidKey("the same ticket key is listed twice"));
            }
            secrets.push(secret);
        }
        let mut secrets = secrets.into_iter();
        let current = secrets.next().ok_or(Error::InvalidKey(
            "no key found (empty text or only comments)",
        ))?;
        let mut keys = Self::new(*current);
        for previous in secrets {
            keys = keys.with_previous(*previous).map_err(|_| {
                Error::InvalidKey("more than 4 ticket keys (the current one and 3 previous)")
            })?;
        }
        Ok(keys)
    }

    /// The length of [`to_text`](Self::to_text).
    fn text_len(&self) -> usize {
        self.ids()
            .len()
            .saturating_mul(TICKET_KEYS_PREFIX.len().saturating_add(65))
    }

    /// Reads a ticket-key file (see [`from_text`](Self::from_text)), as
    /// written by [`save`](Self::save) or `lwsec ticketkeys`.
    ///
    /// Errors name the file and say what to do (see [`KeyFileError`]).
    pub fn load(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let text = read_key_file(path, KeyFile::TicketKeys)?;
        Self::from_text(&text).map_err(|e| KeyFile::TicketKeys.parse_error(path, e))
    }

    /// Writes the keys to `path`, replacing any file there, readable by the
    /// owner only (mode 0600) on Unix, atomically (a temporary file in the
    /// same directory, synced, renamed over `path`): a server reloading the
    /// file while it is rewritten reads the old keys or the new ones. A
    /// comment line records the key ids.
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let text = self.file_text();
        write_atomically(path.as_ref(), text.as_bytes(), true, Existing::Replace)
    }

    /// [`save`](Self::save) to a new file: fails with
    /// [`io::ErrorKind::AlreadyExists`] when `path` exists, even when it
    /// appears meanwhile, so a fleet's keys are never replaced by accident.
    pub fn save_new(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let text = self.file_text();
        write_atomically(path.as_ref(), text.as_bytes(), true, Existing::Refuse)
    }

    fn file_text(&self) -> Zeroizing<String> {
        let ids = self
            .ids()
            .iter()
            .map(|id| id.iter().map(|b| format!("{b:02x}")).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        let header = format!(
            "# lwsec ticket keys: keep this file secret (whoever reads it can impersonate\n\
             # the servers to resuming clients). Current key first, then up to {MAX_PREVIOUS_TICKET_KEYS} previous.\n\
             # ids: {ids}\n"
        );
        // Sized once: a growing string would leave copies of secrets behind.
        let mut text = Zeroizing::new(String::with_capacity(
            header.len().saturating_add(self.text_len()),
        ));
        text.push_str(&header);
        text.push_str(&self.to_text());
        text
    }
}

impl ResumptionTicket {
    /// Reads a ticket saved by [`save`](Self::save) (one
    /// `lwsec-resumption-ticket-v1:` line). The ticket is for one
    /// connection: delete or overwrite the file once it is used.
    ///
    /// Errors name the file (see [`KeyFileError`]); a missing file is
    /// [`io::ErrorKind::NotFound`] (no ticket yet: connect normally).
    pub fn load(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let text = read_key_file(path, KeyFile::Ticket)?;
        Self::from_text(&text).map_err(|e| KeyFile::Ticket.parse_error(path, e))
    }

    /// Writes the ticket to `path`, replacing any file there, readable by
    /// the owner only (mode 0600) on Unix, atomically (a temporary file
    /// renamed over `path`). **Secret**: whoever reads it can resume the
    /// session (as this device, for an IK ticket) until it expires.
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        const HEADER: &str = "# lwsec resumption ticket: secret, for one connection\n";
        let line = Zeroizing::new(encode(RESUMPTION_TICKET_PREFIX, &self.to_bytes()));
        // Sized once: a growing string would leave copies of the secret behind.
        let mut text = Zeroizing::new(String::with_capacity(
            HEADER.len().saturating_add(line.len()).saturating_add(1),
        ));
        text.push_str(HEADER);
        text.push_str(&line);
        text.push('\n');
        write_atomically(path.as_ref(), text.as_bytes(), true, Existing::Replace)
    }

    fn from_text(text: &str) -> Result<Self, Error> {
        let line = key_line(text)?;
        let digits = line
            .strip_prefix(RESUMPTION_TICKET_PREFIX)
            .ok_or(Error::InvalidKey(
                "missing the prefix `lwsec-resumption-ticket-v1:`",
            ))?;
        let mut bytes = Zeroizing::new(vec![0u8; digits.len() / 2]);
        if digits.len() % 2 != 0 || !decode_hex(digits.as_bytes(), &mut bytes) {
            return Err(Error::InvalidKey(
                "a ticket is an even number of hex digits 0-9 and a-f after the prefix",
            ));
        }
        Self::from_bytes(&bytes)
            .map_err(|_| Error::InvalidKey("not a ticket saved by this version of lwsec"))
    }
}

/// Key files are a line or a few: anything larger is not one (and reading
/// stops there, so a device or a huge file is refused quickly).
const MAX_KEY_FILE_LEN: u64 = 64 * 1024;

/// What a key file should hold, for error messages.
#[derive(Clone, Copy)]
enum KeyFile {
    Secret,
    Public,
    Pins,
    TicketKeys,
    Ticket,
}

impl KeyFile {
    fn what(self) -> &'static str {
        match self {
            Self::Secret => "an lwsec secret key",
            Self::Public => "an lwsec public key",
            Self::Pins => "a list of pinned lwsec public keys",
            Self::TicketKeys => "an lwsec ticket-key file",
            Self::Ticket => "an lwsec resumption ticket",
        }
    }

    /// What to do about a missing file.
    fn create_hint(self) -> &'static str {
        match self {
            Self::Secret => "create one with `lwsec keygen`",
            Self::Public | Self::Pins => {
                "copy the server's `.pub` file here, or print it with `lwsec pubkey SECRET.key`"
            }
            Self::TicketKeys => {
                "create one with `lwsec ticketkeys --out FILE` and give the same file to every server"
            }
            Self::Ticket => "a client writes it when a server sends a ticket",
        }
    }

    fn read_error(self, path: &Path, err: io::Error) -> io::Error {
        let shown = path.display();
        let message = match err.kind() {
            io::ErrorKind::NotFound => {
                format!("cannot read {shown}: no such file ({})", self.create_hint())
            }
            io::ErrorKind::PermissionDenied => {
                format!("cannot read {shown}: permission denied (check the file's owner and mode)")
            }
            io::ErrorKind::IsADirectory => {
                format!("cannot read {shown}: it is a directory, not a key file")
            }
            _ => format!("cannot read {shown}: {err}"),
        };
        KeyFileError::io(path, message, err)
    }

    fn parse_error(self, path: &Path, err: Error) -> io::Error {
        let reason = match &err {
            Error::InvalidKey(why) => (*why).to_owned(),
            other => other.to_string(),
        };
        let message = format!("{}: not {}: {reason}", path.display(), self.what());
        let kind = io::Error::from(err.clone()).kind();
        io::Error::new(
            kind,
            KeyFileError {
                path: path.to_owned(),
                message,
                source: Source::Key(err),
            },
        )
    }
}

/// Reads a key file as text, with errors that name it.
fn read_key_file(path: &Path, kind: KeyFile) -> io::Result<Zeroizing<String>> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| kind.read_error(path, e))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE_LEN.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| kind.read_error(path, e))?;
    let shown = path.display();
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_KEY_FILE_LEN {
        let message = format!(
            "{shown}: not {}: larger than {MAX_KEY_FILE_LEN} bytes",
            kind.what()
        );
        let err = io::Error::new(io::ErrorKind::InvalidData, "file too large");
        return Err(KeyFileError::io(path, message, err));
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(e) => {
            let message = format!("{shown}: not {}: not UTF-8 text", kind.what());
            Err(KeyFileError::io(
                path,
                message,
                io::Error::new(io::ErrorKind::InvalidData, e),
            ))
        }
    }
}

/// Why a key file could not be read or written: the inner error of the
/// `io::Error` that [`StaticKeyPair::load`], [`PublicKey::load`],
/// [`load_pinned_keys_file`] and the `save` functions return.
///
/// Its message names the file and says what to do, for example
/// `cannot read server.key: no such file (create one with `lwsec keygen`)`
/// or `server.key: not an lwsec secret key: this is a public key; ...`. The
/// `io::Error` keeps the kind of the underlying failure (`NotFound`,
/// `PermissionDenied`; `InvalidInput` for text that is not a key, as for an
/// [`Error::InvalidKey`] converted to `io::Error`), and
/// [`source`](std::error::Error::source) is the underlying `io::Error` or
/// lwsec [`Error`].
///
/// ```
/// use lwsec::{keys::KeyFileError, StaticKeyPair};
/// let err = StaticKeyPair::load("no-such-dir/server.key").unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// assert!(err.to_string().contains("no-such-dir/server.key"));
/// let detail = err.get_ref().and_then(|e| e.downcast_ref::<KeyFileError>()).unwrap();
/// assert_eq!(detail.path(), std::path::Path::new("no-such-dir/server.key"));
/// ```
#[derive(Debug)]
pub struct KeyFileError {
    path: PathBuf,
    message: String,
    source: Source,
}

#[derive(Debug)]
enum Source {
    Io(io::Error),
    Key(Error),
}

impl KeyFileError {
    fn io(path: &Path, message: String, err: io::Error) -> io::Error {
        io::Error::new(
            err.kind(),
            Self {
                path: path.to_owned(),
                message,
                source: Source::Io(err),
            },
        )
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lwsec error, when the file was read but does not hold a valid key.
    pub fn key_error(&self) -> Option<&Error> {
        match &self.source {
            Source::Key(e) => Some(e),
            Source::Io(_) => None,
        }
    }
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KeyFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.source {
            Source::Io(e) => Some(e),
            Source::Key(e) => Some(e),
        }
    }
}

/// Whether [`write_atomically`] may replace an existing file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Existing {
    Replace,
    Refuse,
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory (mode 0600 on Unix when `secret`), written and synced, then
/// renamed over `path` ([`Existing::Replace`]) or hard-linked to it, which
/// fails if `path` exists even when it appeared meanwhile
/// ([`Existing::Refuse`]); then the directory is synced. A crash leaves the
/// old file or the new one, never a partial one.
fn write_atomically(
    path: &Path,
    contents: &[u8],
    secret: bool,
    existing: Existing,
) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let shown = path.display();
    let fail = |e: io::Error| {
        let message = format!("cannot write {shown}: {e}");
        KeyFileError::io(path, message, e)
    };
    let Some(name) = path.file_name() else {
        return Err(fail(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not name a file",
        )));
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = dir.join(tmp_name);
    let write = || -> io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if secret {
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        }
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        if secret {
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        }
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        match existing {
            Existing::Replace => std::fs::rename(&tmp, path),
            Existing::Refuse => match std::fs::hard_link(&tmp, path) {
                // A file system without hard links: check, then rename.
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists && !path.exists() => {
                    std::fs::rename(&tmp, path)
                }
                other => other,
            },
        }
    };
    let result = write();
    // Gone after a rename; the second name of a hard link otherwise.
    let _ = std::fs::remove_file(&tmp);
    result.map_err(fail)?;
    // The rename is durable once the directory is synced (best effort: some
    // file systems cannot sync a directory).
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

impl StaticKeyPair {
    /// Reads a key pair saved by [`save`](Self::save) (or any file holding
    /// one `lwsec-secret-v1:` line).
    ///
    /// Errors name the file and say what to do (see [`KeyFileError`]).
    pub fn load(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let text = read_key_file(path, KeyFile::Secret)?;
        Self::from_text(&text).map_err(|e| KeyFile::Secret.parse_error(path, e))
    }

    /// Writes the key pair to `path`, replacing any file there, readable by
    /// the owner only (mode 0600) on Unix. A comment line records the public
    /// key.
    ///
    /// The write is atomic: the key goes to a temporary file in the same
    /// directory, which is synced and then renamed over `path`, so a crash
    /// never leaves a partial key file.
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let text = self.file_text();
        write_atomically(path.as_ref(), text.as_bytes(), true, Existing::Replace)
    }

    /// [`save`](Self::save) to a new file: fails with
    /// [`io::ErrorKind::AlreadyExists`] when `path` exists, even when it
    /// appears while the key is being written, so a key clients pinned is
    /// never replaced by accident.
    pub fn save_new(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let text = self.file_text();
        write_atomically(path.as_ref(), text.as_bytes(), true, Existing::Refuse)
    }

    fn file_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "# lwsec static key pair: keep this file secret\n# public: {}\n{}\n",
            self.public_key().to_text(),
            self.to_text().as_str()
        ))
    }
}

impl PublicKey {
    /// Reads a public key file (one `lwsec-public-v1:` line).
    ///
    /// Errors name the file and say what to do (see [`KeyFileError`]).
    pub fn load(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let text = read_key_file(path, KeyFile::Public)?;
        Self::from_text(&text).map_err(|e| KeyFile::Public.parse_error(path, e))
    }

    /// Writes the public key to `path`, replacing any file there,
    /// atomically (a temporary file renamed over it).
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let text = format!("{}\n", self.to_text());
        write_atomically(path.as_ref(), text.as_bytes(), false, Existing::Replace)
    }

    /// [`save`](Self::save) to a new file: fails with
    /// [`io::ErrorKind::AlreadyExists`] when `path` exists, even when it
    /// appears meanwhile.
    pub fn save_new(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let text = format!("{}\n", self.to_text());
        write_atomically(path.as_ref(), text.as_bytes(), false, Existing::Refuse)
    }
}

/// Replaces the pinned-keys file at `path` with `keys`, in order (the
/// counterpart of [`load_pinned_keys_file`]; what a client does with
/// [`Event::ServerKeysAnnounced`](crate::Event::ServerKeysAnnounced)),
/// atomically: a crash leaves the old pins or the new ones.
pub fn save_pinned_keys(path: impl AsRef<Path>, keys: &[PublicKey]) -> io::Result<()> {
    let mut text = String::from("# pinned lwsec server keys (announced by the server)\n");
    for key in keys {
        text.push_str(&key.to_text());
        text.push('\n');
    }
    write_atomically(path.as_ref(), text.as_bytes(), false, Existing::Replace)
}

/// The text format, `lwsec-public-v1:` and 64 hex digits.
impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Parses the text format (see [`PublicKey::from_text`]).
///
/// ```
/// let key: lwsec::PublicKey =
///     "lwsec-public-v1:2fe57da347cd62431528daac5fbb290730fff684afc4cfc2ed90995f58cb3b74".parse()?;
/// assert_eq!(key.to_string().len(), 16 + 64);
/// # Ok::<(), lwsec::Error>(())
/// ```
impl FromStr for PublicKey {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::from_text(text)
    }
}

/// Parses the text format (see [`StaticKeyPair::from_text`]). There is no
/// `Display`: the secret is never printed by accident; use
/// [`StaticKeyPair::to_text`].
impl FromStr for StaticKeyPair {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::from_text(text)
    }
}

/// Serialized as its text, `lwsec-public-v1:...` (feature `serde`).
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Deserialized from its text, `lwsec-public-v1:...` (feature `serde`).
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = PublicKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an lwsec public key (`lwsec-public-v1:` and 64 hex digits)")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<PublicKey, E> {
                PublicKey::from_text(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_round_trips_and_errors_are_specific() {
        let pair = StaticKeyPair::from_private_bytes([7; 32]);
        let text = format!("# my server key\n\n  {}  \n", pair.to_text().as_str());
        assert_eq!(
            StaticKeyPair::from_text(&text).unwrap().public_key(),
            pair.public_key()
        );
        let public = pair.public_key().to_text();
        assert_eq!(
            PublicKey::from_text(
                &public
                    .to_uppercase()
                    .replace("LWSEC-PUBLIC-V1:", PUBLIC_PREFIX)
            )
            .unwrap(),
            pair.public_key()
        );
        assert!(
            matches!(StaticKeyPair::from_text(&public), Err(Error::InvalidKey(m)) if m.contains("public key"))
        );
        assert!(
            matches!(PublicKey::from_text(&pair.to_text()), Err(Error::InvalidKey(m)) if m.contains("secret key"))
        );
        assert!(
            matches!(PublicKey::from_text(""), Err(Error::InvalidKey(m)) if m.contains("no key"))
        );
        assert!(
            matches!(PublicKey::from_text("lwsec-public-v1:abcd"), Err(Error::InvalidKey(m)) if m.contains("64 hex"))
        );
        let bad = format!("{PUBLIC_PREFIX}{}", "zz".repeat(32));
        assert!(
            matches!(PublicKey::from_text(&bad), Err(Error::InvalidKey(m)) if m.contains("hex digits"))
        );
        assert!(
            matches!(PublicKey::from_text("ssh-ed25519 AAAA"), Err(Error::InvalidKey(m)) if m.contains("prefix"))
        );
        assert!(
            matches!(PublicKey::from_text(&format!("{public}\n{public}")), Err(Error::InvalidKey(m)) if m.contains("more than one"))
        );
    }
    #[test]
    fn pinned_key_lists_and_files() {
        let a = StaticKeyPair::from_private_bytes([1; 32]);
        let b = StaticKeyPair::from_private_bytes([2; 32]);
        let text = format!(
            "# current\n{}\n\n# next\n  {}\n",
            a.public_key().to_text(),
            b.public_key().to_text()
        );
        assert_eq!(
            load_pinned_keys(&text).unwrap(),
            vec![a.public_key(), b.public_key()]
        );
        assert!(matches!(
            load_pinned_keys("# none\n"),
            Err(Error::InvalidKey(_))
        ));
        let bad = format!("{text}{}\n", a.to_text().as_str());
        assert!(
            matches!(load_pinned_keys(&bad), Err(Error::InvalidKey(m)) if m.contains("secret key"))
        );

        let dir = std::env::temp_dir().join(format!("lwsec-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (secret, public) = (dir.join("k.key"), dir.join("k.pub"));
        a.save(&secret).unwrap();
        a.public_key().save(&public).unwrap();
        assert_eq!(
            StaticKeyPair::load(&secret).unwrap().public_key(),
            a.public_key()
        );
        assert_eq!(PublicKey::load(&public).unwrap(), a.public_key());
        assert_eq!(
            load_pinned_keys_file(&public).unwrap(),
            vec![a.public_key()]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = PublicKey::load(&secret).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ticket_key_files_round_trip_with_mode_0600_and_errors_are_specific() {
        let keys = TicketKeys::new([1; 32]).rotated([2; 32]).rotated([3; 32]);
        let text = keys.to_text();
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with(&format!("{TICKET_KEYS_PREFIX}{}", "03".repeat(32))));
        assert_eq!(TicketKeys::from_text(&text).unwrap().ids(), keys.ids());
        let bad = |t: &str| match TicketKeys::from_text(t) {
            Err(Error::InvalidKey(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(bad("# nothing\n").contains("no key"));
        assert!(bad("lwsec-ticket-keys-v1:abcd").contains("64 hex"));
        assert!(bad(&format!("{TICKET_KEYS_PREFIX}{}", "zz".repeat(32))).contains("hex digits"));
        assert!(bad(&StaticKeyPair::from_private_bytes([1; 32]).to_text()).contains("static key"));
        let line = format!("{TICKET_KEYS_PREFIX}{}\n", "01".repeat(32));
        assert!(bad(&format!("{line}{line}")).contains("twice"));
        let five: String = (1..=5u8)
            .map(|i| format!("{TICKET_KEYS_PREFIX}{}\n", format!("{i:02x}").repeat(32)))
            .collect();
        assert!(bad(&five).contains("more than 4"));

        let dir = temp_dir("ticket-keys");
        let path = dir.join("fleet.ticketkeys");
        keys.save_new(&path).unwrap();
        assert_eq!(
            keys.save_new(&path).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(TicketKeys::load(&path).unwrap().ids(), keys.ids());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let missing = dir.join("none.ticketkeys");
        let err = TicketKeys::load(&missing).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("none.ticketkeys"));
        assert!(err.to_string().contains("lwsec ticketkeys"));
        let key = dir.join("server.key");
        StaticKeyPair::from_private_bytes([1; 32])
            .save(&key)
            .unwrap();
        let err = TicketKeys::load(&key).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}: not an lwsec ticket-key file", key.display())),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_saved_resumption_ticket_loads_back() {
        use crate::suite::Pattern;
        use crate::time::Time;
        let ticket = ResumptionTicket {
            ticket: bytes::Bytes::from_static(&[9; 80]),
            psk: Zeroizing::new([4; 32]),
            expires: Time::from_millis(1234),
            pattern: Pattern::Ik,
        };
        let dir = temp_dir("ticket-file");
        let path = dir.join("client.ticket");
        ticket.save(&path).unwrap();
        assert_eq!(ResumptionTicket::load(&path).unwrap(), ticket);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "lwsec-resumption-ticket-v1:abc\n").unwrap();
        assert!(ResumptionTicket::load(&path).is_err());
        std::fs::write(&path, "lwsec-resumption-ticket-v1:abcd\n").unwrap();
        let err = ResumptionTicket::load(&path).unwrap_err();
        assert!(
            err.to_string().contains("not an lwsec resumption ticket"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lwsec-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn detail(err: &io::Error) -> &KeyFileError {
        err.get_ref()
            .and_then(|e| e.downcast_ref::<KeyFileError>())
            .expect("a KeyFileError inside")
    }

    #[test]
    fn load_errors_name_the_file_and_say_what_to_do() {
        let dir = temp_dir("load-errors");
        let missing = dir.join("server.key");
        let err = StaticKeyPair::load(&missing).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read {}: no such file (create one with `lwsec keygen`)",
                missing.display()
            )
        );
        assert_eq!(detail(&err).path(), missing);
        assert!(detail(&err).key_error().is_none());
        let source = std::error::Error::source(detail(&err)).unwrap();
        assert!(source.downcast_ref::<io::Error>().is_some());

        let err = PublicKey::load(dir.join("server.pub")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("server.pub: no such file"));
        assert!(err.to_string().contains("lwsec pubkey"));
        let err = load_pinned_keys_file(dir.join("pins")).unwrap_err();
        assert!(err.to_string().contains("pins: no such file"), "{err}");

        // A public key where a secret one is needed, and the reverse.
        let pair = StaticKeyPair::from_private_bytes([3; 32]);
        let (secret, public) = (dir.join("k.key"), dir.join("k.pub"));
        pair.save(&secret).unwrap();
        pair.public_key().save(&public).unwrap();
        let err = StaticKeyPair::load(&public).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            format!(
                "{}: not an lwsec secret key: this is a public key; a secret key (`lwsec-secret-v1:`) is needed",
                public.display()
            )
        );
        assert!(matches!(
            detail(&err).key_error(),
            Some(Error::InvalidKey(_))
        ));
        let source = std::error::Error::source(detail(&err)).unwrap();
        assert!(source.downcast_ref::<Error>().is_some());
        let err = PublicKey::load(&secret).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "{}: not an lwsec public key: this is a secret key",
                secret.display()
            )),
            "{err}"
        );
        let err = load_pinned_keys_file(&secret).unwrap_err();
        assert!(
            err.to_string()
                .contains("not a list of pinned lwsec public keys"),
            "{err}"
        );

        // Not text, too large, a directory.
        let binary = dir.join("binary");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        let err = StaticKeyPair::load(&binary).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string()
                .ends_with("not an lwsec secret key: not UTF-8 text")
        );
        let large = dir.join("large");
        std::fs::write(&large, vec![b'#'; 100_000]).unwrap();
        let err = PublicKey::load(&large).unwrap_err();
        assert!(err.to_string().contains("larger than 65536 bytes"), "{err}");
        let err = PublicKey::load(&dir).unwrap_err();
        assert!(err.to_string().starts_with("cannot read "), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn save_is_atomic_and_replaces() {
        let dir = temp_dir("save");
        let path = dir.join("device.key");
        // An existing, world-readable file is replaced by a private one.
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let a = StaticKeyPair::from_private_bytes([4; 32]);
        a.save(&path).unwrap();
        assert_eq!(
            StaticKeyPair::load(&path).unwrap().public_key(),
            a.public_key()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let b = StaticKeyPair::from_private_bytes([5; 32]);
        b.save(&path).unwrap();
        b.public_key().save(dir.join("device.pub")).unwrap();
        assert_eq!(
            StaticKeyPair::load(&path).unwrap().public_key(),
            b.public_key()
        );
        // Only the two files: no temporary file left behind.
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["device.key", "device.pub"]);
        // A directory that does not exist: the error names the file.
        let err = a.save(dir.join("nope/x.key")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().starts_with("cannot write "), "{err}");
        assert!(err.to_string().contains("nope/x.key"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn save_new_refuses_an_existing_file_and_pins_round_trip() {
        let dir = temp_dir("save-new");
        let key = dir.join("server.key");
        let a = StaticKeyPair::from_private_bytes([6; 32]);
        a.save_new(&key).unwrap();
        let err = StaticKeyPair::from_private_bytes([7; 32])
            .save_new(&key)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            StaticKeyPair::load(&key).unwrap().public_key(),
            a.public_key()
        );
        let public = dir.join("server.pub");
        a.public_key().save_new(&public).unwrap();
        let err = a.public_key().save_new(&public).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let pins = dir.join("pins");
        let keys = [
            StaticKeyPair::from_private_bytes([8; 32]).public_key(),
            a.public_key(),
        ];
        save_pinned_keys(&pins, &keys).unwrap();
        assert_eq!(load_pinned_keys_file(&pins).unwrap(), keys);
        save_pinned_keys(&pins, &keys[1..]).unwrap();
        assert_eq!(load_pinned_keys_file(&pins).unwrap(), keys[1..]);
        // No temporary file left behind, by a refusal or a replacement.
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["pins", "server.key", "server.pub"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn display_and_from_str() {
        let pair = StaticKeyPair::from_private_bytes([6; 32]);
        let public = pair.public_key();
        assert_eq!(public.to_string(), public.to_text());
        assert_eq!(format!("{public}").parse::<PublicKey>().unwrap(), public);
        assert!("lwsec-public-v1:00".parse::<PublicKey>().is_err());
        let parsed: StaticKeyPair = pair.to_text().parse().unwrap();
        assert_eq!(parsed.public_key(), public);
        assert!(public.to_text().parse::<StaticKeyPair>().is_err());
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_uses_the_text_format() {
        let public = StaticKeyPair::from_private_bytes([7; 32]).public_key();
        let json = serde_json::to_string(&vec![public]).unwrap();
        assert_eq!(json, format!("[\"{}\"]", public.to_text()));
        let back: Vec<PublicKey> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vec![public]);
        let err = serde_json::from_str::<PublicKey>("\"lwsec-public-v1:12\"").unwrap_err();
        assert!(err.to_string().contains("64 hex digits"), "{err}");
        assert!(serde_json::from_str::<PublicKey>("42").is_err());
    }
}

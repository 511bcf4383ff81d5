//! Atomic file writes: a synced temporary file in the same directory, then
//! a rename (replace) or a hard link (create only), so a crash never leaves
//! a partial file and an existing file is never clobbered by accident.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Whether [`write_atomically`] may replace an existing file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    Replace,
    Refuse,
}

/// Writes `contents` to `path` atomically (mode 0600 on Unix when
/// `secret`). With [`Existing::Refuse`], fails with `AlreadyExists` if
/// `path` exists, even if it appears while writing.
pub(crate) fn write_atomically(
    path: &Path,
    contents: &[u8],
    secret: bool,
    existing: Existing,
) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = dir.join(tmp_name);
    let result = write_then_move(&tmp, path, contents, secret, existing);
    let _ = std::fs::remove_file(&tmp);
    result?;
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_then_move(
    tmp: &Path,
    path: &Path,
    contents: &[u8],
    secret: bool,
    existing: Existing,
) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options.open(tmp)?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    match existing {
        Existing::Replace => std::fs::rename(tmp, path),
        // A hard link fails if the name exists, atomically; the temporary
        // name is removed by the caller.
        Existing::Refuse => match std::fs::hard_link(tmp, path) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists && !path.exists() => {
                // A file system without hard links: check, then rename.
                std::fs::rename(tmp, path)
            }
            other => other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_or_replaces_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("lwsec-cli-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.key");
        write_atomically(&path, b"one", true, Existing::Refuse).unwrap();
        let err = write_atomically(&path, b"two", true, Existing::Refuse).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_atomically(&path, b"three", true, Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"three");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Bounded reads of the files users and other tools wrote (credential files, configs, token
//! files): a missing file is `None`, anything else that is not a regular file of sensible size
//! is an error naming the path, never quoting the contents.
//!
//! A FIFO would block `open` until a writer appears and `/dev/zero` never ends, so files are
//! opened without blocking and checked through the opened handle before a byte is read.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::kernel::error::Error;

/// Credential files are small; anything larger is not one (and is not read into memory).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a whole regular file of at most [`MAX_FILE_BYTES`]; a missing file is `Ok(None)`.
pub fn read_capped(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    read_at_most(path, MAX_FILE_BYTES)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_text(path: &Path) -> Result<Option<String>, Error> {
    match read_capped(path)? {
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::new(format!("{} is not UTF-8 text", path.display()))),
        None => Ok(None),
    }
}

/// Reads a whole regular file of at most `limit` bytes; a missing file is `Ok(None)`.
pub fn read_at_most(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, Error> {
    let cannot = |e: std::io::Error| Error::new(format!("cannot read {}: {e}", path.display()));
    let file = match open_nonblocking(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(Error::new(format!(
            "cannot read {}: not a regular file",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(path, limit));
    }
    Ok(Some(bytes))
}

/// "x is larger than 16 MiB": the one wording for an oversized file or archive member.
pub fn too_large(path: &Path, limit: u64) -> Error {
    let size = if limit >= 1 << 20 {
        format!("{} MiB", limit >> 20)
    } else {
        format!("{} KiB", limit >> 10)
    };
    Error::new(format!(
        "{} is larger than {size}, too large for a credentials file",
        path.display()
    ))
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_only_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok");
        std::fs::write(&ok, b"secret").unwrap();
        assert_eq!(read_capped(&ok).unwrap().unwrap(), b"secret");
        assert!(read_capped(&dir.path().join("missing")).unwrap().is_none());
        let err = read_at_most(&ok, 3).unwrap_err().to_string();
        assert!(
            err.contains("too large") && !err.contains("secret"),
            "{err}"
        );
        let err = read_capped(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        #[cfg(unix)]
        {
            let err = read_capped(Path::new("/dev/zero")).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
            let fifo = dir.path().join("fifo");
            let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            // Would block forever in a blocking open.
            let err = read_capped(&fifo).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
    }
}

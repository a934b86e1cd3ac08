//! Bounded reads of the files users and other tools wrote (credential files, configs, token
//! files): a missing file is `None`, anything else that is not a regular file of sensible size
//! is an error naming the path, never quoting the contents.
//!
//! A FIFO would block `open` until a writer appears and `/dev/zero` never ends, so files are
//! opened without blocking and checked through the opened handle before a byte is read. The
//! cache opens its own files through the same [`guard`], refusing links as well.

use std::fs::{File, OpenOptions};
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

/// A file that must be there: its bytes, or an error naming `what` (e.g. "web identity token")
/// and the path.
pub fn read_required(path: &Path, what: &str) -> Result<Vec<u8>, Error> {
    read_capped(path)
        .map_err(|e| e.context(what))?
        .ok_or_else(|| {
            Error::new(format!(
                "{what}: cannot read {}: it does not exist",
                path.display()
            ))
        })
}

/// [`read_required`] as UTF-8 text.
pub fn read_required_text(path: &Path, what: &str) -> Result<String, Error> {
    String::from_utf8(read_required(path, what)?)
        .map_err(|_| Error::new(format!("{what}: {} is not UTF-8 text", path.display())))
}

/// Reads a whole regular file of at most `limit` bytes; a missing file is `Ok(None)`.
pub fn read_at_most(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, Error> {
    let Some(file) = open_regular(path)? else {
        return Ok(None);
    };
    let cannot = |e: std::io::Error| Error::new(format!("cannot read {}: {e}", path.display()));
    match read_bounded(&file, limit).map_err(cannot)? {
        Some(bytes) => Ok(Some(bytes)),
        None => Err(too_large(path, limit)),
    }
}

/// A regular file opened for reading, links followed, never blocking on a FIFO; a missing file
/// is `Ok(None)`.
fn open_regular(path: &Path) -> Result<Option<File>, Error> {
    let cannot = |e: std::io::Error| Error::new(format!("cannot read {}: {e}", path.display()));
    let mut options = OpenOptions::new();
    options.read(true);
    guard(&mut options, Links::Follow);
    let file = match options.open(path) {
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
    Ok(Some(file))
}

/// The whole of an opened file, or `None` if it holds more than `limit` bytes (it may grow
/// after its metadata was read, so the limit is enforced while reading).
pub fn read_bounded(file: &File, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    // Sized up front: grown by doubling, a 200 KB CA bundle was copied and faulted in several
    // times over.
    let size = file.metadata().map_or(0, |m| m.len()).min(limit);
    let mut bytes = Vec::with_capacity(size as usize + 1);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// Whether an open may follow a symbolic link: yes for the files users point us at (a
/// Kubernetes secret is a link farm), never for the files the helper owns.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Links {
    Follow,
    Refuse,
}

/// The flags every open of a file on disk takes: never wait on a FIFO (`O_NONBLOCK`; the
/// handle's metadata then refuses it), and with [`Links::Refuse`] never go through a link
/// (`O_NOFOLLOW`). Elsewhere than Unix, the callers' metadata checks are what remains.
pub fn guard(options: &mut OpenOptions, links: Links) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let no_follow = if links == Links::Refuse {
            libc::O_NOFOLLOW
        } else {
            0
        };
        options.custom_flags(libc::O_NONBLOCK | no_follow);
    }
    #[cfg(not(unix))]
    let _ = (options, links);
}

/// Size, modification time (and on Unix the inode): what changes when a tool rewrites the
/// file, for cache identities. `None` when it cannot be inspected.
pub fn version(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        format!("{}:{}", meta.dev(), meta.ino())
    };
    #[cfg(not(unix))]
    let inode = String::new();
    Some(format!("{}:{}:{inode}", meta.len(), modified.as_nanos()))
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
        // Windows refuses to open a directory as a file ("Access denied") before any check.
        let err = read_capped(dir.path()).unwrap_err().to_string();
        assert!(
            cfg!(not(unix)) || err.contains("not a regular file"),
            "{err}"
        );
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

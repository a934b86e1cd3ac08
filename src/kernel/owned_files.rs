//! Files and directories the helper owns (the token cache, the login store), each refusing
//! what it did not make: a directory of someone else (or one others may write), links, FIFOs,
//! devices, other users' files, files larger than the owner's limit, and for files that hold
//! secrets, files others may read. Checks on a file use the opened handle's metadata, never a
//! second look at the path.
//!
//! Unix has owners, modes and `O_NOFOLLOW`; elsewhere only what `std` offers portably is
//! checked (a real directory, regular files, sizes): the per-user default locations
//! (`%LOCALAPPDATA%`, `%APPDATA%`) are private by their ACLs.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use crate::kernel::files::{self as kernel_files, Links};

/// What a directory of ours is, as far as trusting it goes.
pub enum Dir {
    /// Not there (yet): a read misses, a write creates it.
    Absent,
    /// A real directory of this user that nobody else may write.
    Ours,
    /// Anything else, and why.
    Refused(String),
}

/// What reading a file found.
pub enum Found {
    Missing,
    Bytes(Vec<u8>),
    /// Present but not something the helper wrote (a link, a FIFO, another user's, too large,
    /// readable by others where that is refused), and why.
    NotOurs(String),
}

/// Who besides this user may read a file: anyone (the cache's entries are keyed tokens, its
/// directory is private), or nobody (a file that holds the secrets themselves).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    Anyone,
    OnlyMe,
}

/// One `lstat`: a real directory, owned by this user, writable by no one else.
pub fn check_dir(dir: &Path) -> Dir {
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Dir::Absent,
        Err(e) => return Dir::Refused(format!("cannot inspect {}: {e}", dir.display())),
    };
    let shown = dir.display();
    if meta.file_type().is_symlink() {
        return Dir::Refused(format!("{shown} is a symbolic link"));
    }
    if !meta.is_dir() {
        return Dir::Refused(format!("{shown} is not a directory"));
    }
    match os::foreign(&meta, Readers::Anyone) {
        Some(why) => Dir::Refused(format!("{shown} {why}")),
        None => Dir::Ours,
    }
}

/// Creates the directory's parents as needed (they are not ours to judge), then the directory
/// itself, private (0700). Fails with `AlreadyExists` when another process was first.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    os::create_private_dir(dir)
}

/// Reads a regular file of this user of at most `limit` bytes, without following a link or
/// waiting on a FIFO.
pub fn read_owned(path: &Path, limit: u64, readers: Readers) -> Found {
    let file = match os::open_read(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Found::Missing,
        Err(e) => return Found::NotOurs(format!("cannot open it ({e})")),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return Found::NotOurs(format!("cannot inspect it ({e})")),
    };
    if let Some(why) = not_a_file_of_ours(&meta, limit, readers) {
        return Found::NotOurs(why);
    }
    match kernel_files::read_bounded(&file, limit) {
        Ok(Some(bytes)) => Found::Bytes(bytes),
        Ok(None) => Found::NotOurs("it grew past the size limit".into()),
        Err(e) => Found::NotOurs(format!("cannot read it ({e})")),
    }
}

/// A new private file (0600) at a name nobody else chose: never an existing file or a link.
pub fn create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    os::private_file(&mut options);
    options.open(path)
}

/// Replaces `path` with `bytes` at once: a private temporary file beside it under a random
/// name, written and synced, then renamed over it. Readers see the old file or the new one.
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", random_hex(8)?));
    let written = create_new(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    match written.and_then(|()| fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A file that is ours to open for locking, created if needed; a link, FIFO or foreign file
/// there is refused.
pub fn open_lock(path: &Path, limit: u64) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    os::private_file(&mut options);
    kernel_files::guard(&mut options, Links::Refuse);
    let file = options.open(path)?;
    match not_a_file_of_ours(&file.metadata()?, limit, Readers::Anyone) {
        Some(why) => Err(io::Error::other(why)),
        None => Ok(file),
    }
}

/// `n` random bytes as hex, for names nobody can guess.
pub fn random_hex(n: usize) -> io::Result<String> {
    use ring::rand::SecureRandom;
    let mut bytes = vec![0u8; n];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| io::Error::other("no random numbers from the system"))?;
    Ok(crate::kernel::digest::hex(&bytes))
}

fn not_a_file_of_ours(meta: &fs::Metadata, limit: u64, readers: Readers) -> Option<String> {
    if !meta.is_file() {
        return Some("it is not a regular file".into());
    }
    if meta.len() > limit {
        return Some(format!("it is larger than {limit} bytes"));
    }
    os::foreign(meta, readers)
}

#[cfg(unix)]
mod os {
    use std::fs::{self, DirBuilder, OpenOptions};
    use std::io;
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
    use std::path::Path;

    use super::Readers;

    /// The effective user, who owns what this process creates.
    fn euid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }

    /// Why the file or directory is not this user's alone, if it is not: another owner, others
    /// may write it, or (with [`Readers::OnlyMe`]) others may read it.
    pub fn foreign(meta: &fs::Metadata, readers: Readers) -> Option<String> {
        let (owner, me) = (meta.uid(), euid());
        if owner != me {
            return Some(format!(
                "belongs to uid {owner}, not to this user (uid {me})"
            ));
        }
        let mode = meta.mode() & 0o7777;
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (false, false) => None,
            (true, false) => Some("its group"),
            (false, true) => Some("all users"),
            (true, true) => Some("its group and all users"),
        };
        if let Some(who) = who {
            return Some(format!("is writable by {who} (mode {mode:04o})"));
        }
        if readers == Readers::OnlyMe && mode & 0o077 != 0 {
            return Some(format!(
                "is readable by other users (mode {mode:04o}; it must be 0600)"
            ));
        }
        None
    }

    pub fn create_private_dir(dir: &Path) -> io::Result<()> {
        DirBuilder::new().mode(0o700).create(dir)
    }

    pub fn open_read(path: &Path) -> io::Result<fs::File> {
        let mut options = OpenOptions::new();
        options.read(true);
        crate::kernel::files::guard(&mut options, crate::kernel::files::Links::Refuse);
        options.open(path)
    }

    pub fn private_file(options: &mut OpenOptions) {
        options.mode(0o600);
    }
}

#[cfg(not(unix))]
mod os {
    use std::fs::{self, OpenOptions};
    use std::io;
    use std::path::Path;

    use super::Readers;

    /// No owners or modes to compare without platform APIs: the per-user default locations
    /// are private by their ACLs.
    pub fn foreign(_meta: &fs::Metadata, _readers: Readers) -> Option<String> {
        None
    }

    pub fn create_private_dir(dir: &Path) -> io::Result<()> {
        fs::create_dir(dir)
    }

    /// Refuses a link found at the path; the handle's metadata is checked after opening.
    pub fn open_read(path: &Path) -> io::Result<fs::File> {
        if fs::symlink_metadata(path)?.file_type().is_symlink() {
            return Err(io::Error::other("a symbolic link"));
        }
        fs::File::open(path)
    }

    pub fn private_file(_options: &mut OpenOptions) {}
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    use super::*;

    #[cfg(unix)]
    #[test]
    fn secrets_files_must_be_unreadable_by_others_and_are_replaced_whole() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("credentials.json");
        replace(&file, b"one").unwrap();
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(read_owned(&file, 10, Readers::OnlyMe), Found::Bytes(b) if b == b"one"));
        replace(&file, b"two").unwrap();
        assert!(matches!(read_owned(&file, 10, Readers::OnlyMe), Found::Bytes(b) if b == b"two"));
        // Nothing left behind but the file itself.
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_owned(&file, 10, Readers::Anyone),
            Found::Bytes(_)
        ));
        let Found::NotOurs(why) = read_owned(&file, 10, Readers::OnlyMe) else {
            panic!("a file others may read is used for secrets")
        };
        assert!(why.contains("readable by other users (mode 0644"), "{why}");
        assert!(matches!(
            read_owned(&file, 2, Readers::Anyone),
            Found::NotOurs(_)
        ));
    }
}

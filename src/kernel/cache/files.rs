//! The cache's file-system steps, each refusing what the cache did not make: a directory of
//! someone else (or one others may write), links, FIFOs, devices, other users' files, files
//! larger than an entry can be. Checks on a file use the opened handle's metadata, never a
//! second look at the path.
//!
//! Unix has owners, modes and `O_NOFOLLOW`; elsewhere only what `std` offers portably is
//! checked (a real directory, regular files, sizes).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

use crate::kernel::files::{self as kernel_files, Links};

/// Entries, locks, the key and the tag are small; anything larger was not written by us.
pub const MAX_FILE: u64 = 64 * 1024;

/// What a cache directory is, as far as trusting it goes.
pub enum Dir {
    /// Not there (yet): a get misses, a put creates it.
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
    /// Present but not something the cache wrote (a link, a FIFO, another user's, too large).
    NotOurs(String),
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
    match os::foreign(&meta) {
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

/// Reads a small regular file of this user without following a link or waiting on a FIFO.
pub fn read_small(path: &Path) -> Found {
    let file = match os::open_read(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Found::Missing,
        Err(e) => return Found::NotOurs(format!("cannot open it ({e})")),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return Found::NotOurs(format!("cannot inspect it ({e})")),
    };
    if let Some(why) = not_a_small_file_of_ours(&meta) {
        return Found::NotOurs(why);
    }
    match kernel_files::read_bounded(&file, MAX_FILE) {
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

/// The per-key lock file, created if needed; a link, FIFO or foreign file there is refused.
pub fn open_lock(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    os::private_file(&mut options);
    kernel_files::guard(&mut options, Links::Refuse);
    let file = options.open(path)?;
    match not_a_small_file_of_ours(&file.metadata()?) {
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

fn not_a_small_file_of_ours(meta: &fs::Metadata) -> Option<String> {
    if !meta.is_file() {
        return Some("it is not a regular file".into());
    }
    if meta.len() > MAX_FILE {
        return Some(format!("it is larger than {MAX_FILE} bytes"));
    }
    os::foreign(meta)
}

#[cfg(unix)]
mod os {
    use std::fs::{self, DirBuilder, OpenOptions};
    use std::io;
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
    use std::path::Path;

    /// The effective user, who owns what this process creates.
    fn euid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }

    /// Why the file or directory is not this user's alone, if it is not.
    pub fn foreign(meta: &fs::Metadata) -> Option<String> {
        let (owner, me) = (meta.uid(), euid());
        if owner != me {
            return Some(format!(
                "belongs to uid {owner}, not to this user (uid {me})"
            ));
        }
        let mode = meta.mode() & 0o7777;
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (false, false) => return None,
            (true, false) => "its group",
            (false, true) => "all users",
            (true, true) => "its group and all users",
        };
        Some(format!("is writable by {who} (mode {mode:04o})"))
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

    /// No owners or modes to compare without platform APIs: the per-user default location
    /// (`%LOCALAPPDATA%`) is private by its ACL.
    pub fn foreign(_meta: &fs::Metadata) -> Option<String> {
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
    // Links, FIFOs and modes: Unix only.
    #[cfg(unix)]
    use super::*;

    #[cfg(unix)]
    #[test]
    fn refuses_links_fifos_large_and_shared() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        assert!(matches!(check_dir(&dir), Dir::Absent));
        create_dir(&dir).unwrap();
        assert!(matches!(check_dir(&dir), Dir::Ours));
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert_eq!(
            create_dir(&dir).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );

        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let Dir::Refused(why) = check_dir(&dir) else {
            panic!("a world-writable directory is used")
        };
        assert!(
            why.ends_with("is writable by its group and all users (mode 0777)"),
            "{why}"
        );
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(matches!(check_dir(&link), Dir::Refused(w) if w.ends_with("symbolic link")));

        let file = dir.join("f");
        fs::write(&file, b"ok").unwrap();
        assert!(matches!(read_small(&file), Found::Bytes(b) if b == b"ok"));
        assert!(matches!(read_small(&dir.join("none")), Found::Missing));
        std::os::unix::fs::symlink(&file, dir.join("l")).unwrap();
        assert!(matches!(read_small(&dir.join("l")), Found::NotOurs(_)));
        std::os::unix::fs::symlink("/dev/zero", dir.join("z")).unwrap();
        assert!(matches!(read_small(&dir.join("z")), Found::NotOurs(_)));
        let fifo = dir.join("p");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(matches!(read_small(&fifo), Found::NotOurs(w) if w.contains("not a regular")));
        assert!(open_lock(&fifo).is_err(), "a FIFO is no lock");
        fs::write(dir.join("big"), vec![b'x'; MAX_FILE as usize + 1]).unwrap();
        assert!(matches!(read_small(&dir.join("big")), Found::NotOurs(_)));

        assert!(create_new(&file).is_err(), "never an existing file");
        assert!(create_new(&dir.join("l")).is_err(), "never through a link");
        assert_eq!(random_hex(8).unwrap().len(), 16);
        assert_ne!(random_hex(8).unwrap(), random_hex(8).unwrap());
    }
}

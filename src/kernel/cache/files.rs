//! The cache's file-system steps, on the owned-file checks of `kernel::owned_files`: its
//! directory must be this user's and writable by nobody else, its files small regular files of
//! this user, never links or FIFOs.

use std::io;
use std::path::Path;

use crate::kernel::owned_files::{self, Readers};
pub use crate::kernel::owned_files::{Dir, Found, check_dir, create_dir, create_new, random_hex};

/// Entries, locks, the key and the tag are small; anything larger was not written by us.
pub const MAX_FILE: u64 = 64 * 1024;

/// Reads a small regular file of this user without following a link or waiting on a FIFO.
pub fn read_small(path: &Path) -> Found {
    owned_files::read_owned(path, MAX_FILE, Readers::Anyone)
}

/// The per-key lock file, created if needed; a link, FIFO or foreign file there is refused.
pub fn open_lock(path: &Path) -> io::Result<std::fs::File> {
    owned_files::open_lock(path, MAX_FILE)
}

#[cfg(test)]
mod tests {
    // Links, FIFOs and modes: Unix only.
    #[cfg(unix)]
    use super::*;
    #[cfg(unix)]
    use std::fs;

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

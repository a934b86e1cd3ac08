//! What the cache names its files, and how it marks a directory as its own.
//!
//! Entry names are an HMAC-SHA256 of the entry's key under a random secret kept in the
//! directory (`names.key`, 0600), so a listing says nothing about the credentials behind the
//! keys: no offline guessing of a password from a token entry's name. `CACHEDIR.TAG`
//! (<https://bford.info/cachedir/>) marks a directory the cache created; `cache-clear` works
//! only in a tagged directory, and removes only names of the shapes below.

use std::io::{self, Write};
use std::path::Path;

use super::files::{self, Found};
use crate::kernel::digest::{hex, hmac_sha256};

pub const TAG: &str = "CACHEDIR.TAG";
/// The first line every cache directory tag starts with.
pub const SIGNATURE: &str = "Signature: 8a477f597d28d172789f06886806bc55";
pub const KEY_FILE: &str = "names.key";
/// Hex digits of an entry name.
const NAME_LEN: usize = 40;
/// Random bytes in a temporary file's name.
const TEMP_RANDOM: usize = 8;

/// The directory's naming secret.
#[derive(Clone, Copy)]
pub struct Names([u8; 32]);

impl Names {
    /// The key of `dir`; `Ok(None)` when there is none yet.
    pub fn load(dir: &Path) -> Result<Option<Names>, String> {
        let path = dir.join(KEY_FILE);
        match files::read_small(&path) {
            Found::Missing => Ok(None),
            Found::Bytes(b) => parse_key(&b)
                .map(|k| Some(Names(k)))
                .ok_or_else(|| bad_key(&path, "not a key")),
            Found::NotOurs(why) => Err(bad_key(&path, &why)),
        }
    }

    /// Loads the key of `dir`, or makes one. The directory is tagged first if it is new or
    /// holds nothing but cache files (e.g. emptied by `cache-clear`). Racing processes agree
    /// on one key: it is written aside and linked into place, which fails if another won.
    pub fn load_or_create(dir: &Path, created: bool) -> Result<Names, String> {
        if let Some(names) = Names::load(dir)? {
            return Ok(names);
        }
        if created || only_cache_files(dir) {
            write_tag(dir).map_err(|e| format!("cannot write {}: {e}", dir.join(TAG).display()))?;
        }
        let path = dir.join(KEY_FILE);
        let cannot = |e: io::Error| format!("cannot create {}: {e}", path.display());
        let secret = files::random_hex(32).map_err(cannot)?;
        let tmp = dir.join(format!(
            ".{KEY_FILE}.{}.tmp",
            files::random_hex(TEMP_RANDOM).map_err(cannot)?
        ));
        let linked = files::create_new(&tmp)
            .and_then(|mut f| f.write_all(format!("{secret}\n").as_bytes()))
            .and_then(|()| match std::fs::hard_link(&tmp, &path) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => std::fs::rename(&tmp, &path),
                other => other,
            });
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(cannot(e)),
        }
        Names::load(dir)?.ok_or_else(|| format!("{} vanished", path.display()))
    }

    /// The file stem of an entry: 40 hex digits of HMAC-SHA256(secret, key material).
    pub fn entry(&self, material: &str) -> String {
        hex(&hmac_sha256(&self.0, material.as_bytes()))[..NAME_LEN].to_string()
    }
}

/// A temporary file's name for `stem`: random, so nobody can plant something there first.
pub fn temp_name(stem: &str) -> io::Result<String> {
    Ok(format!(".{stem}.{}.tmp", files::random_hex(TEMP_RANDOM)?))
}

fn bad_key(path: &Path, why: &str) -> String {
    format!(
        "{} is not a key this cache wrote: {why} (`credential-helper cache-clear` removes it)",
        path.display()
    )
}

fn parse_key(bytes: &[u8]) -> Option<[u8; 32]> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

fn write_tag(dir: &Path) -> io::Result<()> {
    let text = format!(
        "{SIGNATURE}\n# This file is a cache directory tag created by credential-helper.\n\
         # For information about cache directory tags, see https://bford.info/cachedir/\n"
    );
    match files::create_new(&dir.join(TAG)) {
        Ok(mut f) => f.write_all(text.as_bytes()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether `dir` carries a tag of ours (a regular file of this user, the signature first).
pub fn is_tagged(dir: &Path) -> bool {
    match files::read_small(&dir.join(TAG)) {
        Found::Bytes(b) => b.split(|&c| c == b'\n').next() == Some(SIGNATURE.as_bytes()),
        _ => false,
    }
}

/// `cache-clear`: removes the cache files of a trusted, tagged directory, the tag last (so an
/// interrupted clear can be run again). Returns how many files were removed.
pub fn clear(dir: &Path) -> Result<usize, String> {
    let refuse = |why: String| Err(format!("refusing to clear {}: {why}", dir.display()));
    match files::check_dir(dir) {
        files::Dir::Absent => return Ok(0),
        files::Dir::Refused(why) => return refuse(why),
        files::Dir::Ours => {}
    }
    if !is_tagged(dir) {
        return refuse(format!(
            "it has no {TAG} of credential-helper, so it is not a directory the cache created"
        ));
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut removed = 0;
    let mut remove = |name: &str| {
        let path = dir.join(name);
        std::fs::remove_file(&path)
            .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        removed += 1;
        Ok::<(), String>(())
    };
    for entry in entries.flatten() {
        match entry.file_name().to_str() {
            Some(TAG) => {}
            Some(name) if is_cache_file(name) => remove(name)?,
            _ => {}
        }
    }
    remove(TAG)?;
    Ok(removed)
}

fn only_cache_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .map(|e| e.map(|e| e.file_name()))
            .all(|name| name.is_ok_and(|n| n.to_str().is_some_and(is_cache_file)))
    })
}

/// Names the cache writes: `<40 hex>.json` and `.lock`, their temporary files
/// `.<40 hex>.<hex>.tmp` (a decimal process id in older versions), the key, its temporary
/// file, and the tag.
pub fn is_cache_file(name: &str) -> bool {
    let is_name =
        |s: &str| s.len() == NAME_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if let Some(stem) = name
        .strip_suffix(".json")
        .or_else(|| name.strip_suffix(".lock"))
    {
        return is_name(stem);
    }
    if let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) {
        return inner.rsplit_once('.').is_some_and(|(stem, random)| {
            (is_name(stem) || stem == KEY_FILE)
                && (1..=2 * TEMP_RANDOM).contains(&random.len())
                && random.bytes().all(|b| b.is_ascii_hexdigit())
        });
    }
    name == KEY_FILE || name == TAG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_shapes_are_cache_files() {
        let name = "0123456789abcdef0123456789abcdef01234567";
        for ours in [
            format!("{name}.json"),
            format!("{name}.lock"),
            format!(".{name}.0011223344556677.tmp"),
            format!(".{name}.4242.tmp"),
            format!(".{KEY_FILE}.0011223344556677.tmp"),
            KEY_FILE.to_string(),
            TAG.to_string(),
        ] {
            assert!(is_cache_file(&ours), "{ours}");
        }
        for theirs in [
            "package.json",
            "x.json",
            "MODULE.bazel.lock",
            ".bashrc",
            "0123456789ABCDEF0123456789ABCDEF01234567.json",
            "0123456789abcdef0123456789abcdef0123456.json",
            &format!("{name}.json.bak"),
            &format!(".{name}.tmp"),
            &format!(".{name}.xyz.tmp"),
            ".package.json.00.tmp",
        ] {
            assert!(!is_cache_file(theirs), "{theirs}");
        }
    }

    #[test]
    fn one_key_per_directory_and_names_depend_on_it() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        assert!(Names::load(a.path()).unwrap().is_none());
        let first = Names::load_or_create(a.path(), true).unwrap();
        let again = Names::load_or_create(a.path(), false).unwrap();
        assert_eq!(first.entry("k"), again.entry("k"));
        assert_eq!(first.entry("k").len(), NAME_LEN);
        assert!(is_tagged(a.path()));
        let other = Names::load_or_create(b.path(), false).unwrap();
        assert_ne!(
            first.entry("k"),
            other.entry("k"),
            "another secret, other names"
        );
        assert!(is_tagged(b.path()), "an empty directory is tagged too");

        let c = tempfile::tempdir().unwrap();
        std::fs::write(c.path().join("package.json"), b"{}").unwrap();
        Names::load_or_create(c.path(), false).unwrap();
        assert!(
            !is_tagged(c.path()),
            "a directory of other files is never tagged"
        );
        std::fs::write(c.path().join(KEY_FILE), b"short\n").unwrap();
        let e = Names::load(c.path()).err().unwrap();
        assert!(e.contains("not a key this cache wrote"), "{e}");
    }

    #[test]
    fn clear_removes_only_the_cache_files_then_the_tag() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        Names::load_or_create(dir, true).unwrap();
        let name = "0123456789abcdef0123456789abcdef01234567";
        for file in [
            format!("{name}.json"),
            format!("{name}.lock"),
            "x.json".into(),
        ] {
            std::fs::write(dir.join(file), b"{}").unwrap();
        }
        assert_eq!(clear(dir).unwrap(), 4, "entry, lock, key, tag");
        let left: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, ["x.json"]);
        let e = clear(dir).unwrap_err();
        assert!(e.contains("has no CACHEDIR.TAG"), "{e}");
        assert_eq!(clear(&dir.join("none")).unwrap(), 0);
    }
}

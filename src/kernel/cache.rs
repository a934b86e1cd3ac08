//! A daemonless on-disk cache of short-lived answers (exchanged bearer tokens, remembered
//! registry challenges), shared by every helper process of a build.
//!
//! - Location: `$CREDENTIAL_HELPER_CACHE_DIR`, else `$XDG_CACHE_HOME/credential-helper`.
//!   Directory 0700, files 0600, written atomically (temp file + rename).
//! - Never holds long-lived secrets read from the user's files: only what an exchange produced.
//! - Keys are hashes of (kind, registry, repository, scope, credential fingerprint), so a
//!   rotated credential never reuses an old token.
//! - Single flight: processes missing on the same key take a per-key lock (`File::lock`); one
//!   does the exchange, the rest read its result. The OS drops a dead holder's lock, and
//!   waiting is bounded.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::kernel::digest::sha256_hex;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};

/// Bumped when the file format changes; other versions are ignored and rewritten.
const VERSION: u32 = 1;
/// Longest wait for another process's exchange before doing our own.
const LOCK_WAIT: Duration = Duration::from_secs(4);

pub struct Cache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Stored<T> {
    version: u32,
    /// Unix seconds; the entry is served only before this.
    expires: i64,
    value: T,
}

/// Held while one process fills an entry; dropping it releases the lock.
pub struct FillGuard {
    _file: Option<File>,
}

impl Cache {
    /// The cache, unless disabled by `CREDENTIAL_HELPER_CACHE=off` or without any directory.
    pub fn from_env(env: &Env) -> Option<Cache> {
        if env
            .var(vars::CACHE)
            .is_some_and(|v| matches!(v, "off" | "0" | "false"))
        {
            return None;
        }
        Cache::dir(env).map(|dir| Cache { dir })
    }

    pub fn dir(env: &Env) -> Option<PathBuf> {
        match env.var(vars::CACHE_DIR) {
            Some(d) => Some(env.expand_path(d)),
            None => env.cache_home().map(|d| d.join("credential-helper")),
        }
    }

    /// A stable file name for a key made of parts.
    pub fn key(parts: &[&str]) -> String {
        sha256_hex(parts.join("\0").as_bytes())[..40].to_string()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The entry, if present, readable, of this version and still valid at `now`. Anything
    /// else is treated as a miss; an expired or unreadable entry is removed.
    pub fn get<T: DeserializeOwned>(&self, key: &str, now: i64) -> Option<(T, i64)> {
        let path = self.path(key);
        let bytes = fs::read(&path).ok()?;
        match serde_json::from_slice::<Stored<T>>(&bytes) {
            Ok(s) if s.version == VERSION && now < s.expires => Some((s.value, s.expires)),
            _ => {
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores an entry atomically. Failures are ignored by callers: a cache is an optimisation.
    pub fn put<T: Serialize>(&self, key: &str, value: &T, expires: i64) -> Result<()> {
        self.ensure_dir()?;
        let stored = Stored {
            version: VERSION,
            expires,
            value,
        };
        let bytes = serde_json::to_vec(&stored).map_err(|e| Error::new(e.to_string()))?;
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            // No fsync: the rename keeps readers from seeing half an entry, and an entry lost
            // in a crash is only a miss. A forced flush here cost up to 18 ms per write.
            f.write_all(&bytes)?;
            fs::rename(&tmp, self.path(key))
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::new(format!("cannot write cache entry: {e}"))
        })
    }

    pub fn remove(&self, key: &str) {
        let _ = fs::remove_file(self.path(key));
    }

    /// Takes the per-key lock, waiting at most [`LOCK_WAIT`]. On timeout (or any error) the
    /// guard holds nothing and the caller simply proceeds alone.
    pub fn lock(&self, key: &str) -> FillGuard {
        if self.ensure_dir().is_err() {
            return FillGuard { _file: None };
        }
        let Ok(file) = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(self.dir.join(format!("{key}.lock")))
        else {
            return FillGuard { _file: None };
        };
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return FillGuard { _file: Some(file) },
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(3));
                }
                Err(_) => return FillGuard { _file: None },
            }
        }
    }

    fn ensure_dir(&self) -> Result<()> {
        if !self.dir.is_dir() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)
                .map_err(|e| {
                    Error::new(format!(
                        "cannot create cache dir {}: {e}",
                        self.dir.display()
                    ))
                })?;
            // `recursive` applies the mode only to directories it creates; be sure of ours.
            let _ = fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700));
        }
        Ok(())
    }

    /// Removes every entry and lock; returns how many files were removed.
    pub fn clear(dir: &Path) -> Result<usize> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(Error::new(format!("cannot read {}: {e}", dir.display()))),
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".json") || name.ends_with(".lock") || name.ends_with(".tmp") {
                fs::remove_file(entry.path()).map_err(|e| {
                    Error::new(format!("cannot remove {}: {e}", entry.path().display()))
                })?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_expiry_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache {
            dir: dir.path().join("c"),
        };
        let key = Cache::key(&["a", "b"]);
        cache.put(&key, &"value".to_string(), 100).unwrap();
        assert_eq!(cache.get::<String>(&key, 99), Some(("value".into(), 100)));
        assert_eq!(
            cache.get::<String>(&key, 100),
            None,
            "expired entries are misses"
        );
        assert!(!cache.path(&key).exists(), "and are removed");
        cache.put(&key, &"value".to_string(), 100).unwrap();
        fs::write(cache.path(&key), b"{\"version\":1,\"exp").unwrap();
        assert_eq!(cache.get::<String>(&key, 1), None);
        fs::write(
            cache.path(&key),
            br#"{"version":99,"expires":100,"value":"x"}"#,
        )
        .unwrap();
        assert_eq!(cache.get::<String>(&key, 1), None);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        cache.put(&key, &"v".to_string(), 100).unwrap();
        assert_eq!(mode(&cache.dir), 0o700);
        assert_eq!(mode(&cache.path(&key)), 0o600);
        let _g = cache.lock(&key);
        assert_eq!(Cache::clear(&cache.dir).unwrap(), 2);
    }
}

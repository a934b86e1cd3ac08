//! A daemonless on-disk cache of short-lived answers (exchanged tokens, temporary credentials,
//! remembered registry challenges, "this metadata service is not here"), shared by every
//! helper process of a build.
//!
//! - Location: `$CREDENTIAL_HELPER_CACHE_DIR`, else `$XDG_CACHE_HOME/credential-helper`.
//! - It trusts only what it owns: the directory must be a real directory of this user that
//!   nobody else may write (one it creates is 0700, tagged with `CACHEDIR.TAG`); anything else
//!   and the cache steps aside, as if off. Files are opened without following links or
//!   waiting on FIFOs and must be small regular files of this user; new ones are created
//!   exclusively under random names, then renamed into place (`cache/files.rs`).
//! - Entry names are keyed with a secret of the directory (`cache/names.rs`): a listing reveals
//!   nothing about the credentials behind them.
//! - A value read back is checked as strictly as a fresh one ([`Entry::is_valid`]), and an
//!   expiry further away than any fresh answer gets ([`Entry::MAX_LIFETIME`]) is refused.
//! - Single flight ([`CacheRef::fill_once`]): a miss takes a per-key lock (`File::lock`), looks
//!   again, and only then fetches; the others read its result. The OS drops a dead holder's
//!   lock, and waiting is bounded.

mod entry;
mod files;
mod names;

use std::cell::Cell;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::kernel::deadline::Deadline;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::trace::Trace;
use crate::note;
pub use entry::{ABSENCE_TTL, Entry, is_token, secret};
use entry::{Absence, Stored, VERSION, decode};
use files::{Dir, Found};
use names::Names;

/// Longest wait for another process's fetch before doing our own.
const LOCK_WAIT: Duration = Duration::from_secs(4);

/// The configured cache directory; checked on first use.
pub struct Cache {
    dir: PathBuf,
    state: Cell<State>,
}

#[derive(Clone, Copy)]
enum State {
    Unchecked,
    Ready(Names),
    /// Not ours: the cache is off for this process.
    Refused,
}

/// What an entry is stored under: the parts that make an answer different (kind, host,
/// scope, a fingerprint of the credential). Never a secret itself.
pub struct Key(String);

impl Key {
    pub fn new(parts: &[&str]) -> Key {
        Key(parts.join("\0"))
    }
}

/// The cache as one call uses it: absent when off, and the trace for its notes.
#[derive(Clone, Copy)]
pub struct CacheRef<'a> {
    cache: Option<&'a Cache>,
    trace: &'a Trace,
    deadline: Deadline,
}

impl<'a> CacheRef<'a> {
    pub fn new(cache: Option<&'a Cache>, trace: &'a Trace, deadline: Deadline) -> CacheRef<'a> {
        CacheRef {
            cache,
            trace,
            deadline,
        }
    }

    /// Off unless `on` (an oci entry's `"cache": false`).
    pub fn only_if(self, on: bool) -> CacheRef<'a> {
        CacheRef {
            cache: self.cache.filter(|_| on),
            ..self
        }
    }

    pub fn is_off(&self) -> bool {
        self.cache.is_none()
    }

    /// The entry and its expiry, if present, of this version, valid, accepted and unexpired.
    /// Anything else is a miss, and is removed.
    pub fn get_if<T: Entry>(
        &self,
        key: &Key,
        now: i64,
        accept: impl Fn(&T) -> bool,
    ) -> Option<(T, i64)> {
        self.cache?.read(self.trace, key, now, &accept)
    }

    pub fn get<T: Entry>(&self, key: &Key, now: i64) -> Option<(T, i64)> {
        self.get_if(key, now, |_| true)
    }

    /// Stores an entry until `expires`. Failures are only noted: a cache is an optimisation.
    pub fn put<T: Entry>(&self, key: &Key, value: &T, now: i64, expires: i64) {
        if let Some(cache) = self.cache {
            cache.write(self.trace, key, value, now, expires);
        }
    }

    pub fn remove(&self, key: &Key) {
        if let Some((cache, names)) = self
            .cache
            .and_then(|c| Some((c, c.names(self.trace, false)?)))
        {
            let _ = fs::remove_file(cache.entry_path(&names, key));
        }
    }

    /// The one cache protocol: a hit, else take the key's lock, look again (another process
    /// may have just fetched), fetch, and store what `fetch` says to keep (`(value, Some(until))`).
    /// Answers the value and its expiry (the entry's on a hit). `what` names it in notes.
    pub fn fill_once<T: Entry, E>(
        &self,
        key: &Key,
        now: i64,
        what: &str,
        fetch: impl FnOnce() -> Result<(T, Option<i64>), E>,
    ) -> Result<(T, Option<i64>), E> {
        self.fill_once_if(key, now, what, |_| true, fetch)
    }

    /// [`fill_once`](Self::fill_once) for entries that must also pass `accept`.
    pub fn fill_once_if<T: Entry, E>(
        &self,
        key: &Key,
        now: i64,
        what: &str,
        accept: impl Fn(&T) -> bool,
        fetch: impl FnOnce() -> Result<(T, Option<i64>), E>,
    ) -> Result<(T, Option<i64>), E> {
        let Some(cache) = self.cache else {
            return fetch();
        };
        if let Some((value, expires)) = cache.read(self.trace, key, now, &accept) {
            note!(self.trace, "cache: hit for {what}");
            return Ok((value, Some(expires)));
        }
        if cache.is_refused() {
            return fetch();
        }
        note!(self.trace, "cache: miss for {what}");
        // Wait at most half the time left, so the fetch after a timeout still has the rest.
        let wait = LOCK_WAIT.min(self.deadline.remaining() / 2);
        let _lock = cache.lock(self.trace, key, wait);
        if let Some((value, expires)) = cache.read(self.trace, key, now, &accept) {
            note!(
                self.trace,
                "cache: hit after waiting for another process: {what}"
            );
            return Ok((value, Some(expires)));
        }
        let (value, keep) = fetch()?;
        if let Some(until) = keep {
            cache.write(self.trace, key, &value, now, until);
        }
        Ok((value, keep))
    }

    /// Why `what` (a metadata service, a CLI) was found missing lately, if it was.
    pub fn absent(&self, what: &[&str], now: i64) -> Option<String> {
        self.get::<Absence>(&absence_key(what), now)
            .map(|(a, _)| a.why)
    }

    /// Remembers for [`ABSENCE_TTL`] that `what` is not here, and why.
    pub fn remember_absent(&self, what: &[&str], now: i64, why: &str) {
        let why: String = why.chars().filter(|c| !c.is_control()).take(1024).collect();
        self.put(&absence_key(what), &Absence { why }, now, now + ABSENCE_TTL);
    }
}

fn absence_key(what: &[&str]) -> Key {
    let mut parts = vec!["absent"];
    parts.extend_from_slice(what);
    Key::new(&parts)
}

impl Cache {
    /// The cache, unless disabled by `CREDENTIAL_HELPER_CACHE=off` or without any directory.
    /// Nothing is touched until first use.
    pub fn from_env(env: &Env) -> Option<Cache> {
        if is_off(env) {
            return None;
        }
        Cache::dir(env).map(|dir| Cache {
            dir,
            state: Cell::new(State::Unchecked),
        })
    }

    pub fn dir(env: &Env) -> Option<PathBuf> {
        match env.var(vars::CACHE_DIR) {
            Some(d) => Some(env.expand_path(d)),
            None => env.cache_home().map(|d| d.join("credential-helper")),
        }
    }

    fn is_refused(&self) -> bool {
        matches!(self.state.get(), State::Refused)
    }

    /// The directory's names once it is trusted: one `lstat` and one read of the key. With
    /// `create`, a missing directory or key is made. `None` is a miss (nothing there yet) or,
    /// for a directory that is not ours, the cache stepping aside for good.
    fn names(&self, trace: &Trace, create: bool) -> Option<Names> {
        match self.state.get() {
            State::Ready(names) => return Some(names),
            State::Refused => return None,
            State::Unchecked => {}
        }
        let mut created = false;
        match files::check_dir(&self.dir) {
            Dir::Ours => {}
            Dir::Absent if !create => return None,
            Dir::Absent => {
                match files::create_dir(&self.dir) {
                    Ok(()) => created = true,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => {
                        return self
                            .refuse(trace, format!("cannot create {}: {e}", self.dir.display()));
                    }
                }
                // Whoever made it, it must be ours now.
                match files::check_dir(&self.dir) {
                    Dir::Ours => {}
                    Dir::Absent => return None,
                    Dir::Refused(why) => return self.refuse(trace, why),
                }
            }
            Dir::Refused(why) => return self.refuse(trace, why),
        }
        let loaded = match create {
            true => Names::load_or_create(&self.dir, created).map(Some),
            false => Names::load(&self.dir),
        };
        match loaded {
            Ok(Some(names)) => {
                self.state.set(State::Ready(names));
                Some(names)
            }
            Ok(None) => None,
            Err(why) => self.refuse(trace, why),
        }
    }

    fn refuse(&self, trace: &Trace, why: String) -> Option<Names> {
        note!(trace, "cache: not used (as if off): {why}");
        self.state.set(State::Refused);
        None
    }

    fn entry_path(&self, names: &Names, key: &Key) -> PathBuf {
        self.dir.join(format!("{}.json", names.entry(&key.0)))
    }

    fn read<T: Entry>(
        &self,
        trace: &Trace,
        key: &Key,
        now: i64,
        accept: &dyn Fn(&T) -> bool,
    ) -> Option<(T, i64)> {
        let path = self.entry_path(&self.names(trace, false)?, key);
        let why = match files::read_small(&path) {
            Found::Missing => return None,
            Found::Bytes(bytes) => match decode(&bytes, now, accept) {
                Ok(hit) => return Some(hit),
                Err(why) => why,
            },
            Found::NotOurs(why) => why,
        };
        note!(trace, "cache: dropping an entry: {why}");
        let _ = fs::remove_file(&path);
        None
    }

    fn write<T: Entry>(&self, trace: &Trace, key: &Key, value: &T, now: i64, expires: i64) {
        let Some(value) = value.to_json().filter(|_| expires > now) else {
            return;
        };
        let Some(names) = self.names(trace, true) else {
            return;
        };
        let stored = Stored {
            version: VERSION,
            expires: expires.min(now + T::MAX_LIFETIME),
            value,
        };
        let stem = names.entry(&key.0);
        let write = || -> io::Result<()> {
            let bytes = serde_json::to_vec(&stored)?;
            if bytes.len() as u64 > files::MAX_FILE {
                return Err(io::Error::other("the entry is too large"));
            }
            let tmp = self.dir.join(names::temp_name(&stem)?);
            // No fsync: the rename keeps readers from seeing half an entry, and an entry lost
            // in a crash is only a miss. A forced flush here cost up to 18 ms per write.
            let written = files::create_new(&tmp)
                .and_then(|mut f| f.write_all(&bytes))
                .and_then(|()| fs::rename(&tmp, self.dir.join(format!("{stem}.json"))));
            if written.is_err() {
                let _ = fs::remove_file(&tmp);
            }
            written
        };
        if let Err(e) = write() {
            note!(trace, "cache: cannot write an entry: {e}");
        }
    }

    /// Takes the key's lock, waiting at most `wait`. `None` (a timeout, anything in the lock's
    /// place that is not our lock file) means going alone.
    fn lock(&self, trace: &Trace, key: &Key, wait: Duration) -> Option<File> {
        let names = self.names(trace, true)?;
        let path = self.dir.join(format!("{}.lock", names.entry(&key.0)));
        let file = match files::open_lock(&path) {
            Ok(f) => f,
            Err(e) => {
                note!(trace, "cache: no lock, going alone: {e}");
                // In our own directory, whatever sits at the lock's name is not a lock.
                let _ = fs::remove_file(&path);
                return None;
            }
        };
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Some(file),
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(3));
                }
                Err(_) => return None,
            }
        }
    }

    /// Removes the cache's files from `dir`, if the cache marked it as its own (tagged, and
    /// trusted as a get would trust it). Returns how many files were removed.
    pub fn clear(dir: &Path) -> Result<usize> {
        names::clear(dir).map_err(Error::new)
    }

    /// One line for `explain` and `check-config`: where the cache is, or why it is not used.
    pub fn describe(env: &Env) -> String {
        if is_off(env) {
            return format!("cache: off ({} is set)", vars::CACHE);
        }
        let Some(dir) = Cache::dir(env) else {
            return "cache: off (no cache directory: HOME is not set)".into();
        };
        let not_used = |why: String| format!("cache: not used (as if off): {why}");
        match files::check_dir(&dir) {
            Dir::Absent => format!("cache: {} (created on first use)", dir.display()),
            Dir::Refused(why) => not_used(why),
            Dir::Ours => match Names::load(&dir) {
                Err(why) => not_used(why),
                Ok(_) => format!("cache: {}", dir.display()),
            },
        }
    }
}

fn is_off(env: &Env) -> bool {
    env.var(vars::CACHE)
        .is_some_and(|v| matches!(v, "off" | "0" | "false"))
}

#[cfg(test)]
mod tests;

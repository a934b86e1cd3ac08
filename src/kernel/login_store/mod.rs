//! The login store: what `credential-helper login` saved for a host, and where.
//!
//! One file, `credentials.json` in the login store's directory
//! ([`crate::kernel::platform::login_store_dir`]), lists every saved host with its username.
//! The secret is either in the OS keychain (`kernel::keychain`, service [`KEYCHAIN_SERVICE`],
//! account the host) or, with the file store, in the file itself. The file is the index, so
//! a `get` reads the keychain only for a host that was saved there: every other request costs
//! one missing-file check, with no D-Bus connection and no thread.
//!
//! `CREDENTIAL_HELPER_STORE` ([`vars::STORE`]) picks where new secrets go; `file` also keeps
//! every read away from the keychain (CI machines, containers). The file is trusted as the
//! cache trusts its own (`kernel::owned_files`): a directory of this user that nobody else may
//! write, a regular file of this user that nobody else may read; anything else is an error.

mod document;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use document::{Document, Held, HostEntry};

use crate::kernel::deadline::Deadline;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};
use crate::kernel::keychain;
use crate::kernel::owned_files::{self, Dir, Found, Readers};
use crate::kernel::secret::Secret;

/// The keychain service of the secrets `login` saves; the account is the host.
pub const KEYCHAIN_SERVICE: &str = "credential-helper";
pub const FILE_NAME: &str = "credentials.json";
/// Far more than any list of hosts needs.
const MAX_BYTES: u64 = 1 << 20;
/// Longest wait for another `login` or `logout` writing the file.
const LOCK_WAIT: Duration = Duration::from_secs(4);

/// Where a secret is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Keychain,
    File,
}

impl Backend {
    /// `keychain` or `file` (the `--store` and `CREDENTIAL_HELPER_STORE` values).
    pub fn parse(value: &str) -> Option<Backend> {
        match value {
            "keychain" => Some(Backend::Keychain),
            "file" => Some(Backend::File),
            _ => None,
        }
    }
}

/// A saved credential, read for a request.
#[derive(Debug, Clone)]
pub struct Saved {
    pub username: Option<String>,
    pub secret: Secret,
    /// "credential-helper login (the Secret Service keyring)", for messages.
    pub source: String,
}

pub struct LoginStore {
    dir: PathBuf,
    backend: Backend,
}

impl LoginStore {
    /// The store of this environment, for `login` and `logout`: an error for a
    /// `CREDENTIAL_HELPER_STORE` of no known value, or without any directory for it (no home).
    pub fn from_env(env: &Env) -> Result<LoginStore> {
        LoginStore::open(env)?.ok_or_else(|| {
            Error::new("no directory for the login store")
                .hint("set HOME (or XDG_CONFIG_HOME; APPDATA on Windows)")
        })
    }

    /// The store for reading: `None` without a directory for it (no home: nothing was saved).
    pub fn open(env: &Env) -> Result<Option<LoginStore>> {
        let backend = match env.var(vars::STORE) {
            None if keychain::built_in() => Backend::Keychain,
            None => Backend::File,
            Some(v) => Backend::parse(v).ok_or_else(|| {
                Error::new(format!("{} is {v:?}", vars::STORE))
                    .hint("set it to keychain or file, or unset it")
            })?,
        };
        Ok(env.login_store_dir().map(|dir| LoginStore { dir, backend }))
    }

    /// Where new secrets go unless told otherwise.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Where `backend` keeps a secret, for messages ("the file ~/.config/...").
    pub fn describe(&self, backend: Backend) -> String {
        match backend {
            Backend::Keychain => keychain::name().to_string(),
            Backend::File => format!("the file {}", self.path().display()),
        }
    }

    /// The file as it is; a missing file or directory is an empty store.
    pub fn read(&self) -> Result<Document> {
        let path = self.path();
        let refused = |why: String| {
            Error::new(format!("login store {}: {why}", path.display())).hint(format!(
                "remove it (and log in again), or fix its owner and mode (chmod 600 {})",
                path.display()
            ))
        };
        match owned_files::check_dir(&self.dir) {
            Dir::Absent => return Ok(Document::default()),
            Dir::Ours => {}
            Dir::Refused(why) => return Err(refused(why)),
        }
        let bytes = match owned_files::read_owned(&path, MAX_BYTES, Readers::OnlyMe) {
            Found::Missing => return Ok(Document::default()),
            Found::Bytes(bytes) => bytes,
            Found::NotOurs(why) => return Err(refused(why)),
        };
        let text = String::from_utf8(bytes).map_err(|_| refused("is not UTF-8 text".into()))?;
        Document::parse(&text).map_err(refused)
    }

    /// What a request for `host` may use, from the file alone: with the file store in force,
    /// secrets in the keychain are not there.
    pub fn entry(&self, host: &str) -> Result<Option<HostEntry>> {
        let entry = self.read()?.hosts.remove(host);
        Ok(entry.filter(|e| e.held != Held::Keychain || self.backend == Backend::Keychain))
    }

    /// The credential saved for `host`, reading the keychain only if it holds the secret.
    pub fn lookup(&self, deadline: Deadline, host: &str) -> Result<Option<Saved>> {
        let Some(entry) = self.entry(host)? else {
            return Ok(None);
        };
        let (secret, backend) = match entry.held {
            Held::File(secret) => (secret, Backend::File),
            Held::Keychain => match keychain::get(deadline, KEYCHAIN_SERVICE, Some(host))? {
                Some(secret) => (secret, Backend::Keychain),
                None => {
                    return Err(Error::new(format!(
                        "the login for {host} has no secret in {}",
                        keychain::name()
                    ))
                    .hint(format!("run `credential-helper login {host}` again")));
                }
            },
        };
        Ok(Some(Saved {
            username: entry.username,
            secret,
            source: format!("credential-helper login ({})", self.describe(backend)),
        }))
    }

    /// Saves `secret` for `host` in `backend`, replacing what was saved for it (a secret it
    /// had in the keychain is deleted when it moves to the file).
    pub fn save(
        &self,
        deadline: Deadline,
        host: &str,
        username: Option<&str>,
        secret: &Secret,
        backend: Backend,
    ) -> Result<()> {
        let held = match backend {
            Backend::Keychain => {
                keychain::set(deadline, KEYCHAIN_SERVICE, host, secret)?;
                Held::Keychain
            }
            Backend::File => Held::File(secret.clone()),
        };
        let entry = HostEntry {
            username: username.filter(|u| !u.is_empty()).map(str::to_string),
            held,
        };
        let before = self.update(deadline, |doc| doc.hosts.insert(host.to_string(), entry))?;
        if backend == Backend::File && before.is_some_and(|e| e.held == Held::Keychain) {
            // Best effort: the file no longer points at it, so it is never read again.
            let _ = keychain::delete(deadline, KEYCHAIN_SERVICE, host);
        }
        Ok(())
    }

    /// Removes what was saved for `host`; where its secret was, or `None` if nothing was.
    pub fn remove(&self, deadline: Deadline, host: &str) -> Result<Option<Backend>> {
        let Some(entry) = self.read()?.hosts.remove(host) else {
            return Ok(None);
        };
        if entry.held == Held::Keychain {
            keychain::delete(deadline, KEYCHAIN_SERVICE, host)?;
        }
        self.update(deadline, |doc| doc.hosts.remove(host))?;
        Ok(Some(match entry.held {
            Held::Keychain => Backend::Keychain,
            Held::File(_) => Backend::File,
        }))
    }

    /// Every saved host and its username.
    pub fn list(&self) -> Result<Vec<(String, Option<String>)>> {
        Ok(self
            .read()?
            .hosts
            .into_iter()
            .map(|(host, e)| (host, e.username))
            .collect())
    }

    /// What changes whenever the file is rewritten (every `login` and `logout`), for cache
    /// identities; `None` without a file.
    pub fn version(&self) -> Option<String> {
        crate::kernel::files::version(&self.path())
    }

    /// Read, change and replace the file under its lock; answers what `change` returned.
    fn update<T>(&self, deadline: Deadline, change: impl FnOnce(&mut Document) -> T) -> Result<T> {
        let path = self.path();
        let cannot = |e: std::io::Error| {
            Error::new(format!(
                "cannot write the login store {}: {e}",
                path.display()
            ))
        };
        match owned_files::check_dir(&self.dir) {
            Dir::Absent => match owned_files::create_dir(&self.dir) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(cannot(e)),
                _ => {}
            },
            Dir::Ours => {}
            Dir::Refused(why) => {
                return Err(Error::new(format!("login store: {why}"))
                    .hint("make it a directory of yours that only you may write (chmod 700)"));
            }
        }
        let lock_path = self.dir.join(format!(".{FILE_NAME}.lock"));
        let lock = owned_files::open_lock(&lock_path, 0).map_err(cannot)?;
        let start = Instant::now();
        let wait = deadline.limit(LOCK_WAIT);
        while let Err(e) = lock.try_lock() {
            match e {
                std::fs::TryLockError::WouldBlock if start.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                _ => {
                    return Err(Error::new(format!(
                        "the login store {} is busy (another login or logout)",
                        path.display()
                    )));
                }
            }
        }
        let mut doc = self.read()?;
        let answer = change(&mut doc);
        owned_files::replace(&path, doc.to_text().as_bytes()).map_err(cannot)?;
        Ok(answer)
    }
}

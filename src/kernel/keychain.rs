//! The OS keychain, the one way to it: the Secret Service over D-Bus (Linux and the other
//! Unixes), the login Keychain (macOS), Credential Manager (Windows), through `keyring-core` and
//! its stores. Used by `login` (`kernel::login_store`) and the lookup chain's `keyring` source.
//!
//! - Nothing happens until an item is asked for: no D-Bus connection, no thread, no Security
//!   framework call on any path that needs no item.
//! - Every call runs on its own thread and is waited for at most until the call's deadline
//!   (and [`TIMEOUT`]): a hung bus or a keychain prompt nobody answers fails the call in time;
//!   the process exits after answering, thread and all.
//! - Errors name the keychain and the item's service and account, never a secret; the platform's
//!   own error text is not quoted (it may echo data), only its kind.
//! - Without the `keyring` cargo feature, every call says the keychain is not built in.

use std::time::Duration;

use crate::kernel::deadline::Deadline;
use crate::kernel::error::{Error, Result};
use crate::kernel::secret::Secret;

/// Longest wait for one keychain call (an unlock prompt may be showing meanwhile).
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// What the keychain is called on this platform, for messages.
pub fn name() -> &'static str {
    if cfg!(target_os = "macos") {
        "the macOS Keychain"
    } else if cfg!(windows) {
        "Windows Credential Manager"
    } else {
        "the Secret Service keyring"
    }
}

/// The item `service`/`account`; `Ok(None)` when there is none. Without an account, the one
/// item of the service (Linux, macOS; Windows needs the account).
pub fn get(deadline: Deadline, service: &str, account: Option<&str>) -> Result<Option<Secret>> {
    let (s, a) = (service.to_string(), account.map(str::to_string));
    bounded(deadline, service, account, move || {
        os::get(&s, a.as_deref())
    })
}

/// Creates or replaces the item `service`/`account`.
pub fn set(deadline: Deadline, service: &str, account: &str, secret: &Secret) -> Result<()> {
    let (s, a, v) = (service.to_string(), account.to_string(), secret.clone());
    bounded(deadline, service, Some(account), move || {
        os::set(&s, &a, &v)
    })
}

/// Deletes the item; `Ok(false)` when there was none.
pub fn delete(deadline: Deadline, service: &str, account: &str) -> Result<bool> {
    let (s, a) = (service.to_string(), account.to_string());
    bounded(deadline, service, Some(account), move || os::delete(&s, &a))
}

/// Runs `call` on a thread of its own and waits for it until the deadline.
fn bounded<T: Send + 'static>(
    deadline: Deadline,
    service: &str,
    account: Option<&str>,
    call: impl FnOnce() -> std::result::Result<T, String> + Send + 'static,
) -> Result<T> {
    let item = match account {
        Some(a) => format!("service {service:?}, account {a:?}"),
        None => format!("service {service:?}"),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("keychain".into())
        .spawn(move || {
            let _ = tx.send(call());
        });
    if spawned.is_err() {
        return Err(Error::new(format!("{}: cannot start a thread", name())));
    }
    match rx.recv_timeout(deadline.limit(TIMEOUT)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(why)) => Err(Error::new(format!("{} ({item}): {why}", name())).hint(
            "start or unlock the keyring, or use the file store (CREDENTIAL_HELPER_STORE=file)",
        )),
        Err(_) => Err(
            Error::new(format!("{} ({item}) did not answer in time", name()))
                .hint("unlock the keyring, or use the file store (CREDENTIAL_HELPER_STORE=file)"),
        ),
    }
}

#[cfg(feature = "keyring")]
mod os {
    use std::collections::HashMap;
    use std::sync::{Arc, OnceLock};

    use keyring_core::{CredentialStore, Entry, Error as KeyringError};

    use crate::kernel::secret::Secret;

    /// The platform's store, opened (on Linux: connected to the session bus) on first use.
    fn store() -> Result<Arc<CredentialStore>, String> {
        static STORE: OnceLock<Result<Arc<CredentialStore>, String>> = OnceLock::new();
        STORE.get_or_init(open).clone()
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    fn open() -> Result<Arc<CredentialStore>, String> {
        match zbus_secret_service_keyring_store::Store::new() {
            Ok(store) => Ok(store),
            Err(e) => Err(format!(
                "cannot reach it on the D-Bus session bus ({})",
                kind(&e)
            )),
        }
    }

    #[cfg(target_os = "macos")]
    fn open() -> Result<Arc<CredentialStore>, String> {
        apple_native_keyring_store::keychain::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(|e| format!("cannot open it ({})", kind(&e)))
    }

    #[cfg(windows)]
    fn open() -> Result<Arc<CredentialStore>, String> {
        windows_native_keyring_store::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(|e| format!("cannot open it ({})", kind(&e)))
    }

    /// The search keys that name a service alone, where the store has them.
    fn service_spec(service: &str) -> Option<HashMap<&str, &str>> {
        if cfg!(windows) {
            return None;
        }
        Some(HashMap::from([("service", service)]))
    }

    pub fn get(service: &str, account: Option<&str>) -> Result<Option<Secret>, String> {
        let store = store()?;
        let entry = match account {
            Some(account) => Entry::new_in_store(&store, service, account).map_err(|e| kind(&e))?,
            None => {
                let spec = service_spec(service)
                    .ok_or("name the item's account: this keychain cannot search by service")?;
                let mut found = store.search(&spec).map_err(|e| kind(&e))?;
                match found.len() {
                    0 => return Ok(None),
                    1 => found.remove(0),
                    n => return Err(format!("{n} items have this service: name the account")),
                }
            }
        };
        match entry.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(KeyringError::Ambiguous(items)) => {
                Err(format!("{} items match: remove all but one", items.len()))
            }
            Err(e) => Err(kind(&e)),
        }
    }

    pub fn set(service: &str, account: &str, secret: &Secret) -> Result<(), String> {
        let entry = Entry::new_in_store(&store()?, service, account).map_err(|e| kind(&e))?;
        entry.set_password(secret.expose()).map_err(|e| kind(&e))
    }

    pub fn delete(service: &str, account: &str) -> Result<bool, String> {
        let entry = Entry::new_in_store(&store()?, service, account).map_err(|e| kind(&e))?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(KeyringError::NoEntry) => Ok(false),
            Err(e) => Err(kind(&e)),
        }
    }

    /// What went wrong, without the platform's message (which may quote what was stored).
    fn kind(e: &KeyringError) -> String {
        match e {
            KeyringError::PlatformFailure(_) => "the platform call failed".into(),
            KeyringError::NoStorageAccess(_) => "it is locked or access was refused".into(),
            KeyringError::NoEntry => "no such item".into(),
            KeyringError::BadEncoding(_) => "the stored value is not UTF-8 text".into(),
            KeyringError::BadDataFormat(..) | KeyringError::BadStoreFormat(_) => {
                "the stored value is not in the expected format".into()
            }
            KeyringError::TooLong(what, limit) => format!("the {what} is longer than {limit}"),
            KeyringError::Invalid(what, _) => format!("invalid {what}"),
            KeyringError::Ambiguous(items) => format!("{} items match", items.len()),
            KeyringError::NotSupportedByStore(_) => "not supported by this keychain".into(),
            _ => "an unknown keychain error".into(),
        }
    }
}

#[cfg(not(feature = "keyring"))]
mod os {
    use crate::kernel::secret::Secret;

    const NOT_BUILT: &str =
        "not built into this binary (it was built without the `keyring` feature)";

    pub fn get(_service: &str, _account: Option<&str>) -> Result<Option<Secret>, String> {
        Err(NOT_BUILT.into())
    }

    pub fn set(_service: &str, _account: &str, _secret: &Secret) -> Result<(), String> {
        Err(NOT_BUILT.into())
    }

    pub fn delete(_service: &str, _account: &str) -> Result<bool, String> {
        Err(NOT_BUILT.into())
    }
}

/// Whether this binary has keychain support (the `keyring` cargo feature).
pub fn built_in() -> bool {
    cfg!(feature = "keyring")
}

//! The process environment, captured once at start-up and passed down explicitly.
//!
//! Nothing else in the crate reads `std::env`: tests build an [`Env`] by hand, and the binary
//! builds one from the real process in `main`. An `Env` knows the [`Platform`] it belongs to;
//! what differs between platforms is decided in [`crate::kernel::platform`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::kernel::platform::{self, Platform};

pub mod vars;

/// A snapshot of the environment: platform, variables, home directory, working directory,
/// clock and user id.
#[derive(Clone, Debug)]
pub struct Env {
    platform: Platform,
    vars: BTreeMap<String, String>,
    home: Option<PathBuf>,
    cwd: PathBuf,
    now: i64,
    uid: Option<u32>,
    /// This program's own file, to tell when a credential helper is this program again.
    exe: Option<PathBuf>,
}

impl Env {
    /// Captures the real process environment. Only `main` calls this.
    pub fn from_process() -> Env {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Env {
            uid: process_uid(),
            exe: std::env::current_exe().ok(),
            ..Env::new(vars, cwd, now)
        }
    }

    /// Builds an environment of this platform from explicit parts. The home directory is
    /// `HOME` (on Windows, else `USERPROFILE`) and nothing else: asking the user database
    /// (`getpwuid`) would load an NSS module into a statically linked binary, which crashes it
    /// when the uid has no entry (containers running as an arbitrary uid).
    pub fn new(vars: BTreeMap<String, String>, cwd: PathBuf, now: i64) -> Env {
        Env::new_on(Platform::current(), vars, cwd, now)
    }

    /// [`Env::new`] with another platform's conventions, for the tests of them.
    pub fn new_on(
        platform: Platform,
        vars: BTreeMap<String, String>,
        cwd: PathBuf,
        now: i64,
    ) -> Env {
        let mut env = Env {
            platform,
            vars,
            home: None,
            cwd,
            now,
            uid: None,
            exe: None,
        };
        env.home = platform::home_dir(platform, env.var(vars::HOME), env.var(vars::USERPROFILE));
        env
    }

    /// The platform whose conventions apply.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// A variable's value; unset and empty are the same thing. Names are case-insensitive on
    /// Windows (`Path` is `PATH`).
    pub fn var(&self, name: &str) -> Option<&str> {
        let value = match self.vars.get(name) {
            Some(v) => Some(v),
            None if platform::names_ignore_case(self.platform) => self
                .vars
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v),
            None => None,
        };
        value.map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Every variable whose name starts with `prefix` (in any case on Windows), in name order.
    pub fn vars_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a> {
        let pairs = |(k, v): (&'a String, &'a String)| (k.as_str(), v.as_str());
        if platform::names_ignore_case(self.platform) {
            return Box::new(
                self.vars
                    .iter()
                    .filter(move |(k, _)| {
                        k.get(..prefix.len())
                            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
                    })
                    .map(pairs),
            );
        }
        Box::new(
            self.vars
                .range(prefix.to_string()..)
                .take_while(move |(k, _)| k.starts_with(prefix))
                .map(pairs),
        )
    }

    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The process's real user id (Unix; `None` elsewhere and in environments built by hand).
    pub fn uid(&self) -> Option<u32> {
        self.uid
    }

    /// `$XDG_CONFIG_HOME`, else `~/.config`, on every platform: containers/image's rule for
    /// `containers/auth.json`. gh and gcloud have rules of their own
    /// ([`platform::gh_config_dir`], [`platform::gcloud_config_dir`]).
    pub fn config_home(&self) -> Option<PathBuf> {
        self.var(vars::XDG_CONFIG_HOME)
            .map(PathBuf::from)
            .or_else(|| self.home().map(|h| h.join(".config")))
    }

    /// `$XDG_CACHE_HOME`, else `~/.cache`; `%LOCALAPPDATA%` on Windows
    /// ([`platform::cache_home`]).
    pub fn cache_home(&self) -> Option<PathBuf> {
        platform::cache_home(self.platform, &self.homes())
    }

    /// gh's config directory, which holds `hosts.yml` ([`platform::gh_config_dir`]).
    pub fn gh_config_dir(&self) -> Option<PathBuf> {
        let explicit = self.var(vars::GH_CONFIG_DIR).map(|d| self.expand_path(d));
        platform::gh_config_dir(self.platform, &self.homes(), explicit)
    }

    /// gcloud's config directory ([`platform::gcloud_config_dir`]).
    pub fn gcloud_config_dir(&self) -> Option<PathBuf> {
        let explicit = self.var(vars::CLOUDSDK_CONFIG).map(|d| self.expand_path(d));
        platform::gcloud_config_dir(self.platform, &self.homes(), explicit)
    }

    /// The login store's directory ([`platform::login_store_dir`]).
    pub fn login_store_dir(&self) -> Option<PathBuf> {
        platform::login_store_dir(self.platform, &self.homes())
    }

    fn homes(&self) -> platform::Homes<'_> {
        platform::Homes {
            home: self.home(),
            xdg_config_home: self.var(vars::XDG_CONFIG_HOME),
            xdg_cache_home: self.var(vars::XDG_CACHE_HOME),
            app_data: self.var(vars::APPDATA),
            local_app_data: self.var(vars::LOCALAPPDATA),
        }
    }

    /// This environment seen from another working directory (`setup` explains from the
    /// workspace root, where Bazel runs the helper).
    pub fn with_cwd(&self, cwd: PathBuf) -> Env {
        Env {
            cwd,
            ..self.clone()
        }
    }

    /// Expands `~/` (home) and `%workspace%/` (the working directory) at the start of a path,
    /// on Windows with either slash; a relative path is relative to the working directory.
    pub fn expand_path(&self, path: &str) -> PathBuf {
        platform::expand_path(self.platform, self.home(), &self.cwd, path)
    }

    /// Finds an executable by name on `$PATH` (on Windows with the `PATHEXT` extensions).
    pub fn which(&self, name: &str) -> Option<PathBuf> {
        platform::executable_candidates(
            self.platform,
            name,
            self.var(vars::PATH),
            self.var(vars::PATHEXT),
        )
        .into_iter()
        .find(|p| p.metadata().is_ok_and(|m| is_executable(&m)))
    }

    /// This program's own file (`None` in environments built by hand).
    pub fn current_exe(&self) -> Option<&Path> {
        self.exe.as_deref()
    }

    /// This environment with one variable set, for the child processes of a call.
    pub fn with_var(mut self, name: &str, value: &str) -> Env {
        self.vars.insert(name.to_string(), value.to_string());
        self
    }

    /// The environment for a child process: exactly this snapshot's variables.
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }
}

#[cfg(unix)]
fn process_uid() -> Option<u32> {
    // SAFETY: getuid has no preconditions and cannot fail.
    Some(unsafe { libc::getuid() })
}

#[cfg(not(unix))]
fn process_uid() -> Option<u32> {
    None
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    meta.is_file()
}

#[cfg(test)]
pub(crate) fn test_env(pairs: &[(&str, &str)]) -> Env {
    test_env_on(Platform::current(), pairs)
}

/// [`test_env`] with `platform`'s conventions.
#[cfg(test)]
pub(crate) fn test_env_on(platform: Platform, pairs: &[(&str, &str)]) -> Env {
    let vars = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Env::new_on(platform, vars, PathBuf::from("/workspace"), 1_800_000_000)
}

#[cfg(test)]
mod tests;

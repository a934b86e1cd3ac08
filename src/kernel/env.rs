//! The process environment, captured once at start-up and passed down explicitly.
//!
//! Nothing else in the crate reads `std::env`: tests build an [`Env`] by hand, and the binary
//! builds one from the real process in `main`. An `Env` knows the [`Platform`] it belongs to;
//! what differs between platforms is decided in [`crate::kernel::platform`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::kernel::platform::{self, Platform};

/// Names of every environment variable the helper reads, with what each one does.
pub mod vars {
    /// Path of the config file. Accepts a `%workspace%/` prefix (the working directory, which is
    /// the workspace root when Bazel runs the helper) and `~/`.
    pub const CONFIG_FILE: &str = "CREDENTIAL_HELPER_CONFIG_FILE";
    /// `debug` prints every decision to stderr, with secrets redacted.
    pub const LOG: &str = "CREDENTIAL_HELPER_LOG";
    /// `1`: with the built-in defaults in force, route unknown hosts' registry API URLs to the
    /// `oci` helper.
    pub const GUESS_OCI_REGISTRY: &str = "CREDENTIAL_HELPER_GUESS_OCI_REGISTRY";
    /// Extra PEM CA bundle trusted for every HTTPS request, besides the system roots.
    pub const CA_CERT: &str = "CREDENTIAL_HELPER_CA_CERT";
    /// Linux: the one PEM bundle of trusted CA certificates, in place of the distribution's
    /// (OpenSSL's variable). Not read on macOS and Windows, which verify through the OS.
    pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
    /// Linux, when `SSL_CERT_FILE` is unset: directories (`:` between them) of trusted CA
    /// certificates, in place of the distribution's bundle (OpenSSL's variable).
    pub const SSL_CERT_DIR: &str = "SSL_CERT_DIR";
    /// Directory of the token cache (default: the platform cache directory).
    pub const CACHE_DIR: &str = "CREDENTIAL_HELPER_CACHE_DIR";
    /// `off` disables the token cache.
    pub const CACHE: &str = "CREDENTIAL_HELPER_CACHE";
    /// Total timeout of one HTTP request in milliseconds (default 5000).
    pub const HTTP_TIMEOUT_MS: &str = "CREDENTIAL_HELPER_HTTP_TIMEOUT_MS";

    /// Directory of docker's `config.json` (default `~/.docker`).
    pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";
    /// A docker `config.json` document (`{"auths": {...}}`) layered over the file.
    pub const DOCKER_AUTH_CONFIG: &str = "DOCKER_AUTH_CONFIG";
    /// podman/skopeo `auth.json` path (their `--authfile` default); when set, the only
    /// `auth.json` read.
    pub const REGISTRY_AUTH_FILE: &str = "REGISTRY_AUTH_FILE";
    /// Holds `containers/auth.json` (podman's default location on Linux; unset, it is
    /// `/run/containers/<uid>/auth.json`).
    pub const XDG_RUNTIME_DIR: &str = "XDG_RUNTIME_DIR";
    /// Holds `containers/auth.json` and `gh/hosts.yml` (default `~/.config`; read on Windows
    /// too, where gh's default is `%AppData%\GitHub CLI`).
    pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
    /// Holds the token cache (default `~/.cache`; not read on Windows).
    pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
    /// The home directory; the only source of it (the user database is never asked).
    pub const HOME: &str = "HOME";
    /// The home directory on Windows when `HOME` is unset.
    pub const USERPROFILE: &str = "USERPROFILE";
    /// Windows: the roaming per-user application data directory; holds gh's `GitHub CLI` and
    /// gcloud's `gcloud` config directories.
    pub const APPDATA: &str = "APPDATA";
    /// Windows: the local per-user application data directory; holds the token cache.
    pub const LOCALAPPDATA: &str = "LOCALAPPDATA";
    /// Windows: holds `System32\cmd.exe`, which runs `.bat`/`.cmd` programs and AWS
    /// `credential_process` commands (without it, `cmd.exe` is looked up on `PATH`).
    pub const SYSTEM_ROOT: &str = "SystemRoot";
    /// The netrc file read by the `netrc` helper (default `~/.netrc`).
    pub const NETRC: &str = "NETRC";
    /// Searched for `docker-credential-<name>`, `gcloud`, `az`, `gh` and the keyring tools.
    pub const PATH: &str = "PATH";
    /// Windows: the extensions tried for a program found on `PATH`, in order (default
    /// `.COM;.EXE;.BAT;.CMD`), so `docker-credential-desktop` is
    /// `docker-credential-desktop.exe` and `gcloud` is `gcloud.cmd`.
    pub const PATHEXT: &str = "PATHEXT";

    /// GitHub tokens, tried in this order for ghcr.io and GitHub downloads.
    pub const GHCR_TOKEN: &str = "GHCR_TOKEN";
    pub const GH_TOKEN: &str = "GH_TOKEN";
    pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
    /// Username sent to ghcr.io with a token (any non-empty value works).
    pub const GITHUB_ACTOR: &str = "GITHUB_ACTOR";
    /// The gh CLI's config directory (holds `hosts.yml`; default `$XDG_CONFIG_HOME/gh`, else
    /// `%AppData%\GitHub CLI` on Windows, else `~/.config/gh`).
    pub const GH_CONFIG_DIR: &str = "GH_CONFIG_DIR";

    /// AWS static credentials (the first credential source of the AWS chain).
    pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
    pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
    /// Present with temporary credentials; sent as `X-Amz-Security-Token`.
    pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
    /// The profile read from the shared files (default `default`).
    pub const AWS_PROFILE: &str = "AWS_PROFILE";
    /// The shared credentials file (default `~/.aws/credentials`).
    pub const AWS_SHARED_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
    /// The shared config file (default `~/.aws/config`; `[profile x]` sections).
    pub const AWS_CONFIG_FILE: &str = "AWS_CONFIG_FILE";
    /// Region for STS (ECR and S3 take theirs from the host).
    pub const AWS_REGION: &str = "AWS_REGION";
    pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
    /// Web identity (GitHub Actions OIDC, EKS IRSA): a token file and the role to assume.
    pub const AWS_WEB_IDENTITY_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
    pub const AWS_ROLE_ARN: &str = "AWS_ROLE_ARN";
    /// Session name for assumed roles (default `credential-helper`).
    pub const AWS_ROLE_SESSION_NAME: &str = "AWS_ROLE_SESSION_NAME";
    /// ECS/EKS container credentials: a path on 169.254.170.2, or a full URL.
    pub const AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: &str =
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
    pub const AWS_CONTAINER_CREDENTIALS_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
    /// `Authorization` value for the container endpoint, or a file holding it.
    pub const AWS_CONTAINER_AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
    pub const AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str =
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
    /// EC2 instance metadata (IMDSv2) endpoint (default `http://169.254.169.254`).
    pub const AWS_EC2_METADATA_SERVICE_ENDPOINT: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
    /// `true` turns the instance metadata source off.
    pub const AWS_EC2_METADATA_DISABLED: &str = "AWS_EC2_METADATA_DISABLED";
    /// Endpoint overrides: every service, then ECR, ECR Public, STS and the SSO portal alone.
    pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
    pub const AWS_ENDPOINT_URL_ECR: &str = "AWS_ENDPOINT_URL_ECR";
    pub const AWS_ENDPOINT_URL_ECR_PUBLIC: &str = "AWS_ENDPOINT_URL_ECR_PUBLIC";
    pub const AWS_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
    pub const AWS_ENDPOINT_URL_SSO: &str = "AWS_ENDPOINT_URL_SSO";
    /// Cloudflare R2 keys used by the built-in `*.r2.cloudflarestorage.com` entry.
    // Named by the built-in defaults (config/defaults.json), not by code.
    #[allow(dead_code)]
    pub const R2_ACCESS_KEY_ID: &str = "R2_ACCESS_KEY_ID";
    #[allow(dead_code)]
    pub const R2_SECRET_ACCESS_KEY: &str = "R2_SECRET_ACCESS_KEY";

    /// Azure (Microsoft Entra ID) application (client) ID: of a service principal with
    /// `AZURE_CLIENT_SECRET`, of a federated identity with `AZURE_FEDERATED_TOKEN_FILE`, else
    /// of the user-assigned managed identity to use.
    pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
    /// Azure service principal secret (with `AZURE_CLIENT_ID` and `AZURE_TENANT_ID`).
    pub const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
    /// Azure tenant (directory) ID.
    pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
    /// File holding a federated token (AKS workload identity, CI OIDC) traded for an Azure token.
    pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
    /// Microsoft Entra authority (default `https://login.microsoftonline.com`).
    pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
    /// Managed identity endpoint of App Service, Functions and Container Apps.
    pub const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
    /// Secret header value for `IDENTITY_ENDPOINT`.
    pub const IDENTITY_HEADER: &str = "IDENTITY_HEADER";
    /// Base URL of the Azure instance metadata service (default `http://169.254.169.254`); the
    /// Azure SDKs' name for it.
    pub const AZURE_POD_IDENTITY_AUTHORITY_HOST: &str = "AZURE_POD_IDENTITY_AUTHORITY_HOST";
    /// The Azure CLI's directory (default `~/.azure`): its `azureProfile.json` says who is
    /// logged in.
    pub const AZURE_CONFIG_DIR: &str = "AZURE_CONFIG_DIR";
    /// A Google credentials file (`service_account`, `authorized_user` or `external_account`
    /// JSON), tried first.
    pub const GOOGLE_APPLICATION_CREDENTIALS: &str = "GOOGLE_APPLICATION_CREDENTIALS";
    /// gcloud's config directory (default `~/.config/gcloud`, `%APPDATA%\gcloud` on Windows);
    /// holds `application_default_credentials.json`.
    pub const CLOUDSDK_CONFIG: &str = "CLOUDSDK_CONFIG";
    /// Host (and port) of the GCE metadata server (default `metadata.google.internal`).
    pub const GCE_METADATA_HOST: &str = "GCE_METADATA_HOST";
    /// `true` (or `1`) skips the GCE metadata server (google-auth's name).
    pub const NO_GCE_CHECK: &str = "NO_GCE_CHECK";

    /// Comma-separated cloud keychains to turn on for every oci entry (`ecr`, `gcp`, `azure`,
    /// `github`; imgpkg's `gke` and `aks` are accepted too).
    pub const ACTIVE_KEYCHAINS: &str = "CREDENTIAL_HELPER_ACTIVE_KEYCHAINS";
    /// imgpkg's name for the same setting.
    pub const IMGPKG_ACTIVE_KEYCHAINS: &str = "IMGPKG_ACTIVE_KEYCHAINS";
    /// imgpkg's Azure config file. Not read here (the azure keychain has its own settings), but
    /// it shares the environment keychain's prefix, so it is passed over rather than refused.
    pub const IMGPKG_REGISTRY_AZURE_CR_CONFIG: &str = "IMGPKG_REGISTRY_AZURE_CR_CONFIG";
}

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

    fn homes(&self) -> platform::Homes<'_> {
        platform::Homes {
            home: self.home(),
            xdg_config_home: self.var(vars::XDG_CONFIG_HOME),
            xdg_cache_home: self.var(vars::XDG_CACHE_HOME),
            app_data: self.var(vars::APPDATA),
            local_app_data: self.var(vars::LOCALAPPDATA),
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
mod tests {
    use super::*;

    #[test]
    fn expands_workspace_and_home() {
        let env = test_env(&[("HOME", "/home/u")]);
        assert_eq!(env.expand_path("~/x"), PathBuf::from("/home/u/x"));
        assert_eq!(
            env.expand_path("%workspace%/a/b"),
            PathBuf::from("/workspace/a/b")
        );
        assert_eq!(env.expand_path("rel"), PathBuf::from("/workspace/rel"));
        assert_eq!(env.expand_path("/abs"), PathBuf::from("/abs"));
    }

    #[test]
    fn empty_is_unset_and_prefix_scan_is_ordered() {
        let env = test_env(&[("A_1", "x"), ("A_2", ""), ("B", "y"), ("A_0", "z")]);
        assert_eq!(env.var("A_2"), None);
        let names: Vec<_> = env.vars_with_prefix("A_").map(|(k, _)| k).collect();
        assert_eq!(names, ["A_0", "A_1", "A_2"]);
    }
}

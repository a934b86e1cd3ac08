//! Names of every environment variable the helper reads, with what each one does.
//!
//! `tests/it/docs.rs` generates `docs/environment.md` from the `///` comments here.

/// Path of the config file. Accepts a `%workspace%/` prefix (the working directory, which is
/// the workspace root when Bazel runs the helper) and `~/`.
pub const CONFIG_FILE: &str = "CREDENTIAL_HELPER_CONFIG_FILE";
/// `debug` (any case; also `trace`, `1`, `true`, `yes`, `on`) prints every decision to
/// stderr, with secrets redacted; `0`, `false`, `off`, `info`, `warn` and `error` print only
/// errors, and any other value prints one warning and is ignored. Bazel shows a helper's
/// stderr only when it fails: to see a successful `get`, run `credential-helper explain`.
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
/// Directory of the token cache (default: the platform cache directory). It must be yours
/// and writable by nobody else, or the cache is not used.
pub const CACHE_DIR: &str = "CREDENTIAL_HELPER_CACHE_DIR";
/// `off` disables the token cache.
pub const CACHE: &str = "CREDENTIAL_HELPER_CACHE";
/// Where `login` keeps secrets and `get` looks for them: `keychain` (the default: the OS
/// keychain, with the host and username in the login store's `credentials.json`) or `file`
/// (the secrets themselves in that 0600 file; the keychain is never touched, for CI and
/// machines without one).
pub const STORE: &str = "CREDENTIAL_HELPER_STORE";
/// Linux: the D-Bus session bus the Secret Service keyring is reached on (read by the D-Bus
/// library; default `$XDG_RUNTIME_DIR/bus`).
#[allow(dead_code)]
pub const DBUS_SESSION_BUS_ADDRESS: &str = "DBUS_SESSION_BUS_ADDRESS";
/// Total timeout of one HTTP request in milliseconds (default 4000); all network work of
/// one call still ends within 8.5 s, under Bazel's 10 s.
pub const HTTP_TIMEOUT_MS: &str = "CREDENTIAL_HELPER_HTTP_TIMEOUT_MS";
/// Proxy for the helper's own `https` and `http` requests, and the hosts that bypass them
/// (the lower-case names are read too). A proxy URL is never shown in an error.
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
pub const HTTP_PROXY: &str = "HTTP_PROXY";
pub const NO_PROXY: &str = "NO_PROXY";
/// Prefixes of the environment keychain's variables (imgpkg's names work too): the fields
/// `HOSTNAME`, `USERNAME`, `PASSWORD`, `IDENTITY_TOKEN`, `REGISTRY_TOKEN`, bare or with a
/// `_<suffix>` that groups one registry's values.
pub const REGISTRY_PREFIX: &str = "CREDENTIAL_HELPER_REGISTRY_";
pub const IMGPKG_REGISTRY_PREFIX: &str = "IMGPKG_REGISTRY_";
/// Read by the checked-in launcher (`credential-helper launcher`), not by the binary: where
/// releases are downloaded from (`<it>/v<version>/<asset>`), for a mirror.
pub const DOWNLOAD_URL: &str = "CREDENTIAL_HELPER_DOWNLOAD_URL";

/// Directory of docker's `config.json` (default `~/.docker`).
pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";
/// docker's credential document (`{"auths": {...}}`, each entry only an `auth`), looked at
/// before `config.json`; ignored, with a trace note, where docker would ignore it.
pub const DOCKER_AUTH_CONFIG: &str = "DOCKER_AUTH_CONFIG";
/// podman/skopeo `auth.json` path (their `--authfile` default); when set, the only
/// `auth.json` read.
pub const REGISTRY_AUTH_FILE: &str = "REGISTRY_AUTH_FILE";
/// Holds `containers/auth.json` (podman's default location on Linux; unset, it is
/// `/run/containers/<uid>/auth.json`).
pub const XDG_RUNTIME_DIR: &str = "XDG_RUNTIME_DIR";
/// Holds `containers/auth.json`, `gh/hosts.yml` and (not on Windows) the login store's
/// `credential-helper/credentials.json` (default `~/.config`; read on Windows too for the
/// first two, where gh's default is `%AppData%\GitHub CLI`).
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// Holds the token cache and the launcher's downloads (default `~/.cache`; not read on
/// Windows).
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// The home directory; the only source of it (the user database is never asked).
pub const HOME: &str = "HOME";
/// The home directory on Windows when `HOME` is unset.
pub const USERPROFILE: &str = "USERPROFILE";
/// Windows: the roaming per-user application data directory; holds gh's `GitHub CLI` and
/// gcloud's `gcloud` config directories, and the login store (`credential-helper`).
pub const APPDATA: &str = "APPDATA";
/// Windows: the local per-user application data directory; holds the token cache.
pub const LOCALAPPDATA: &str = "LOCALAPPDATA";
/// Windows: holds `System32\cmd.exe`, which runs `.bat`/`.cmd` programs and AWS
/// `credential_process` commands (without it, `cmd.exe` is looked up on `PATH`).
pub const SYSTEM_ROOT: &str = "SystemRoot";
/// The netrc file read by the `netrc` helper (default `~/.netrc`).
pub const NETRC: &str = "NETRC";
/// Searched for `docker-credential-<name>`, `gcloud`, `az` and `gh`.
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

/// BuildBuddy's API key, sent as `x-buildbuddy-api-key` (the built-in `*.buildbuddy.io` entry,
/// and a tweag `remoteapis` entry for BuildBuddy without a `lookup_chain`).
pub const BUILDBUDDY_API_KEY: &str = "BUILDBUDDY_API_KEY";
/// The secret of a tweag/credential-helper `remoteapis` entry without a `lookup_chain`
/// (tweag's default source, kept for configs moved from it).
pub const REMOTEAPIS_SECRET: &str = "CREDENTIAL_HELPER_REMOTEAPIS_SECRET";

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
pub const AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
pub const AWS_CONTAINER_CREDENTIALS_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// `Authorization` value for the container endpoint, or a file holding it.
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
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
/// A Google credentials file (`service_account`, `authorized_user`, `external_account` or
/// `impersonated_service_account` JSON), tried first.
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
/// Set by `credential-helper` for the programs it runs while it answers docker's credential
/// protocol (`docker-credential-<name> get`). A `get` of that protocol started with it set
/// answers "credentials not found" at once: a `credHelpers` entry that leads back to this
/// program through a wrapper script ends there instead of looping. Not for users to set.
pub const DOCKER_CREDENTIAL_CHILD: &str = "CREDENTIAL_HELPER_DOCKER_CREDENTIAL_CHILD";
/// imgpkg's Azure config file. Not read here (the azure keychain has its own settings), but
/// it shares the environment keychain's prefix, so it is passed over rather than refused.
pub const IMGPKG_REGISTRY_AZURE_CR_CONFIG: &str = "IMGPKG_REGISTRY_AZURE_CR_CONFIG";

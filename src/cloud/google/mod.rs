//! Google access tokens (Application Default Credentials), shared by the `gcp` keychain and the
//! `gcs` and `gar` helpers.
//!
//! Sources, in Google's order; the first one present answers, and its errors are final:
//! 1. `$GOOGLE_APPLICATION_CREDENTIALS`: a `service_account` key (an RS256-signed JWT traded at
//!    its `token_uri`), an `authorized_user` file (a refresh-token grant), an
//!    `external_account` file (workload identity federation, [`external_account`]) or an
//!    `impersonated_service_account` file ([`impersonated`]).
//! 2. gcloud's well-known file `${CLOUDSDK_CONFIG:-~/.config/gcloud}/application_default_credentials.json`.
//! 3. The GCE metadata server (`$GCE_METADATA_HOST`, else `metadata.google.internal`), probed
//!    with a short timeout so machines off Google Cloud lose little; `NO_GCE_CHECK=true` skips it.
//! 4. `gcloud config config-helper --format=json(credential)`.
//!
//! Tokens go through the cache keyed by identity and scope; long-lived keys never do.

mod external_account;
mod impersonated;

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

use crate::kernel::cache::Key;
use crate::kernel::context::Context;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result, describe_json};
use crate::kernel::http::{self, Request};
use crate::kernel::outcome::Outcome;
use crate::kernel::process;
use crate::kernel::secret::{Secret, has_control_character};
use crate::kernel::token::parse_rfc3339;
use crate::kernel::token::{self, parse_response, safety_margin};
use crate::kernel::transport::require_secure;
use crate::note;

/// Everything a registry pull or an Artifact Registry download needs.
pub const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Reading GCS objects; a remote cache that uploads needs `devstorage.read_write`.
pub const DEVSTORAGE_READ_ONLY: &str = "https://www.googleapis.com/auth/devstorage.read_only";
/// Where `authorized_user` refresh tokens are traded when the file names no `token_uri`.
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const METADATA_HOST: &str = "metadata.google.internal";
/// Off Google Cloud the metadata host does not resolve or answer; do not wait for it.
const METADATA_TIMEOUT: Duration = Duration::from_millis(1000);
/// Lifetime asked for in a service-account JWT (Google's maximum).
const JWT_LIFETIME: i64 = 3600;

/// `<location>-<format>.pkg.dev` (Artifact Registry): one label before the format, no more.
pub fn is_pkg_dev_host(host: &str, format: &str) -> bool {
    host.strip_suffix(".pkg.dev")
        .and_then(|h| h.strip_suffix(format))
        .and_then(|h| h.strip_suffix('-'))
        .is_some_and(|location| {
            !location.is_empty()
                && location
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An access token and where it came from.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: Secret,
    /// Unix seconds, safety margin applied.
    pub expires: i64,
    pub source: String,
}

/// An access token for `scopes` from the first source present.
pub fn access_token(ctx: &Context, scopes: &[String]) -> Outcome<AccessToken> {
    let scope = scopes.join(" ");
    if let Some(path) = ctx.env.var(vars::GOOGLE_APPLICATION_CREDENTIALS) {
        let path = ctx.env.expand_path(path);
        let what = format!(
            "{} ({})",
            path.display(),
            vars::GOOGLE_APPLICATION_CREDENTIALS
        );
        return found_or_failed(from_file(ctx, &path, &what, &scope));
    }
    let mut tried = Vec::new();
    match adc_file(&ctx.env) {
        Some(path) if path.is_file() => {
            let what = format!(
                "{} (gcloud application default credentials)",
                path.display()
            );
            return found_or_failed(from_file(ctx, &path, &what, &scope));
        }
        Some(path) => tried.push(format!("no {}", path.display())),
        None => tried.push("no home directory for gcloud's credentials".into()),
    }
    match metadata(ctx, scopes) {
        Outcome::Missing(why) => {
            note!(ctx.trace, "google: {why}");
            tried.push(why);
        }
        other => return other,
    }
    match gcloud(ctx, &scope) {
        Outcome::Missing(why) => {
            tried.push(why);
            Outcome::Missing(format!(
                "no Google credentials: {} not set; {}",
                vars::GOOGLE_APPLICATION_CREDENTIALS,
                tried.join("; ")
            ))
        }
        other => other,
    }
}

/// The token, or an error that says which sources were tried and what to set up.
pub fn require(outcome: Outcome<AccessToken>, needed_for: &str) -> Result<AccessToken> {
    match outcome {
        Outcome::Found(t) => Ok(t),
        Outcome::Missing(why) => Err(Error::new(format!("{needed_for}: {why}")).hint(format!(
            "set {} to a service account key (google-github-actions/auth does), or run `gcloud auth application-default login`",
            vars::GOOGLE_APPLICATION_CREDENTIALS
        ))),
        Outcome::Failed(e) => Err(e.context(needed_for)),
    }
}

fn found_or_failed(r: Result<AccessToken>) -> Outcome<AccessToken> {
    match r {
        Ok(t) => Outcome::Found(t),
        Err(e) => Outcome::Failed(e),
    }
}

/// `${CLOUDSDK_CONFIG:-~/.config/gcloud}/application_default_credentials.json` (gcloud does
/// not follow `XDG_CONFIG_HOME`).
fn adc_file(env: &Env) -> Option<PathBuf> {
    gcloud_config_dir(env).map(|d| d.join("application_default_credentials.json"))
}

fn gcloud_config_dir(env: &Env) -> Option<PathBuf> {
    match env.var(vars::CLOUDSDK_CONFIG) {
        Some(dir) => Some(env.expand_path(dir)),
        None => env.home().map(|h| h.join(".config/gcloud")),
    }
}

#[derive(Deserialize)]
struct FileType {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ServiceAccount {
    client_email: String,
    private_key: Secret,
    #[serde(default)]
    private_key_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AuthorizedUser {
    client_id: String,
    client_secret: Secret,
    refresh_token: Secret,
    #[serde(default)]
    token_uri: Option<String>,
}

/// A credentials file: `what` names it (path and where the path came from) in every message.
fn from_file(ctx: &Context, path: &Path, what: &str, scope: &str) -> Result<AccessToken> {
    let text = std::fs::read(path).map_err(|e| Error::new(format!("cannot read {what}: {e}")))?;
    let kind = file_type(&text, what)?;
    note!(ctx.trace, "google: {what}: type {kind:?}");
    match parse_file(&text, what, &kind)? {
        KeyFile::ServiceAccount(sa) => service_account(ctx, &sa, what, scope),
        KeyFile::AuthorizedUser(user) => authorized_user(ctx, &user, what, scope),
        KeyFile::ExternalAccount(account) => {
            external_account::access_token(ctx, &account, what, scope)
        }
        KeyFile::Impersonated(file) => impersonated::access_token(ctx, &file, what, scope),
    }
}

/// What a credentials file holds, by its `type`.
enum KeyFile {
    ServiceAccount(ServiceAccount),
    AuthorizedUser(AuthorizedUser),
    ExternalAccount(external_account::ExternalAccount),
    Impersonated(impersonated::Impersonated),
}

/// The file's `type` (empty when absent).
fn file_type(text: &[u8], what: &str) -> Result<String> {
    Ok(serde_json::from_slice::<FileType>(text)
        .map_err(|e| Error::new(format!("{what} is not JSON ({})", describe_json(&e))))?
        .kind
        .unwrap_or_default())
}

/// The shape the file's `type` needs.
fn parse_file(text: &[u8], what: &str, kind: &str) -> Result<KeyFile> {
    match kind {
        "service_account" => parse_key_file(text, what, kind).map(KeyFile::ServiceAccount),
        "authorized_user" => parse_key_file(text, what, kind).map(KeyFile::AuthorizedUser),
        "external_account" => parse_key_file(text, what, kind).map(KeyFile::ExternalAccount),
        "impersonated_service_account" => {
            parse_key_file(text, what, kind).map(KeyFile::Impersonated)
        }
        other => Err(Error::new(format!(
            "{what} has credential type {other:?}, which is not supported"
        ))
        .hint(
            "supported: service_account, authorized_user, external_account, \
             impersonated_service_account",
        )),
    }
}

/// Reads a credentials file as [`from_file`] does up to its first request: the `type` dispatch
/// and the shape of each type, no network. Public for the fuzz harness.
pub fn check_file(text: &[u8], what: &str) -> Result<()> {
    let kind = file_type(text, what)?;
    parse_file(text, what, &kind).map(drop)
}

fn parse_key_file<T: serde::de::DeserializeOwned>(
    text: &[u8],
    what: &str,
    kind: &str,
) -> Result<T> {
    serde_json::from_slice(text).map_err(|e| {
        Error::new(format!(
            "{what} is not a valid {kind} file ({})",
            describe_json(&e)
        ))
    })
}

/// An endpoint named by a key file's `field`: https, or http on loopback (a local test server).
/// Public for the fuzz harness.
pub fn endpoint(uri: &str, field: &str, what: &str) -> Result<url::Url> {
    let url =
        url::Url::parse(uri).map_err(|_| Error::new(format!("{what} has an invalid {field}")))?;
    match require_secure(&url, false) {
        Ok(()) => Ok(url),
        Err(_) => Err(Error::new(format!(
            "{what} has {field} {}, which is not https",
            http::redact_url(&url)
        ))),
    }
}

fn service_account(
    ctx: &Context,
    sa: &ServiceAccount,
    what: &str,
    scope: &str,
) -> Result<AccessToken> {
    let endpoint = endpoint(
        sa.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI),
        "token_uri",
        what,
    )?;
    let source = format!("service account {} from {what}", sa.client_email);
    let key = Key::new(&[
        "google-service-account",
        &sa.client_email,
        &sa.private_key.fingerprint(),
        endpoint.as_str(),
        scope,
    ]);
    cached(ctx, &key, source, || {
        let now = ctx.env.now();
        let claims = serde_json::json!({
            "iss": sa.client_email,
            "scope": scope,
            "aud": endpoint.as_str(),
            "iat": now,
            "exp": now + JWT_LIFETIME,
        });
        let jwt = sign_rs256(&sa.private_key, sa.private_key_id.as_deref(), &claims)
            .map_err(|why| Error::new(format!("{what}: {why}")))?;
        note!(
            ctx.trace,
            "google: POST {} (JWT bearer grant for {})",
            http::redact_url(&endpoint),
            sa.client_email
        );
        let fields = [
            ("grant_type", JWT_BEARER_GRANT),
            ("assertion", jwt.expose()),
        ];
        exchange(ctx, &Request::form(endpoint.clone(), &fields), what)
    })
}

fn authorized_user(
    ctx: &Context,
    user: &AuthorizedUser,
    what: &str,
    scope: &str,
) -> Result<AccessToken> {
    let endpoint = endpoint(
        user.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI),
        "token_uri",
        what,
    )?;
    let source = format!("authorized user from {what}");
    let key = Key::new(&[
        "google-authorized-user",
        &user.client_id,
        &user.refresh_token.fingerprint(),
        endpoint.as_str(),
        scope,
    ]);
    cached(ctx, &key, source, || {
        note!(
            ctx.trace,
            "google: POST {} (refresh token grant)",
            http::redact_url(&endpoint)
        );
        // A refresh token keeps the scopes it was granted; asking for others is an error.
        let fields = [
            ("grant_type", "refresh_token"),
            ("client_id", user.client_id.as_str()),
            ("client_secret", user.client_secret.expose()),
            ("refresh_token", user.refresh_token.expose()),
        ];
        exchange(ctx, &Request::form(endpoint.clone(), &fields), what)
    })
}

/// Sends a token request and reads an OAuth2 token answer.
fn exchange(ctx: &Context, request: &Request, what: &str) -> Result<(Secret, i64)> {
    let shown = http::redact_url(&request.url);
    let response = ctx.http.send(request).map_err(|e| e.context(what))?;
    if !response.is_success() {
        let hint = match response.status {
            400 | 401 | 403 => {
                "the credentials were refused; check that the key or login is current"
            }
            _ => "Google's token endpoint failed; try again later",
        };
        return Err(Error::new(format!(
            "{what}: token endpoint {shown} answered {}{}",
            response.status,
            token::error_code(&response.body).map_or(String::new(), |c| format!(" {c}"))
        ))
        .hint(hint));
    }
    let token = parse_response(&response.body, ctx.env.now())
        .map_err(|why| Error::new(format!("{what}: token endpoint {shown} {why}")))?;
    Ok((token.token, token.expires))
}

/// Serves `key` from the cache, or runs `fetch` once across processes and stores its answer.
fn cached(
    ctx: &Context,
    key: &Key,
    source: String,
    fetch: impl FnOnce() -> Result<(Secret, i64)>,
) -> Result<AccessToken> {
    let what = format!("google token ({source})");
    let (token, expires) = ctx.cache().fill_once(key, ctx.env.now(), &what, || {
        fetch().map(|(token, expires)| (token, Some(expires)))
    })?;
    Ok(AccessToken {
        token,
        expires: expires.unwrap_or_default(),
        source,
    })
}

/// A compact JWT signed with RS256 by a PKCS#8 PEM key.
fn sign_rs256(
    pem: &Secret,
    key_id: Option<&str>,
    claims: &serde_json::Value,
) -> Result<Secret, String> {
    use rustls_pki_types::PrivatePkcs8KeyDer;
    use rustls_pki_types::pem::PemObject;

    let der = PrivatePkcs8KeyDer::from_pem_slice(pem.expose().as_bytes())
        .map_err(|_| "private_key is not a PEM PKCS#8 key".to_string())?;
    let key = ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
        .map_err(|e| format!("private_key is not a usable RSA key ({e})"))?;
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = kid.into();
    }
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let message = format!("{}.{}", b64(&header), b64(claims));
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .map_err(|_| "signing the JWT failed".to_string())?;
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
    Ok(Secret::new(format!("{message}.{signature}")))
}

/// The metadata server's default service account. Unreachable means "not on Google Cloud".
fn metadata(ctx: &Context, scopes: &[String]) -> Outcome<AccessToken> {
    if ctx
        .env
        .var(vars::NO_GCE_CHECK)
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    {
        return Outcome::Missing(format!("metadata server skipped ({})", vars::NO_GCE_CHECK));
    }
    let host = ctx
        .env
        .var(vars::GCE_METADATA_HOST)
        .unwrap_or(METADATA_HOST);
    let raw = format!(
        "http://{host}/computeMetadata/v1/instance/service-accounts/default/token?scopes={}",
        scopes.join(",")
    );
    let Ok(url) = url::Url::parse(&raw) else {
        return Outcome::Failed(Error::new(format!(
            "{} {host:?} is not a host[:port]",
            vars::GCE_METADATA_HOST
        )));
    };
    let key = Key::new(&["google-metadata", host, &scopes.join(" ")]);
    // An unreachable server is remembered, so the processes of a build probe it once, not
    // once each.
    let here = ["google-metadata", host];
    let now = ctx.env.now();
    if let Some(why) = ctx.cache().absent(&here, now) {
        return Outcome::Missing(format!("{why} (remembered)"));
    }
    let what = format!("GCE metadata server {host}");
    let mut absent = None;
    let result = cached(ctx, &key, what.clone(), || {
        let request = Request::get(url.clone())
            .header("Metadata-Flavor", "Google")
            .probe(METADATA_TIMEOUT);
        let response = match ctx.http.send(&request) {
            Ok(r) => r,
            Err(e) => {
                absent = Some(format!("no metadata server at {host} ({e})"));
                return Err(e);
            }
        };
        if !response.is_success() {
            return Err(
                Error::new(format!("{what} answered {} for a token", response.status))
                    .hint("check that the instance has a service account with these scopes"),
            );
        }
        let token = parse_response(&response.body, ctx.env.now())
            .map_err(|why| Error::new(format!("{what} {why}")))?;
        Ok((token.token, token.expires))
    });
    match (result, absent) {
        (Ok(t), _) => Outcome::Found(t),
        (Err(_), Some(why)) => {
            ctx.cache().remember_absent(&here, now, &why);
            Outcome::Missing(why)
        }
        (Err(e), None) => Outcome::Failed(e),
    }
}

#[derive(Deserialize)]
struct ConfigHelper {
    credential: GcloudCredential,
}

#[derive(Deserialize)]
struct GcloudCredential {
    access_token: Option<Secret>,
    #[serde(default)]
    token_expiry: Option<String>,
}

/// `gcloud config config-helper`: gcloud's own login, refreshed by gcloud.
fn gcloud(ctx: &Context, scope: &str) -> Outcome<AccessToken> {
    let Some(program) = ctx.env.which("gcloud") else {
        return Outcome::Missing("no gcloud on PATH".into());
    };
    // gcloud's account lives in its config; a switch of account must not reuse a token.
    let account = gcloud_config_dir(&ctx.env)
        .map(|dir| {
            let active = std::fs::read_to_string(dir.join("active_config")).unwrap_or_default();
            let active = active.trim();
            let name = if active.is_empty() { "default" } else { active };
            let config = std::fs::read_to_string(dir.join(format!("configurations/config_{name}")))
                .unwrap_or_default();
            format!("{}\0{active}\0{config}", dir.display())
        })
        .unwrap_or_default();
    let key = Key::new(&["google-gcloud", &Secret::new(account).fingerprint(), scope]);
    let what = "gcloud config config-helper";
    found_or_failed(cached(ctx, &key, what.to_string(), || {
        note!(ctx.trace, "google: running {what}");
        let out = process::run(
            ctx,
            what,
            &program,
            &["config", "config-helper", "--format=json(credential)"],
            b"",
            process::DEFAULT_TIMEOUT,
        )?;
        if !out.success() {
            return Err(out.failure().hint(
                "run `gcloud config config-helper` by hand to see why; `gcloud auth login` logs in, or set GOOGLE_APPLICATION_CREDENTIALS",
            ));
        }
        parse_config_helper(&out.stdout, ctx.env.now())
            .map_err(|why| Error::new(format!("{what} {why}")))
    }))
}

/// gcloud's answer: the token and its RFC 3339 expiry (an hour when absent). Public for the
/// fuzz harness.
pub fn parse_config_helper(stdout: &[u8], now: i64) -> Result<(Secret, i64), String> {
    let parsed: ConfigHelper = serde_json::from_slice(stdout)
        .map_err(|e| format!("printed unexpected output ({})", describe_json(&e)))?;
    let token = parsed
        .credential
        .access_token
        .filter(|t| !t.is_empty() && !has_control_character(t.expose()))
        .ok_or("printed no access token; is gcloud logged in?")?;
    let expiry = parsed
        .credential
        .token_expiry
        .as_deref()
        .and_then(parse_rfc3339)
        .unwrap_or(now + 3600);
    let lifetime = expiry - now;
    if lifetime <= 0 {
        return Err("printed an expired token".into());
    }
    Ok((token, expiry - safety_margin(lifetime)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoint_must_be_https_or_loopback_http() {
        let ok = |u: &str| endpoint(u, "token_uri", "f").map(|u| u.to_string());
        assert_eq!(
            ok("https://oauth2.googleapis.com/token").unwrap(),
            "https://oauth2.googleapis.com/token"
        );
        assert!(ok("http://127.0.0.1:9/token").is_ok());
        assert!(ok("http://localhost:9/token").is_ok());
        assert!(ok("http://evil.example/token").is_err());
        assert!(ok("file:///etc/passwd").is_err());
        assert!(ok("not a url").is_err());
    }

    #[test]
    fn jwt_is_rs256_signed_and_verifies() {
        let pem = include_str!("../../../tests/it/fixtures/google-test-service-account-key.pem");
        let claims = serde_json::json!({"iss": "a@b", "aud": "https://x/token"});
        let jwt = sign_rs256(&Secret::new(pem), Some("kid-1"), &claims).unwrap();
        let (message, signature) = jwt.expose().rsplit_once('.').unwrap();
        let (header, body) = message.split_once('.').unwrap();
        let decode = |s: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap()
        };
        let header: serde_json::Value = serde_json::from_slice(&decode(header)).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
        );
        let body: serde_json::Value = serde_json::from_slice(&decode(body)).unwrap();
        assert_eq!(body, claims);
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).unwrap();
        let pair = ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            pair.public().as_ref(),
        );
        public
            .verify(message.as_bytes(), &decode(signature))
            .unwrap();
        assert!(sign_rs256(&Secret::new("not a key"), None, &claims).is_err());
    }

    #[test]
    fn config_helper_output() {
        let now = 1_800_000_000;
        let out = br#"{"credential": {"access_token": "ya29.x", "id_token": "i", "token_expiry": "2027-01-15T09:00:00Z"}}"#;
        let (token, expires) = parse_config_helper(out, now).unwrap();
        let expiry = parse_rfc3339("2027-01-15T09:00:00Z").unwrap();
        assert_eq!(token.expose(), "ya29.x");
        assert_eq!(expires, expiry - safety_margin(expiry - now));
        let (_, expires) =
            parse_config_helper(br#"{"credential":{"access_token":"t"}}"#, now).unwrap();
        assert_eq!(expires, now + 3600 - 360);
        assert!(parse_config_helper(br#"{"credential":{}}"#, now).is_err());
        assert!(
            parse_config_helper(
                br#"{"credential":{"access_token":"t","token_expiry":"2020-01-01T00:00:00Z"}}"#,
                now
            )
            .is_err()
        );
        assert!(parse_config_helper(b"ERROR", now).is_err());
    }
}

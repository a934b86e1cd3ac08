//! Google credential files: which type a file is, and the link that serves each type.

use std::path::Path;

use super::authorized_user::{AuthorizedUser, authorized_user};
use super::oauth::AccessToken;
use super::service_account::{ServiceAccount, service_account};
use super::{external_account, impersonated};
use crate::kernel::context::Context;
use crate::kernel::error::{Error, Result, describe_json};
use crate::kernel::files;
use crate::note;
use serde::Deserialize;

#[derive(Deserialize)]
struct FileType {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

/// A credentials file: `what` names it (path and where the path came from) in every message.
pub(super) fn from_file(
    ctx: &Context,
    path: &Path,
    what: &str,
    scope: &str,
) -> Result<AccessToken> {
    let text = files::read_capped(path)
        .map_err(|e| e.context(what))?
        .ok_or_else(|| Error::new(format!("cannot read {what}: it does not exist")))?;
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

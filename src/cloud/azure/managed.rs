//! Managed identity: the App Service / Functions / Container Apps endpoint, and the instance
//! metadata service (probed for at most a second, since off Azure it leads nowhere).

use std::time::Duration;

use super::entra::{answer, read};
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::error::Error;
use crate::kernel::http::{self, Request};
use crate::kernel::outcome::Outcome;
use crate::kernel::secret::Secret;
use crate::note;

pub(super) const DEFAULT_IMDS: &str = "http://169.254.169.254";

const IMDS_PATH: &str = "/metadata/identity/oauth2/token";

const IMDS_API_VERSION: &str = "2018-02-01";

const APP_SERVICE_API_VERSION: &str = "2019-08-01";

/// Off Azure the metadata address leads nowhere; the SDKs also give up on it after a second.
const IMDS_PROBE_TIMEOUT: Duration = Duration::from_millis(1000);

/// The query both managed-identity endpoints take.
fn identity_query(
    mut url: url::Url,
    api_version: &str,
    resource: &str,
    client_id: Option<&str>,
) -> url::Url {
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("api-version", api_version);
        q.append_pair("resource", resource);
        if let Some(id) = client_id {
            q.append_pair("client_id", id);
        }
    }
    url
}

/// App Service, Functions, Container Apps: `GET {IDENTITY_ENDPOINT}` with the secret header.
pub(super) fn app_service(
    ctx: &Context,
    endpoint: &url::Url,
    header: &Secret,
    client_id: Option<&str>,
    resource: &str,
) -> Outcome<(Secret, i64)> {
    let url = identity_query(
        endpoint.clone(),
        APP_SERVICE_API_VERSION,
        resource,
        client_id,
    );
    note!(ctx.trace, "azure: GET {}", http::redact_url(&url));
    let request = Request::get(url).header("X-IDENTITY-HEADER", header.clone());
    answer(
        ctx,
        &request,
        "check that a managed identity is assigned to the app",
    )
}

/// The instance metadata service, after a short probe: off Azure it is `Missing`, quickly.
pub(super) fn imds(
    ctx: &Context,
    base: &url::Url,
    client_id: Option<&str>,
    resource: &str,
) -> Outcome<(Secret, i64)> {
    let url = match base.join(IMDS_PATH) {
        Ok(u) => u,
        Err(e) => return Outcome::Failed(Error::new(format!("invalid metadata URL: {e}"))),
    };
    let shown = http::redact_url(base);
    let absent = ["azure-imds", base.as_str()];
    let now = ctx.env.now();
    let not_here = |why: &str| {
        format!(
            "no Azure identity: {}, {} and {} are not set, and no instance metadata service at {shown} ({why})",
            vars::AZURE_CLIENT_SECRET,
            vars::AZURE_FEDERATED_TOKEN_FILE,
            vars::IDENTITY_ENDPOINT
        )
    };
    if ctx.cache().absent(&absent, now).is_some() {
        return Outcome::Missing(not_here("remembered from a recent probe"));
    }
    // Any answer, even an error, means the service is there (the SDKs probe the same way).
    note!(ctx.trace, "azure: probing {shown}");
    let probe = Request::get(url.clone()).probe(IMDS_PROBE_TIMEOUT);
    if let Err(e) = ctx.http.send(&probe) {
        note!(ctx.trace, "azure: {e}");
        ctx.cache()
            .remember_absent(&absent, now, "not reachable: not on Azure?");
        return Outcome::Missing(not_here("not reachable: not on Azure?"));
    }
    let url = identity_query(url, IMDS_API_VERSION, resource, client_id);
    note!(ctx.trace, "azure: GET {}", http::redact_url(&url));
    let request = Request::get(url).header("Metadata", "true");
    let response = match ctx.http.send(&request) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e),
    };
    // 400 is the service's "no identity assigned": nothing here, not a failure.
    if response.status == 400 {
        return Outcome::Missing(format!(
            "the instance metadata service at {shown} has no managed identity for this machine"
        ));
    }
    read(
        ctx,
        &request.url,
        response,
        "assign a managed identity to the machine, or set AZURE_CLIENT_ID to a user-assigned one",
    )
}

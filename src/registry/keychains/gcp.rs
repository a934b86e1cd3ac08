//! The `gcp` keychain: gcr.io and Artifact Registry (`*-docker.pkg.dev`) take a Google access
//! token as the password of `oauth2accesstoken` in the registry's normal token exchange.

use crate::cloud::google::{self, CLOUD_PLATFORM};
use crate::kernel::context::Context;
use crate::kernel::outcome::Outcome;
use crate::kernel::transport::host_of;
use crate::registry::{Credential, Resolved, Sourced};

/// The username Google's registries expect with an access token.
pub const USERNAME: &str = "oauth2accesstoken";

/// `gcr.io`, `*.gcr.io` and `<location>-docker.pkg.dev`, any port.
pub fn serves(registry: &str) -> bool {
    let host = host_of(registry).to_ascii_lowercase();
    host == "gcr.io" || host.ends_with(".gcr.io") || google::is_pkg_dev_host(&host, "docker")
}

pub fn lookup(ctx: &Context) -> Outcome<Resolved> {
    google::access_token(ctx, &[CLOUD_PLATFORM.to_string()]).map(|t| {
        Resolved::Credential(Sourced {
            credential: Credential::Basic {
                username: USERNAME.to_string(),
                password: t.token,
            },
            source: format!("gcp keychain ({})", t.source),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_hosts() {
        for (registry, served) in [
            ("gcr.io", true),
            ("us.gcr.io", true),
            ("EU.GCR.IO", true),
            ("gcr.io:443", true),
            ("us-docker.pkg.dev", true),
            ("europe-west1-docker.pkg.dev", true),
            ("docker.pkg.dev", false),
            ("-docker.pkg.dev", false),
            ("a.us-docker.pkg.dev", false),
            ("us-python.pkg.dev", false),
            ("evilgcr.io", false),
            ("gcr.io.evil.com", false),
            ("ghcr.io", false),
        ] {
            assert_eq!(serves(registry), served, "{registry}");
        }
    }
}

//! The AWS credential chain, shared by the ECR keychain and the `s3` helper.
//!
//! Order, as the AWS SDKs have it: environment keys; the `AWS_PROFILE` profile of the shared
//! files (static keys, `role_arn` via STS, SSO, `credential_process`); web identity
//! (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`: GitHub Actions OIDC, EKS IRSA); ECS/EKS
//! container credentials; EC2 instance metadata (IMDSv2). A source that is configured but
//! broken ends the chain with its error instead of silently handing over to the next one.
//!
//! Temporary credentials that took a request (STS, container, instance metadata) are kept in
//! the token cache under their identity, until shortly before they expire.

mod credentials;
pub mod ini;
mod metadata;
mod profile;
pub use profile::shared_files;
pub mod sign;
mod sso;
mod sts;

pub use credentials::{Credentials, endpoint_override};

use crate::kernel::context::Context;
use crate::kernel::outcome::Outcome;
use crate::note;

/// One link of the chain.
type Source = fn(&Context) -> Outcome<Credentials>;

/// The first credentials the chain finds.
pub fn credentials(ctx: &Context) -> Outcome<Credentials> {
    let sources: [(&str, Source); 5] = [
        ("environment", |ctx| credentials::from_env(&ctx.env)),
        ("profile", profile::lookup),
        ("web identity", sts::web_identity_from_env),
        ("container", metadata::container),
        ("instance metadata", metadata::instance),
    ];
    let mut tried = Vec::new();
    for (name, source) in sources {
        match source(ctx) {
            Outcome::Found(c) => {
                note!(ctx.trace, "aws credentials: {} ({name})", c.source);
                return Outcome::Found(c);
            }
            Outcome::Missing(why) => {
                note!(ctx.trace, "aws credentials: {name}: {why}");
                tried.push(format!("{name}: {why}"));
            }
            Outcome::Failed(e) => return Outcome::Failed(e),
        }
    }
    Outcome::Missing(format!("no AWS credentials ({})", tried.join("; ")))
}

//! Which credential helper docker's config would ask for a registry, found without running it:
//! a helper costs a process (0.3 s for Docker Desktop's, 0.75 s for gcloud's), so the token
//! cache is asked by this identity first (`registry::warm`).

use super::docker_config::{config_file, helper_for, helper_source, server_url};
use super::{credential_helper, docker_env};
use crate::kernel::context::Context;
use crate::registry::Located;
use crate::registry::reference::Target;

/// The helper [`docker_config::lookup`](super::docker_config::lookup) would run for `target`,
/// if it would run one. `None` otherwise: `$DOCKER_AUTH_CONFIG` answers first (cheap), there is
/// no config file, or it names no helper (a cheap `auths` entry, or a broken file that the
/// lookup reports).
pub fn locate(ctx: &Context, target: &Target) -> Option<Located> {
    let key = server_url(target);
    if docker_env::has_entry(ctx, key) {
        return None;
    }
    let (config, path) = config_file(ctx).ok()?;
    let (helper, field) = helper_for(&config, key)?;
    let program = credential_helper::program(ctx, helper).ok()?;
    let name = format!("docker config {}", path.display());
    // The file's version: any edit (a `docker login` rewrites it) is a new identity, so the
    // helper runs again.
    let version = crate::kernel::files::version(&path)?;
    Some(Located {
        source: helper_source(&name, field, helper),
        identity: [
            "docker-credential",
            &name,
            field,
            helper,
            &program.display().to_string(),
            key,
            &version,
        ]
        .join("\0"),
    })
}

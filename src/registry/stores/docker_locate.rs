//! Which credential helper docker's config would ask for a registry, found without running it:
//! a helper costs a process (0.3 s for Docker Desktop's, 0.75 s for gcloud's), so the token
//! cache is asked by this identity first (`registry::warm`).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::credential_helper;
use super::docker_config::{find_auth, helper_for, helper_source, layers, server_url};
use crate::kernel::context::Context;
use crate::kernel::env::vars;
use crate::kernel::secret::Secret;
use crate::registry::Located;
use crate::registry::reference::Target;

/// The helper [`docker_config::lookup`](super::docker_config::lookup) would run first for
/// `target`, if it would run one before any entry that holds a credential. `None` otherwise
/// (the lookup is cheap then, or broken and reports why).
pub fn locate(ctx: &Context, target: &Target) -> Option<Located> {
    let (layers, path) = layers(ctx).ok()?;
    for (config, name) in &layers {
        if let Some((helper, field)) = helper_for(config, target) {
            let program = credential_helper::program(ctx, helper).ok()?;
            // Which document the helper was named in, and that document's version: any edit
            // (a `docker login` rewrites the file) is a new identity, so the helper runs again.
            let version = if name == vars::DOCKER_AUTH_CONFIG {
                Secret::new(ctx.env.var(vars::DOCKER_AUTH_CONFIG)?).fingerprint()
            } else {
                file_version(path.as_deref()?)?
            };
            return Some(Located {
                source: helper_source(name, field, helper),
                identity: [
                    "docker-credential",
                    name,
                    field,
                    helper,
                    &program.display().to_string(),
                    server_url(target),
                    &version,
                ]
                .join("\0"),
            });
        }
        // An entry with a credential answers before any later layer's helper.
        if let Some((_, entry)) = find_auth(&config.auths, target)
            && !matches!(entry.credential(), Ok(None))
        {
            return None;
        }
    }
    None
}

/// Size, modification time and inode: what changes when a tool rewrites the file.
fn file_version(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    Some(format!(
        "{}:{}.{}:{}:{}",
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.dev(),
        meta.ino()
    ))
}

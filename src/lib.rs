//! `credential-helper`: a Bazel credential helper.
//!
//! Layers, each importing only from those above it in this list (a test keeps it so):
//! - [`kernel`]: environment, errors, secrets, deadline, processes, HTTP, cache, protocol.
//! - [`lookup`]: the config's lookup chain.
//! - [`cloud`]: AWS, Google, Azure and GitHub identities.
//! - [`registry`]: container-registry knowledge, its credential stores and keychains.
//! - [`helpers`]: what to answer for each kind of URL.
//! - [`config`], [`plan`], [`registry_host`], [`cli`], [`check`], [`docker_credential`],
//!   [`launcher`], [`setup`], [`login`]: reading the config, choosing a helper (for a URL, or for
//!   a registry named by its host), the commands (`check-config` in its own module), docker's
//!   credential protocol, the launcher files printed for a release, setting a workspace up,
//!   `login` and `logout`.

mod check;
mod cli;
mod cloud;
mod config;
mod docker_credential;
mod helpers;
mod kernel;
mod launcher;
mod login;
mod lookup;
mod plan;
mod registry;
mod registry_host;
mod setup;

pub use cli::main;
pub use kernel::env::Env;

/// The parsers, for the fuzz harness (`fuzz/`) and the integration tests that replay its
/// inputs. Not an API: everything else in the crate is internal.
#[doc(hidden)]
pub mod facade {
    pub use crate::cloud::aws::ini;
    pub use crate::cloud::{azure, google};
    pub use crate::config::{Config, Origin};
    pub use crate::helpers::netrc::file as netrc;
    pub use crate::helpers::{HelperConfig, oci};
    pub use crate::kernel::pattern::Pattern;
    pub use crate::kernel::protocol::Request;
    pub use crate::kernel::tls_roots::BUNDLES as TLS_BUNDLES;
    pub use crate::kernel::token::{self, format_rfc3339, parse_rfc3339};
    pub use crate::kernel::transport::{host_of, is_loopback_host};
    pub use crate::registry::reference::Target;
    pub use crate::registry::stores::auth_json::{Query as AuthJsonQuery, find_key};
    pub use crate::registry::stores::docker_config::{
        AuthEntry, DockerConfig, find_auth, normalize_key,
    };
    pub use crate::registry::stores::{kubernetes, mesos, rkt};
    pub use crate::registry::{challenge, host_match};
}

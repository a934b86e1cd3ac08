//! Which registry, repository and action a registry API URL is about.

use crate::kernel::transport::{host_of, is_loopback_host};

/// Docker Hub's names; all are one registry.
const DOCKER_HUB_ALIASES: &[&str] = &["docker.io", "index.docker.io", "registry-1.docker.io"];
/// The canonical Docker Hub host, as credentials are stored for it.
pub const DOCKER_HUB: &str = "index.docker.io";
/// docker's config key for Docker Hub.
pub const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

/// What a registry URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Manifest,
    Blob,
    TagList,
    /// The registry as a whole, named without a repository: docker's credential protocol and
    /// rules_img's bare-host requests ask for its credential, never for a token.
    Registry,
}

/// A request against `/v2/<repository>/...` of a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `https` or `http`, as the URI says.
    pub scheme: String,
    /// Host and non-default port as in the URI (where requests go).
    pub authority: String,
    /// Canonical registry name (`index.docker.io` for every Hub alias), with port.
    pub registry: String,
    pub repository: String,
    pub kind: ResourceKind,
}

impl Target {
    /// Parses `/v2/<name>/{manifests/<ref>,blobs/<digest>,tags/list}`; anything else on a
    /// registry host (`/v2/`, `/token`, uploads, CDN paths) is `None`.
    pub fn from_url(url: &url::Url) -> Option<Target> {
        let path = url.path().strip_prefix("/v2/")?;
        let (repository, kind) = if let Some(i) = path.rfind("/manifests/") {
            let reference = &path[i + "/manifests/".len()..];
            (
                &path[..i],
                (!reference.is_empty()).then_some(ResourceKind::Manifest)?,
            )
        } else if let Some(i) = path.rfind("/blobs/") {
            let digest = &path[i + "/blobs/".len()..];
            if digest.is_empty() || digest.starts_with("uploads") {
                return None;
            }
            (&path[..i], ResourceKind::Blob)
        } else if let Some(repo) = path.strip_suffix("/tags/list") {
            (repo, ResourceKind::TagList)
        } else {
            return None;
        };
        if !is_repository_name(repository) {
            return None;
        }
        let host = url.host_str()?.to_ascii_lowercase();
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let registry = if url.port().is_none() && DOCKER_HUB_ALIASES.contains(&host.as_str()) {
            DOCKER_HUB.to_string()
        } else {
            authority.clone()
        };
        Some(Target {
            scheme: url.scheme().to_string(),
            authority,
            registry,
            repository: repository.to_string(),
            kind,
        })
    }

    /// The registry at `scheme://authority` as a whole (no repository), Hub aliases included.
    pub fn registry(scheme: &str, authority: &str) -> Target {
        let authority = authority.to_ascii_lowercase();
        let registry = if DOCKER_HUB_ALIASES.contains(&authority.as_str()) {
            DOCKER_HUB.to_string()
        } else {
            authority.clone()
        };
        Target {
            scheme: scheme.to_string(),
            authority,
            registry,
            repository: String::new(),
            kind: ResourceKind::Registry,
        }
    }

    /// The host name alone (no port).
    pub fn hostname(&self) -> &str {
        host_of(&self.authority)
    }

    pub fn is_docker_hub(&self) -> bool {
        self.registry == DOCKER_HUB
    }

    /// True for 127.0.0.0/8, ::1 and `localhost`: the only hosts reached over plain http
    /// without `"insecure": true`.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.hostname())
    }

    /// `scheme://authority`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    /// The token scope for `actions` (`pull`, `pull,push`).
    pub fn scope(&self, actions: &str) -> String {
        format!("repository:{}:{actions}", self.repository)
    }
}

/// The distribution spec's repository name grammar: lowercase components separated by `/`.
fn is_repository_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.split('/').all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.as_bytes()[0].is_ascii_alphanumeric()
                && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(u: &str) -> Option<Target> {
        Target::from_url(&url::Url::parse(u).unwrap())
    }

    #[test]
    fn parses_registry_urls() {
        let t = target("https://ghcr.io/v2/org/sub/img/manifests/v1.2").unwrap();
        assert_eq!(
            (t.registry.as_str(), t.repository.as_str()),
            ("ghcr.io", "org/sub/img")
        );
        assert_eq!(t.kind, ResourceKind::Manifest);
        let t = target("https://registry-1.docker.io/v2/library/ubuntu/blobs/sha256:abc").unwrap();
        assert_eq!(t.registry, DOCKER_HUB);
        assert_eq!(t.authority, "registry-1.docker.io");
        assert_eq!(t.kind, ResourceKind::Blob);
        let t = target("http://127.0.0.1:5000/v2/a/tags/list").unwrap();
        assert_eq!(
            (t.registry.as_str(), t.kind),
            ("127.0.0.1:5000", ResourceKind::TagList)
        );
        assert!(t.is_loopback());
        // A repository may itself contain "manifests" as a component.
        let t = target("https://r.io/v2/x/manifests/y/manifests/latest").unwrap();
        assert_eq!(t.repository, "x/manifests/y");
    }

    #[test]
    fn other_paths_are_not_targets() {
        for u in [
            "https://ghcr.io/v2/",
            "https://ghcr.io/token?scope=x",
            "https://ghcr.io/v2/a/blobs/uploads/123",
            "https://ghcr.io/v2/A/manifests/x",
            "https://ghcr.io/v2/a/manifests/",
            "https://ghcr.io/v2//manifests/x",
            "https://cdn.example.com/sha256/abc",
        ] {
            assert_eq!(target(u), None, "{u}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for (h, want) in [
            ("localhost", true),
            ("127.0.0.1", true),
            ("127.9.9.9", true),
            ("[::1]", true),
            ("10.0.0.1", false),
            ("example.com", false),
        ] {
            assert_eq!(is_loopback_host(h), want, "{h}");
        }
        assert_eq!(host_of("[::1]:5000"), "::1");
        assert_eq!(host_of("a.b:5000"), "a.b");
    }
}

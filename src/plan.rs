//! The pure planning step: request URL + config + environment → what to do. No I/O happens
//! here, so every routing decision is unit-testable.

use crate::config::Origin;
use crate::config::{Config, Entry};
use crate::helpers::{HelperConfig, oci};
use crate::kernel::env::Env;
use crate::kernel::env::vars;
use crate::kernel::error::Result;

/// What `get` will do for one URL.
#[derive(Debug)]
pub struct Plan<'c> {
    /// The entry that matched, if any.
    pub entry: Option<&'c Entry>,
    pub action: Action<'c>,
}

#[derive(Debug)]
pub enum Action<'c> {
    /// Answer `{"headers":{}}`, for the reason given.
    NoHeaders(String),
    /// Run a helper that needs no planning of its own.
    Run(&'c HelperConfig),
    Oci(oci::Plan<'c>),
}

pub fn plan<'c>(
    url: &url::Url,
    config: &'c Config,
    guessed: &'c oci::Config,
    env: &Env,
) -> Result<Plan<'c>> {
    let Some(entry) = config.find(url) else {
        // Without a config file, unknown hosts may still be registries, if the user says so.
        if config.origin == Origin::Defaults
            && env.var(vars::GUESS_OCI_REGISTRY) == Some("1")
            && let Some(p) = oci::plan(url, guessed)?
        {
            return Ok(Plan {
                entry: None,
                action: Action::Oci(p),
            });
        }
        return Ok(Plan {
            entry: None,
            action: Action::NoHeaders(format!("no entry in {} matches", config.origin)),
        });
    };
    let action = match &entry.helper {
        HelperConfig::Null => Action::NoHeaders("the null helper sends no headers".into()),
        HelperConfig::Oci(c) => match oci::plan(url, c)? {
            Some(p) => Action::Oci(p),
            None => Action::NoHeaders("not a registry manifest, blob or tag-list URL".into()),
        },
        other => Action::Run(other),
    };
    Ok(Plan {
        entry: Some(entry),
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::env::test_env;

    #[test]
    fn unmatched_and_null_send_nothing() {
        let config = Config::parse(
            r#"{"urls":[{"host":"a.com","helper":"null"},{"host":"b.com","helper":"header","config":{"header_name":"x","lookup_chain":[{"source":"env","name":"K"}]}}]}"#,
            Origin::Defaults,
        )
        .unwrap();
        let env = test_env(&[]);
        let guessed = oci::Config::default();
        let p = |u: &str| plan(&url::Url::parse(u).unwrap(), &config, &guessed, &env).unwrap();
        assert!(matches!(p("https://c.com/").action, Action::NoHeaders(_)));
        assert!(matches!(p("https://a.com/").action, Action::NoHeaders(_)));
        assert!(matches!(p("https://b.com:443/x").action, Action::Run(_)));
    }

    #[test]
    fn built_in_defaults_route_well_known_hosts() {
        let config = Config::defaults().unwrap();
        let guessed = oci::Config::default();
        let env = test_env(&[]);
        let helper = |u: &str| -> &'static str {
            let url = url::Url::parse(u).unwrap();
            match plan(&url, &config, &guessed, &env).unwrap().action {
                Action::NoHeaders(_) => "none",
                Action::Run(h) => h.name(),
                Action::Oci(_) => "oci",
            }
        };
        let table = [
            (
                "https://index.docker.io/v2/library/ubuntu/manifests/22.04",
                "oci",
            ),
            (
                "https://registry-1.docker.io/v2/library/ubuntu/blobs/sha256:ab",
                "oci",
            ),
            ("https://ghcr.io/v2/org/img/manifests/v1", "oci"),
            ("https://gcr.io/v2/p/img/manifests/v1", "oci"),
            ("https://us-docker.pkg.dev/v2/p/r/img/manifests/v1", "oci"),
            (
                "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/img/manifests/v1",
                "oci",
            ),
            ("https://myreg.azurecr.io/v2/img/manifests/v1", "oci"),
            ("https://myreg.azurecr.cn/v2/img/manifests/v1", "oci"),
            ("https://myreg.azurecr.de/v2/img/manifests/v1", "oci"),
            ("https://myreg.azurecr.us/v2/img/manifests/v1", "oci"),
            (
                "https://acct.blob.core.windows.net:443/bazel-cache/ac/0123",
                "azblob",
            ),
            (
                "https://acct.blob.core.windows.net/c/b?sv=1&sig=x",
                "azblob",
            ),
            ("https://quay.io/v2/ns/img/manifests/v1", "oci"),
            ("https://public.ecr.aws/v2/ns/img/manifests/v1", "oci"),
            ("https://ghcr.io/token?scope=x", "none"),
            ("https://storage.googleapis.com:443/my-cache/ac/0a1b", "gcs"),
            ("https://storage.googleapis.com/bucket/file.tgz", "gcs"),
            ("https://bucket.storage.googleapis.com/file.tgz", "gcs"),
            ("https://us-python.pkg.dev/p/r/simple/pkg/", "gar"),
            (
                "https://europe-west1-maven.pkg.dev/p/r/com/x/1/x.jar",
                "gar",
            ),
            ("https://us-npm.pkg.dev/p/r/pkg", "gar"),
            ("https://us-go.pkg.dev/p/r/mod/@v/list", "gar"),
            ("https://us-apt.pkg.dev/projects/p/dists/r/InRelease", "gar"),
            (
                "https://europe-west1-docker.pkg.dev/v2/p/r/img/manifests/v1",
                "oci",
            ),
            ("https://us.gcr.io/v2/p/img/blobs/sha256:ab", "oci"),
            ("https://storage.googleapis.com.evil.example/x", "none"),
            (
                "https://remote.buildbuddy.io/build.bazel.remote.execution.v2.Execution",
                "header",
            ),
            ("https://example.com/v2/x/manifests/1", "none"),
            (
                "https://github.com/bazelbuild/bazel/releases/download/7.0.0/x",
                "github",
            ),
            ("https://api.github.com/repos/o/r/tarball/v1", "github"),
            ("https://raw.githubusercontent.com/o/r/main/BUILD", "github"),
            (
                "https://objects.githubusercontent.com/github-production-release-asset-2e65be/1",
                "none",
            ),
            (
                "https://bcr.bazel.build/modules/rules_go/0.50.0/MODULE.bazel",
                "none",
            ),
            ("https://mirror.bazel.build/x.tgz", "none"),
        ];
        for (url, want) in table {
            assert_eq!(helper(url), want, "{url}");
        }
    }

    #[test]
    fn ghcr_defaults_read_github_tokens() {
        let config = Config::defaults().unwrap();
        let entry = config
            .find(&url::Url::parse("https://ghcr.io/v2/a/manifests/1").unwrap())
            .unwrap();
        let HelperConfig::Oci(c) = &entry.helper else {
            panic!("ghcr.io must use the oci helper")
        };
        let names: Vec<_> = c.lookup_chain.0.iter().map(|s| s.describe()).collect();
        assert_eq!(
            names[..4],
            [
                "env GHCR_TOKEN",
                "env GH_TOKEN",
                "env GITHUB_TOKEN",
                "env GITHUB_ACTOR"
            ]
        );
    }

    #[test]
    fn guessing_registries_is_opt_in() {
        let config = Config::defaults().unwrap();
        let guessed = oci::Config::default();
        let url = url::Url::parse("https://registry.corp.example/v2/a/manifests/1").unwrap();
        let off = plan(&url, &config, &guessed, &test_env(&[])).unwrap();
        assert!(matches!(off.action, Action::NoHeaders(_)));
        let env = test_env(&[(vars::GUESS_OCI_REGISTRY, "1")]);
        let on = plan(&url, &config, &guessed, &env).unwrap();
        assert!(matches!(on.action, Action::Oci(_)));
        let other = url::Url::parse("https://registry.corp.example/file.tgz").unwrap();
        let other = plan(&other, &config, &guessed, &env).unwrap();
        assert!(matches!(other.action, Action::NoHeaders(_)));
    }
}

//! Routing decisions, table-driven.

use super::*;
use crate::config::Origin;
use crate::kernel::env::test_env;

fn plan_uri<'c>(
    uri: &str,
    config: &'c Config,
    guessed: &'c oci::Config,
    env: &Env,
) -> Result<Plan<'c>> {
    let url = url::Url::parse(uri).unwrap();
    plan(
        &url,
        crate::kernel::protocol::raw_path(uri),
        config,
        guessed,
        env,
        &|h| h == "saved.example" || h == "saved-reg.example:5000",
    )
}

#[test]
fn unmatched_and_null_send_nothing() {
    let config = Config::parse(
        r#"{"urls":[{"host":"a.com","helper":"null"},{"host":"b.com","helper":"header","config":{"header_name":"x","lookup_chain":[{"source":"env","name":"K"}]}}]}"#,
        Origin::Defaults,
    )
    .unwrap();
    let env = test_env(&[]);
    let guessed = oci::Config::default();
    let p = |u: &str| plan_uri(u, &config, &guessed, &env).unwrap();
    assert!(matches!(p("https://c.com/").action, Action::NoHeaders(_)));
    assert!(matches!(p("https://a.com/").action, Action::NoHeaders(_)));
    assert!(matches!(p("https://b.com:443/x").action, Action::Run(_)));
}

#[test]
fn a_saved_login_answers_hosts_no_entry_matches() {
    let (config, guessed, env) = (
        Config::defaults().unwrap(),
        oci::Config::default(),
        test_env(&[]),
    );
    let action = |u: &str| plan_uri(u, &config, &guessed, &env).unwrap().action;
    assert!(
        matches!(action("https://SAVED.example:443/x"), Action::Login(h) if h == "saved.example")
    );
    assert!(matches!(
        action("https://saved-reg.example:5000/v2/a/manifests/1"),
        Action::Oci(_)
    ));
    assert!(matches!(
        action("https://other.example/v2/a/manifests/1"),
        Action::NoHeaders(_)
    ));
    let http = action("http://saved.example/x");
    assert!(matches!(http, Action::NoHeaders(w) if w.contains("not sent over plain http")));
    // An entry that matches wins.
    assert!(matches!(
        action("https://ghcr.io/v2/o/i/manifests/1"),
        Action::Oci(_)
    ));
}

#[test]
fn built_in_defaults_route_well_known_hosts() {
    let config = Config::defaults().unwrap();
    let guessed = oci::Config::default();
    let env = test_env(&[]);
    let helper = |u: &str| -> &'static str {
        match plan_uri(u, &config, &guessed, &env).unwrap().action {
            Action::NoHeaders(_) => "none",
            Action::Run(h) => h.name(),
            Action::Oci(_) => "oci",
            Action::Login(_) => "login",
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
        // A SAS URL is its own credential: the plan answers it without headers.
        ("https://acct.blob.core.windows.net/c/b?sv=1&sig=x", "none"),
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
        .find(
            &url::Url::parse("https://ghcr.io/v2/a/manifests/1").unwrap(),
            "/v2/a/manifests/1",
        )
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
    let url = "https://registry.corp.example/v2/a/manifests/1";
    let off = plan_uri(url, &config, &guessed, &test_env(&[])).unwrap();
    assert!(matches!(off.action, Action::NoHeaders(_)));
    let env = test_env(&[(vars::GUESS_OCI_REGISTRY, "1")]);
    let on = plan_uri(url, &config, &guessed, &env).unwrap();
    assert!(matches!(on.action, Action::Oci(_)));
    let other = "https://registry.corp.example/file.tgz";
    let other = plan_uri(other, &config, &guessed, &env).unwrap();
    assert!(matches!(other.action, Action::NoHeaders(_)));
}

#[test]
fn hosts_the_environment_keychain_names_are_registries() {
    let defaults = Config::defaults().unwrap();
    let own = Config::parse(
        r#"{"urls":[{"host":"a.example","helper":"null"}]}"#,
        Origin::File("c.json".into()),
    )
    .unwrap();
    let extending = Config::parse(
        r#"{"defaults":"extend","urls":[{"host":"a.example","helper":"null"}]}"#,
        Origin::File("c.json".into()),
    )
    .unwrap();
    let guessed = oci::Config::default();
    let env = test_env(&[
        ("IMGPKG_REGISTRY_HOSTNAME_0", "reg.corp.example:5000/team"),
        ("IMGPKG_REGISTRY_USERNAME_0", "u"),
        ("IMGPKG_REGISTRY_PASSWORD_0", "p"),
    ]);
    let oci = |c: &Config, u: &str| {
        matches!(
            plan_uri(u, c, &guessed, &env).unwrap().action,
            Action::Oci(_)
        )
    };
    // (url, routed with the defaults in force)
    for (u, want) in [
        ("https://reg.corp.example:5000/v2/team/a/manifests/1", true),
        (
            "https://reg.corp.example:5000/v2/other/blobs/sha256:ab",
            true,
        ),
        ("https://reg.corp.example:5000/file.tgz", false),
        ("https://reg.corp.example:5000/v2/", false),
        ("https://reg.corp.example/v2/team/a/manifests/1", false),
        ("https://x.corp.example:5000/v2/team/a/manifests/1", false),
    ] {
        assert_eq!(oci(&defaults, u), want, "{u}");
        assert_eq!(oci(&extending, u), want, "{u}");
        assert!(
            !oci(&own, u),
            "a replacing config routes only its entries: {u}"
        );
    }
    let broken = test_env(&[("IMGPKG_REGISTRY_HOSTNAME", "http://[::1]:namedport")]);
    let u = "https://x.example/v2/a/manifests/1";
    assert!(plan_uri(u, &defaults, &guessed, &broken).is_err());
    // Only registry API URLs consult the keychain.
    let other = plan_uri("https://x.example/file.tgz", &defaults, &guessed, &broken);
    assert!(matches!(other.unwrap().action, Action::NoHeaders(_)));
}

#[test]
fn plain_http_is_refused_before_any_helper_runs() {
    let config = Config::parse(
        r#"{"urls":[
            {"host":"null.example","helper":"null"},
            {"host":"open.example","path":"/public/*","helper":"null"},
            {"host":"lan.example","helper":"header","config":{"header_name":"x","insecure":true,"lookup_chain":[{"source":"env","name":"K"}]}},
            {"host":"reg.example","helper":"oci"},
            {"host":"*","helper":"header","config":{"header_name":"x","lookup_chain":[{"source":"env","name":"K"}]}}
        ]}"#,
        Origin::Defaults,
    )
    .unwrap();
    let defaults = Config::defaults().unwrap();
    let guessed = oci::Config::default();
    fn action<'c>(c: &'c Config, u: &str, g: &'c oci::Config) -> Result<Action<'c>> {
        plan_uri(u, c, g, &test_env(&[])).map(|p| p.action)
    }
    // Nothing to send: no refusal.
    for u in [
        "http://null.example/x",
        "http://reg.example/v2/",
        "http://reg.example/file.tgz",
    ] {
        assert!(
            matches!(action(&config, u, &guessed), Ok(Action::NoHeaders(_))),
            "{u}"
        );
    }
    for u in [
        "http://objects.githubusercontent.com/x",
        "http://b.s3.amazonaws.com/k?X-Amz-Signature=a",
        "http://acct.blob.core.windows.net/c/b?sig=a",
        "http://storage.googleapis.com/b/o?X-Goog-Signature=a",
        "http://example.com/unmatched",
    ] {
        assert!(
            matches!(action(&defaults, u, &guessed), Ok(Action::NoHeaders(_))),
            "{u}"
        );
    }
    assert!(matches!(
        action(&config, "http://lan.example/x", &guessed),
        Ok(Action::Run(_))
    ));
    assert!(matches!(
        action(&config, "http://127.0.0.1:8080/x", &guessed),
        Ok(Action::Run(_))
    ));
    assert!(matches!(
        action(&config, "http://[::1]:8080/x", &guessed),
        Ok(Action::Run(_))
    ));
    let refused = |c: &Config, u: &str| match action(c, u, &guessed) {
        Err(e) => e.to_string(),
        Ok(a) => panic!("{u}: {a:?}"),
    };
    let err = refused(&config, "http://cache.example/x");
    assert!(
        err.starts_with("refusing to send header credentials for cache.example over http://"),
        "{err}"
    );
    assert!(err.contains("\"insecure\": true"), "{err}");
    // The dot segments make `/public/*` skip, so the catch-all entry (and its rule) applies.
    refused(&config, "http://open.example/public/../x");
    refused(&config, "http://reg.example/v2/a/manifests/1");
    for u in [
        "http://github.com/o/r/releases/download/v1/x",
        "http://storage.googleapis.com/b/o",
        "http://us-python.pkg.dev/p/r/simple/",
        "http://b.s3.us-east-1.amazonaws.com/k",
        "http://acct.blob.core.windows.net/c/b",
        "http://remote.buildbuddy.io/x",
    ] {
        let err = refused(&defaults, u);
        assert!(err.starts_with("refusing to send"), "{u}: {err}");
    }
}

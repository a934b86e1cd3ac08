//! Azure through the binary: the Entra ID token chain (client secret, workload identity, App
//! Service and IMDS managed identity), the azblob helper and the azure keychain's ACR exchange.
//!
//! Every endpoint is a local server reached through the variables the Azure SDKs honour:
//! `AZURE_AUTHORITY_HOST`, `IDENTITY_ENDPOINT`, `AZURE_POD_IDENTITY_AUTHORITY_HOST` (IMDS). A
//! fake ACR registry keeps its real-looking name (`myreg.azurecr.io`, which the keychain
//! requires) and is reached over plain http through `HTTP_PROXY`; its entry says
//! `"insecure": true`, and `NO_PROXY=127.0.0.1` keeps the other fakes direct.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::http_server::{Request, Response, TestServer, value};
use crate::support::{Answer, Bazel};

const TENANT: &str = "tenant-1";
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "CANARY-azure-client-secret";
const BLOB: &str = "https://acct.blob.core.windows.net/bazel-cache/ac/0123";
const REGISTRY: &str = "myreg.azurecr.io";

/// An address where nothing listens: an IMDS that is not there, answered at once.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// `az` as it answers when nobody is logged in. First on PATH, ahead of any real one: no test
/// reaches this machine's own Azure login.
const AZ_LOGGED_OUT: &str = "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1";

/// A fresh sandbox that can never reach the real metadata address or the real `az`.
fn sandbox() -> Bazel {
    let mut bazel = Bazel::new();
    bazel.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", closed_port());
    bazel.script("az", AZ_LOGGED_OUT);
    bazel
}

fn with_client_secret(bazel: &mut Bazel, authority: &TestServer) {
    bazel
        .env("AZURE_AUTHORITY_HOST", authority.url())
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .env("AZURE_CLIENT_SECRET", SECRET);
}

/// Entra ID's token endpoint: `<token>` for every well-formed client-credentials request.
fn authority(token: &'static str) -> TestServer {
    TestServer::start(move |req| {
        let form = req.form();
        if req.method == "POST"
            && req.path == format!("/{TENANT}/oauth2/v2.0/token")
            && value(&form, "grant_type") == Some("client_credentials")
        {
            Response::json(
                200,
                &serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
            )
        } else {
            Response::json(400, &serde_json::json!({"error": "invalid_request"}))
        }
    })
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `expires` is the token's lifetime minus the 10 % safety margin, give or take the test's time.
fn assert_expires_in(answer: &crate::support::Parsed, lifetime: i64) {
    let expires = answer.expires_at().expect("an expires").unix_timestamp();
    let want = now() + lifetime - (lifetime / 10).max(10);
    assert!(
        (expires - want).abs() <= 5,
        "expires {expires}, want ~{want}"
    );
}

fn assert_storage_answer(out: &Answer, token: &str) -> crate::support::Parsed {
    let answer = out.success();
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {token}").as_str()),
        "{out}"
    );
    assert_eq!(answer.header("x-ms-version"), Some("2023-11-03"));
    answer
}

#[test]
fn azblob_with_a_client_secret_sends_bearer_version_and_expires() {
    let authority = authority("storage-token");
    let mut bazel = sandbox();
    with_client_secret(&mut bazel, &authority);
    // No config file: the built-in defaults route *.blob.core.windows.net to azblob.
    let answer = assert_storage_answer(&bazel.get(BLOB), "storage-token");
    assert_expires_in(&answer, 3599);
    let sent = &authority.requests()[0];
    let form = sent.form();
    assert_eq!(value(&form, "grant_type"), Some("client_credentials"));
    assert_eq!(value(&form, "client_id"), Some(CLIENT_ID));
    assert_eq!(value(&form, "client_secret"), Some(SECRET));
    assert_eq!(
        value(&form, "scope"),
        Some("https://storage.azure.com/.default")
    );

    // Bazel's HTTP cache sends the port; a second process is answered from the cache.
    let again = bazel.get("https://acct.blob.core.windows.net:443/bazel-cache/cas/ab");
    assert_eq!(assert_storage_answer(&again, "storage-token"), answer);
    assert_eq!(
        authority.count(),
        1,
        "the second get made no Entra ID request"
    );

    // The version is configurable.
    bazel.config(
        r#"{"urls":[{"host":"*.blob.core.windows.net","helper":"azblob","config":{"x_ms_version":"2021-08-06"}}]}"#,
    );
    let answer = bazel.get(BLOB).success();
    assert_eq!(answer.header("x-ms-version"), Some("2021-08-06"));
}

#[test]
fn workload_identity_sends_the_federated_token_as_client_assertion() {
    let authority = authority("federated-storage-token");
    let mut bazel = sandbox();
    let file = bazel.write(
        "var/run/secrets/azure/tokens/azure-identity-token",
        "eyJ.federated.jwt\n",
    );
    bazel
        .env("AZURE_AUTHORITY_HOST", authority.url())
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .env("AZURE_FEDERATED_TOKEN_FILE", &file);
    assert_storage_answer(&bazel.get(BLOB), "federated-storage-token");
    let form = authority.requests()[0].form();
    assert_eq!(value(&form, "client_id"), Some(CLIENT_ID));
    assert_eq!(
        value(&form, "client_assertion_type"),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert_eq!(value(&form, "client_assertion"), Some("eyJ.federated.jwt"));
    assert_eq!(value(&form, "client_secret"), None);
}

#[test]
fn app_service_managed_identity_sends_its_header_and_query() {
    let expires_on = now() + 3600;
    let endpoint = TestServer::start(move |req: &Request| {
        if req.header("X-IDENTITY-HEADER") == Some("identity-header-value") {
            Response::json(
                200,
                &serde_json::json!({"access_token": "app-service-token", "expires_on": expires_on.to_string(), "resource": "https://storage.azure.com", "token_type": "Bearer"}),
            )
        } else {
            Response::new(401)
        }
    });
    let mut bazel = sandbox();
    bazel
        .env("IDENTITY_ENDPOINT", format!("{}/msi/token", endpoint.url()))
        .env("IDENTITY_HEADER", "identity-header-value")
        .env("AZURE_CLIENT_ID", CLIENT_ID);
    let answer = assert_storage_answer(&bazel.get(BLOB), "app-service-token");
    assert_expires_in(&answer, 3600);
    let sent = &endpoint.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path_only()),
        ("GET", "/msi/token")
    );
    let query = sent.query();
    assert_eq!(value(&query, "api-version"), Some("2019-08-01"));
    assert_eq!(value(&query, "resource"), Some("https://storage.azure.com"));
    assert_eq!(value(&query, "client_id"), Some(CLIENT_ID), "user-assigned");
}

#[test]
fn imds_managed_identity_is_asked_with_metadata_true() {
    let imds = TestServer::start(|req: &Request| {
        if req.header("Metadata") != Some("true") {
            // What the real service says to a request without the header (the probe).
            return Response::json(
                400,
                &serde_json::json!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
            );
        }
        Response::json(
            200,
            &serde_json::json!({"access_token": "imds-token", "expires_in": "3599", "expires_on": "1", "token_type": "Bearer"}),
        )
    });
    let mut bazel = Bazel::new();
    bazel.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.url());
    let answer = assert_storage_answer(&bazel.get(BLOB), "imds-token");
    assert_expires_in(&answer, 3599);
    let requests = imds.requests();
    assert_eq!(requests.len(), 2, "a probe, then the token request");
    let token = &requests[1];
    assert_eq!(token.path_only(), "/metadata/identity/oauth2/token");
    let query = token.query();
    assert_eq!(value(&query, "api-version"), Some("2018-02-01"));
    assert_eq!(value(&query, "resource"), Some("https://storage.azure.com"));
    assert_eq!(value(&query, "client_id"), None, "system-assigned");

    bazel.get(BLOB).success();
    assert_eq!(imds.count(), 2, "the second get made no request");
}

#[test]
fn off_azure_the_metadata_probe_fails_fast() {
    // A metadata address that accepts and never answers (a black hole), and one that refuses.
    let hanging = TestServer::start(|_| Response::hang());
    for (imds, what) in [(hanging.url(), "hanging"), (closed_port(), "closed")] {
        let mut bazel = Bazel::new();
        bazel.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &imds);
        bazel.script("az", AZ_LOGGED_OUT);
        let started = Instant::now();
        let err = bazel.get(BLOB).failure();
        let took = started.elapsed();
        eprintln!("{what} metadata service: failed in {took:?}");
        assert!(took < Duration::from_millis(2500), "{what}: took {took:?}");
        assert!(
            err.contains("azblob: no Azure credential for acct.blob.core.windows.net"),
            "{err}"
        );
        assert!(
            err.contains("not on Azure?") && err.contains("AZURE_CLIENT_SECRET"),
            "{err}"
        );
    }
    assert_eq!(hanging.count(), 1, "one probe, no retry");
}

/// A developer's `az login`, off Azure: `az account get-access-token` gives the token, once per
/// login and resource; a logged-out `az` makes the keychain step aside, once a minute at most.
#[test]
fn off_azure_the_azure_cli_login_is_used() {
    let mut bazel = sandbox();
    let runs = bazel.write("az-runs", "");
    let expires_on = now() + 3600;
    bazel.script(
        "az",
        &format!(
            r#"echo "$@" >> '{runs}'
[ "$*" = "account get-access-token --output json --resource https://storage.azure.com" ] || exit 2
echo '{{"accessToken": "cli-token", "expiresOn": "2026-11-23 14:00:00.000000", "expires_on": {expires_on}, "subscription": "sub", "tenant": "{TENANT}", "tokenType": "Bearer"}}'"#,
            runs = runs.display()
        ),
    );
    bazel.write(
        "home/.azure/azureProfile.json",
        r#"{"subscriptions":[{"user":{"name":"a@example.com"}}]}"#,
    );
    let answer = assert_storage_answer(&bazel.get(BLOB), "cli-token");
    assert_expires_in(&answer, 3600);
    let count = || std::fs::read_to_string(&runs).unwrap().lines().count();
    assert_eq!(count(), 1);
    // Cached: a second process does not run az.
    assert_storage_answer(&bazel.get(BLOB), "cli-token");
    assert_eq!(count(), 1);
    // Another login is another account: az runs again.
    bazel.write(
        "home/.azure/azureProfile.json",
        r#"{"subscriptions":[{"user":{"name":"b@example.com"}}]}"#,
    );
    assert_storage_answer(&bazel.get(BLOB), "cli-token");
    assert_eq!(count(), 2);
    // AZURE_TENANT_ID picks the tenant.
    bazel.env("AZURE_TENANT_ID", TENANT);
    let out = bazel.get(BLOB).failure();
    assert!(
        out.contains("az account get-access-token failed with exit status 2"),
        "{out}"
    );
    assert!(
        std::fs::read_to_string(&runs)
            .unwrap()
            .ends_with(&format!("--tenant {TENANT}\n")),
        "az was asked for the tenant"
    );

    // Logged out: the error says what to do, and is remembered for the next process.
    let bazel = sandbox();
    let runs = bazel.write("az-runs", "");
    bazel.script(
        "az",
        &format!("echo run >> '{}'\n{AZ_LOGGED_OUT}", runs.display()),
    );
    let err = bazel.get(BLOB).failure();
    assert!(
        err.contains("not on Azure?") && err.contains("run `az login`"),
        "{err}"
    );
    let err = bazel.get(BLOB).failure();
    assert!(err.contains("remembered"), "{err}");
    assert_eq!(std::fs::read_to_string(&runs).unwrap().lines().count(), 1);
}

#[test]
fn sas_urls_get_no_headers_and_no_network() {
    let authority = authority("unused");
    let imds = TestServer::start(|_| Response::new(500));
    let mut bazel = Bazel::new();
    with_client_secret(&mut bazel, &authority);
    bazel.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.url());
    let out = bazel.get(&format!(
        "{BLOB}?sv=2022-11-02&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=c2lnbmF0dXJl"
    ));
    assert!(out.success().headers.is_empty(), "{out}");
    assert_eq!((authority.count(), imds.count()), (0, 0));
}

#[test]
fn a_refused_secret_names_the_source_and_status_never_the_secret() {
    let authority = TestServer::start(|_| {
        Response::json(
            401,
            &serde_json::json!({"error": "invalid_client", "error_description": format!("AADSTS7000215: Invalid client secret provided: {SECRET}")}),
        )
    });
    let mut bazel = sandbox();
    with_client_secret(&mut bazel, &authority);
    let err = bazel.get(BLOB).failure();
    for want in [
        "azblob",
        "client secret of AZURE_CLIENT_ID 11111111-2222-3333-4444-555555555555 (tenant tenant-1)",
        "answered 401 (invalid_client AADSTS7000215)",
        "check AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    assert!(!err.contains(SECRET));
    // Not in the debug log either.
    bazel.env("CREDENTIAL_HELPER_LOG", "debug");
    let out = bazel.get(BLOB);
    assert!(out.stderr.contains("answered 401"), "{out}");
    assert!(
        !out.stderr.contains(SECRET) && !out.stdout.contains(SECRET),
        "{out}"
    );

    // The same through the azure keychain, whose name the error carries.
    let registry = AcrFake::start();
    let mut bazel = registry.bazel();
    with_client_secret(&mut bazel, &authority);
    let out = bazel.get(&registry.manifest_uri());
    let err = out.failure();
    assert!(
        err.contains(&format!(
            "no credential for {REGISTRY}: azure keychain: client secret of AZURE_CLIENT_ID"
        )) && err.contains("answered 401"),
        "{err}"
    );
    assert!(!out.stderr.contains(SECRET), "{out}");
    assert_eq!(registry.server.count(), 0, "nothing reached the registry");
}

/// A fake ACR: `/v2/` challenges for its own `/oauth2/token`; `/oauth2/exchange` trades the
/// expected Entra ID token for a refresh token; `/oauth2/token` trades that for an access token.
struct AcrFake {
    server: TestServer,
}

const AAD_ARM_TOKEN: &str = "aad-arm-token";
const ACR_REFRESH: &str = "acr-refresh-token";
const ACR_ACCESS: &str = "acr-access-token";

impl AcrFake {
    fn start() -> AcrFake {
        let base = format!("http://{REGISTRY}");
        let server = TestServer::start(move |req: &Request| {
            // Through the proxy, the request target is the absolute URL.
            let path = req.path_only().strip_prefix(base.as_str()).unwrap_or("?");
            let form = req.form();
            let field = |k: &str| value(&form, k);
            match (req.method.as_str(), path) {
                ("GET", "/v2/") => Response::new(401).header(
                    "WWW-Authenticate",
                    &format!(r#"Bearer realm="{base}/oauth2/token",service="{REGISTRY}""#),
                ),
                ("POST", "/oauth2/exchange")
                    if field("grant_type") == Some("access_token")
                        && field("service") == Some(REGISTRY)
                        && field("tenant") == Some(TENANT)
                        && field("access_token") == Some(AAD_ARM_TOKEN) =>
                {
                    Response::json(200, &serde_json::json!({"refresh_token": ACR_REFRESH}))
                }
                ("POST", "/oauth2/token")
                    if field("grant_type") == Some("refresh_token")
                        && field("refresh_token") == Some(ACR_REFRESH)
                        && field("service") == Some(REGISTRY)
                        && field("scope") == Some("repository:team/app:pull") =>
                {
                    Response::json(
                        200,
                        &serde_json::json!({"access_token": ACR_ACCESS, "expires_in": 600}),
                    )
                }
                _ => Response::json(
                    401,
                    &serde_json::json!({"errors": [{"code": "UNAUTHORIZED"}]}),
                ),
            }
        });
        AcrFake { server }
    }

    fn manifest_uri(&self) -> String {
        format!("http://{REGISTRY}/v2/team/app/manifests/v1")
    }

    /// A sandbox whose plain-http requests go to this fake, with the keychain on.
    fn bazel(&self) -> Bazel {
        let mut bazel = sandbox();
        bazel
            .config(r#"{"urls":[{"host":"*.azurecr.io","helper":"oci","config":{"insecure":true,"keychains":["azure"]}}]}"#)
            .env("HTTP_PROXY", self.server.url())
            .env("NO_PROXY", "127.0.0.1");
        bazel
    }

    fn paths(&self) -> Vec<String> {
        self.server
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path_only()))
            .collect()
    }
}

#[test]
fn acr_exchange_end_to_end_through_the_keychain() {
    let authority = authority(AAD_ARM_TOKEN);
    let registry = AcrFake::start();
    let mut bazel = registry.bazel();
    with_client_secret(&mut bazel, &authority);
    let out = bazel.get(&registry.manifest_uri());
    let answer = out.success();
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {ACR_ACCESS}").as_str()),
        "{out}"
    );
    assert!(answer.header("Accept").is_some());
    assert_expires_in(&answer, 600);
    let form = authority.requests()[0].form();
    assert_eq!(
        value(&form, "scope"),
        Some("https://management.azure.com/.default"),
        "ACR takes an Azure Resource Manager token"
    );
    let base = format!("http://{REGISTRY}");
    assert_eq!(
        registry.paths(),
        [
            format!("POST {base}/oauth2/exchange"),
            format!("GET {base}/v2/"),
            format!("POST {base}/oauth2/token"),
        ]
    );

    // A second process: the Entra token, the refresh token and the access token are cached.
    let again = bazel.get(&registry.manifest_uri()).success();
    assert_eq!(again, answer);
    assert_eq!((authority.count(), registry.server.count()), (1, 3));

    // imgpkg's name for the keychain, from the environment, in a fresh sandbox.
    let mut bazel = sandbox();
    bazel
        .config(r#"{"urls":[{"host":"*.azurecr.io","helper":"oci","config":{"insecure":true}}]}"#)
        .env("HTTP_PROXY", registry.server.url())
        .env("NO_PROXY", "127.0.0.1")
        .env("IMGPKG_ACTIVE_KEYCHAINS", "aks");
    with_client_secret(&mut bazel, &authority);
    let out = bazel.get(&registry.manifest_uri());
    assert_eq!(
        out.success().header("Authorization"),
        answer.header("Authorization"),
        "{out}"
    );
}

#[test]
fn without_an_azure_identity_the_keychain_steps_aside_for_docker_config() {
    // `az acr login` stores the refresh token in docker's config with the all-zero username.
    let registry = AcrFake::start();
    let bazel = registry.bazel();
    let auth = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "00000000-0000-0000-0000-000000000000:",
    );
    bazel.write(
        "home/.docker/config.json",
        format!(
            r#"{{"auths":{{"{REGISTRY}":{{"auth":"{auth}","identitytoken":"{ACR_REFRESH}"}}}}}}"#
        ),
    );
    let out = bazel.get(&registry.manifest_uri());
    assert_eq!(
        out.success().header("Authorization"),
        Some(format!("Bearer {ACR_ACCESS}").as_str()),
        "{out}"
    );
    assert!(
        !registry
            .paths()
            .iter()
            .any(|p| p.contains("/oauth2/exchange"))
    );
}

#[test]
fn concurrent_processes_share_one_token_request_and_one_exchange() {
    let authority = authority(AAD_ARM_TOKEN);
    let registry = AcrFake::start();
    let mut bazel = registry.bazel();
    with_client_secret(&mut bazel, &authority);
    let uri = registry.manifest_uri();
    let answers: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8).map(|_| s.spawn(|| bazel.get(&uri))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for out in &answers {
        let want = format!("Bearer {ACR_ACCESS}");
        assert_eq!(
            out.success().header("Authorization"),
            Some(want.as_str()),
            "{out}"
        );
    }
    let count = |p: &str| registry.paths().iter().filter(|x| x.ends_with(p)).count();
    assert_eq!(
        authority.count(),
        1,
        "one Entra ID request for eight processes"
    );
    assert_eq!((count("/oauth2/exchange"), count("/oauth2/token")), (1, 1));
}

#[test]
fn a_missing_metadata_service_is_remembered_for_the_build() {
    let hanging = TestServer::start(|_| Response::hang());
    let mut bazel = Bazel::new();
    bazel.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", hanging.url());
    bazel.get(BLOB).failure();
    let started = Instant::now();
    let err = bazel.get(BLOB).failure();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("remembered from a recent probe"), "{err}");
    assert_eq!(hanging.count(), 1);
}

#[test]
fn an_exchange_refused_by_the_registry_names_the_keychain_and_the_role() {
    // The identity signs in, but the registry does not take its token (no AcrPull).
    let authority = authority("token-without-acrpull");
    let registry = AcrFake::start();
    let mut bazel = registry.bazel();
    with_client_secret(&mut bazel, &authority);
    let err = bazel.get(&registry.manifest_uri()).failure();
    for want in [
        "azure keychain: client secret of AZURE_CLIENT_ID",
        "http://myreg.azurecr.io/oauth2/exchange answered 401",
        "AcrPull",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    assert!(!err.contains("token-without-acrpull"), "{err}");
}

#[test]
fn the_keychain_is_only_for_azure_registries() {
    let authority = authority(AAD_ARM_TOKEN);
    let registry = TestServer::start(|_| Response::new(200));
    let mut bazel = sandbox();
    bazel.config(
        r#"{"urls":[{"host":"127.0.0.1","helper":"oci","config":{"keychains":["azure"]}}]}"#,
    );
    with_client_secret(&mut bazel, &authority);
    let out = bazel.get(&format!("{}/v2/team/app/manifests/v1", registry.url()));
    assert!(out.success().header("Authorization").is_none(), "{out}");
    assert_eq!(
        authority.count(),
        0,
        "no Azure token for a registry that is not ACR"
    );
}

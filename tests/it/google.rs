//! Google: the access-token chain (service account JWT, authorized user, gcloud's ADC file, the
//! metadata server, gcloud), the `gcs` and `gar` helpers and the `gcp` keychain, through the
//! binary. Every Google endpoint is a local server reached through the standard overrides
//! (`token_uri` in the key file, `GCE_METADATA_HOST`); `gcloud` is a fake script on PATH.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine;
use serde_json::json;

use crate::support::Bazel;
use crate::support::http_server::{self, Request, Response, TestServer};
use crate::support::registry::{Registry, TokenServerConfig};

const KEY_PEM: &str = include_str!("fixtures/google-test-service-account-key.pem");
const EMAIL: &str = "ci@test-project.iam.gserviceaccount.com";
const ACCESS_TOKEN: &str = "ya29.test-access-token";
const READ_ONLY: &str = "https://www.googleapis.com/auth/devstorage.read_only";
const READ_WRITE: &str = "https://www.googleapis.com/auth/devstorage.read_write";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const GCS_URL: &str = "https://storage.googleapis.com:443/my-cache/ac/0a1b2c";

fn b64url(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .expect("base64url")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The test key's public half, derived with ring from the fixture (not with the code under
/// test).
fn public_key() -> Vec<u8> {
    let der: String = KEY_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(der)
        .unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    use ring::signature::KeyPair;
    pair.public_key().as_ref().to_vec()
}

/// Why a token request is not a valid service-account JWT grant for `scope`, if it is not.
fn check_jwt_grant(req: &Request, scope: &str) -> Result<(), String> {
    let form = req.form();
    if http_server::value(&form, "grant_type") != Some(JWT_GRANT) {
        return Err(format!(
            "grant_type {:?}",
            http_server::value(&form, "grant_type")
        ));
    }
    let jwt = http_server::value(&form, "assertion").ok_or("no assertion")?;
    let (message, signature) = jwt.rsplit_once('.').ok_or("not a JWT")?;
    let (header, claims) = message.split_once('.').ok_or("not a JWT")?;
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key(),
    )
    .verify(message.as_bytes(), &b64url(signature))
    .map_err(|_| "bad RS256 signature")?;
    let header: serde_json::Value = serde_json::from_slice(&b64url(header)).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&b64url(claims)).unwrap();
    let aud = format!("http://{}/token", req.header("host").unwrap_or_default());
    let iat = claims["iat"].as_i64().ok_or("no iat")?;
    let checks = [
        (header["alg"] == "RS256", "alg"),
        (claims["iss"] == EMAIL, "iss"),
        (claims["scope"] == scope, "scope"),
        (claims["aud"] == aud.as_str(), "aud"),
        ((iat - now()).abs() < 60, "iat"),
        (claims["exp"].as_i64() == Some(iat + 3600), "exp"),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, claim)) => Err(format!("wrong {claim}: {header} {claims}")),
        None => Ok(()),
    }
}

fn token_answer() -> Response {
    Response::json(
        200,
        &json!({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}),
    )
}

/// A fake `oauth2.googleapis.com/token` that only answers valid JWT grants for `scope`;
/// rejections are kept for the test to report.
fn jwt_token_endpoint(scope: &'static str) -> (TestServer, Arc<Mutex<Vec<String>>>) {
    let rejected = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&rejected);
    let server = TestServer::start(move |req| match check_jwt_grant(req, scope) {
        Ok(()) => token_answer(),
        Err(why) => {
            seen.lock().unwrap().push(why);
            Response::json(400, &json!({"error": "invalid_grant"}))
        }
    });
    (server, rejected)
}

/// A port on which nothing listens.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}

/// A sandbox where no real Google source can answer: the metadata server is a closed local
/// port and `gcloud` (first on PATH, ahead of any real one) fails.
fn sandbox() -> Bazel {
    let mut bazel = Bazel::new();
    bazel.env("GCE_METADATA_HOST", closed_port());
    bazel.script(
        "gcloud",
        "echo 'ERROR: (gcloud) no credentialed accounts' >&2; exit 1",
    );
    bazel
}

fn service_account_file(bazel: &Bazel, token_uri: &str) -> std::path::PathBuf {
    let key = json!({
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "0123abcd",
        "private_key": KEY_PEM,
        "client_email": EMAIL,
        "client_id": "1234567890",
        "token_uri": token_uri,
    });
    bazel.write("home/sa-key.json", key.to_string())
}

fn assert_expires_with_margin(answer: &crate::support::Parsed) {
    let expires = answer.expires_at().expect("expires").unix_timestamp();
    // 3599 s minus the 10 % safety margin.
    let want = now() + 3599 - 359;
    assert!(
        (expires - want).abs() < 30,
        "expires {expires}, want ~{want}"
    );
}

#[test]
fn service_account_key_gives_gcs_bearer_with_expiry_and_is_cached() {
    let (endpoint, rejected) = jwt_token_endpoint(READ_ONLY);
    let mut bazel = sandbox();
    let key = service_account_file(&bazel, &format!("{}/token", endpoint.url()));
    bazel.env("GOOGLE_APPLICATION_CREDENTIALS", &key);

    // Built-in defaults route Bazel's remote-cache URL (with :443) to gcs.
    let answer = bazel.get(GCS_URL).success();
    assert_eq!(*rejected.lock().unwrap(), Vec::<String>::new());
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    assert_expires_with_margin(&answer);
    assert_eq!(endpoint.count(), 1);

    // A bucket host, served from the cache: no second token request.
    let again = bazel
        .get("https://my-bucket.storage.googleapis.com/file.tgz")
        .success();
    assert_eq!(
        again.header("Authorization"),
        answer.header("Authorization")
    );
    assert_eq!(
        endpoint.count(),
        1,
        "the second get must come from the cache"
    );
}

#[test]
fn gcs_scopes_are_configurable() {
    let (endpoint, rejected) = jwt_token_endpoint(READ_WRITE);
    let mut bazel = sandbox();
    let key = service_account_file(&bazel, &format!("{}/token", endpoint.url()));
    bazel
        .env("GOOGLE_APPLICATION_CREDENTIALS", &key)
        .config(&format!(
            r#"{{"urls":[{{"host":"storage.googleapis.com","helper":"gcs","config":{{"scopes":["{READ_WRITE}"]}}}}]}}"#
        ));
    let answer = bazel.get(GCS_URL).success();
    assert_eq!(*rejected.lock().unwrap(), Vec::<String>::new());
    assert!(answer.header("Authorization").is_some());

    let mut bad = sandbox();
    bad.bad_config(
        r#"{"urls":[{"host":"storage.googleapis.com","helper":"gcs","config":{"scopes":["read_write"]}}]}"#,
    );
    let err = bad.get(GCS_URL).failure();
    assert!(err.contains("not a Google OAuth scope"), "{err}");
}

#[test]
fn refused_service_account_names_the_key_file_and_status_never_the_key() {
    let endpoint = TestServer::start(|_| {
        Response::json(
            401,
            &json!({"error": "invalid_client", "error_description": "The OAuth client was not found."}),
        )
    });
    let mut bazel = sandbox();
    let key = service_account_file(&bazel, &format!("{}/token", endpoint.url()));
    bazel.env("GOOGLE_APPLICATION_CREDENTIALS", &key);
    let out = bazel.get(GCS_URL);
    let err = out.failure();
    assert!(err.contains(key.to_str().unwrap()), "{err}");
    assert!(
        err.contains("401") && err.contains("invalid_client"),
        "{err}"
    );
    let body_line = KEY_PEM.lines().nth(1).unwrap();
    let assertion = http_server::value(&endpoint.requests()[0].form(), "assertion")
        .unwrap()
        .to_owned();
    for secret in [body_line, &assertion[..40]] {
        assert!(!out.stderr.contains(secret), "leaked: {err}");
    }
}

#[test]
fn unsupported_or_broken_key_files_are_clear_errors() {
    let mut bazel = sandbox();
    let file = bazel.write("home/gdch.json", r#"{"type":"gdch_service_account"}"#);
    bazel.env("GOOGLE_APPLICATION_CREDENTIALS", &file);
    let err = bazel.get(GCS_URL).failure();
    assert!(err.contains("\"gdch_service_account\""), "{err}");

    let file = bazel.write(
        "home/nested.json",
        r#"{"type":"impersonated_service_account","service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/x:generateAccessToken","source_credentials":{"type":"external_account"}}"#,
    );
    bazel.env("GOOGLE_APPLICATION_CREDENTIALS", &file);
    let err = bazel.get(GCS_URL).failure();
    assert!(
        err.contains("source_credentials") && err.contains("\"external_account\""),
        "{err}"
    );

    let file = bazel.write(
        "home/broken.json",
        r#"{"type":"service_account","client_email":"a@b","private_key":"SECRET-NOT-PEM","token_uri":"http://127.0.0.1:1/token"}"#,
    );
    bazel.env("GOOGLE_APPLICATION_CREDENTIALS", &file);
    let err = bazel.get(GCS_URL).failure();
    assert!(
        err.contains("not a PEM PKCS#8 key") && !err.contains("SECRET"),
        "{err}"
    );

    bazel.env("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json");
    let err = bazel.get(GCS_URL).failure();
    assert!(err.contains("/nonexistent/key.json"), "{err}");
}

/// A fake token endpoint for refresh-token grants.
fn refresh_endpoint() -> TestServer {
    TestServer::start(|req| {
        let form = req.form();
        let field = |k| http_server::value(&form, k);
        if field("grant_type") == Some("refresh_token")
            && field("client_id") == Some("client-1.apps.googleusercontent.com")
            && field("client_secret") == Some("client-secret-1")
            && field("refresh_token") == Some("1//refresh-1")
        {
            token_answer()
        } else {
            Response::json(400, &json!({"error": "invalid_grant"}))
        }
    })
}

fn authorized_user(token_uri: &str) -> String {
    json!({
        "type": "authorized_user",
        "client_id": "client-1.apps.googleusercontent.com",
        "client_secret": "client-secret-1",
        "refresh_token": "1//refresh-1",
        "token_uri": token_uri,
    })
    .to_string()
}

#[test]
fn authorized_user_refresh_grant_for_artifact_registry_packages() {
    let endpoint = refresh_endpoint();
    let mut bazel = sandbox();
    let file = bazel.write(
        "home/user.json",
        authorized_user(&format!("{}/token", endpoint.url())),
    );
    bazel.env("GOOGLE_APPLICATION_CREDENTIALS", &file);
    let answer = bazel
        .get("https://us-python.pkg.dev/proj/pypi/simple/requests/")
        .success();
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    assert_expires_with_margin(&answer);

    bazel.config(
        r#"{"urls":[{"host":"*-maven.pkg.dev","helper":"gar","config":{"auth":"basic"}}]}"#,
    );
    let answer = bazel
        .get("https://europe-west1-maven.pkg.dev/proj/repo/com/x/1/x-1.jar")
        .success();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("oauth2accesstoken:{ACCESS_TOKEN}"));
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(endpoint.count(), 1, "the token is cached across helpers");
}

#[test]
fn gcloud_application_default_credentials_file() {
    let endpoint = refresh_endpoint();
    let adc = authorized_user(&format!("{}/token", endpoint.url()));
    // The default location, under HOME (gcloud ignores XDG_CONFIG_HOME).
    let bazel = sandbox();
    bazel.write(
        "home/.config/gcloud/application_default_credentials.json",
        &adc,
    );
    let answer = bazel.get(GCS_URL).success();
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );

    // CLOUDSDK_CONFIG moves it.
    let mut bazel = sandbox();
    bazel.write("gcloud-config/application_default_credentials.json", &adc);
    bazel.env("CLOUDSDK_CONFIG", bazel.root().join("gcloud-config"));
    bazel.get(GCS_URL).success();
    assert_eq!(endpoint.count(), 2);
}

/// `gcloud auth application-default login --impersonate-service-account`: the user's token
/// asks the IAM Credentials API for the service account's.
#[test]
fn impersonated_service_account_file() {
    const TARGET: &str = "builder@test-project.iam.gserviceaccount.com";
    let refresh = refresh_endpoint();
    let iam = TestServer::start(|req| {
        let path = format!("/v1/projects/-/serviceAccounts/{TARGET}:generateAccessToken");
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        if req.method != "POST"
            || req.path != path
            || req.header("authorization") != Some(&format!("Bearer {ACCESS_TOKEN}"))
            || body["scope"] != json!([READ_ONLY])
            || body["delegates"] != json!([])
        {
            return Response::json(
                403,
                &json!({"error": {"code": 403, "message": "Permission 'iam.serviceAccounts.getAccessToken' denied", "status": "PERMISSION_DENIED"}}),
            );
        }
        let expire = credential_helper::facade::format_rfc3339(now() + 3600);
        Response::json(
            200,
            &json!({"accessToken": "ya29.impersonated", "expireTime": expire}),
        )
    });
    let adc = |iam_url: &str| {
        json!({
            "type": "impersonated_service_account",
            "service_account_impersonation_url": format!("{iam_url}/v1/projects/-/serviceAccounts/{TARGET}:generateAccessToken"),
            "delegates": [],
            "source_credentials": serde_json::from_str::<serde_json::Value>(
                &authorized_user(&format!("{}/token", refresh.url()))).unwrap(),
        })
        .to_string()
    };
    let bazel = sandbox();
    bazel.write(
        "home/.config/gcloud/application_default_credentials.json",
        adc(&iam.url()),
    );
    let answer = bazel.get(GCS_URL).success();
    assert_eq!(
        answer.header("Authorization"),
        Some("Bearer ya29.impersonated")
    );
    assert_expires_with_margin(&answer);
    // Both tokens are cached.
    bazel.get(GCS_URL).success();
    assert_eq!((refresh.count(), iam.count()), (1, 1));

    // Refused: Google's status and what to grant, never its message.
    let refusing = TestServer::start(|_| {
        Response::json(
            403,
            &json!({"error": {"code": 403, "message": "secret detail", "status": "PERMISSION_DENIED"}}),
        )
    });
    let bazel = sandbox();
    bazel.write(
        "home/.config/gcloud/application_default_credentials.json",
        adc(&refusing.url()),
    );
    let err = bazel.get(GCS_URL).failure();
    assert!(
        err.contains("403 (PERMISSION_DENIED)") && err.contains("serviceAccountTokenCreator"),
        "{err}"
    );
    assert!(!err.contains("secret detail"), "{err}");
}

#[test]
fn metadata_server_with_flavor_header_and_scopes() {
    let metadata = TestServer::start(|req| {
        let path = "/computeMetadata/v1/instance/service-accounts/default/token";
        if req.path_only() == path && req.header("metadata-flavor") == Some("Google") {
            token_answer()
        } else {
            Response::new(403)
        }
    });
    let mut bazel = sandbox();
    bazel.env("GCE_METADATA_HOST", metadata.addr().to_string());
    let answer = bazel.get(GCS_URL).success();
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    assert_expires_with_margin(&answer);
    let seen = &metadata.requests()[0];
    assert_eq!(http_server::values(&seen.query(), "scopes"), [READ_ONLY]);
    bazel.get(GCS_URL).success();
    assert_eq!(metadata.count(), 1, "cached");

    // NO_GCE_CHECK skips it (and gcloud fails, so nothing is found).
    let mut bazel = sandbox();
    bazel
        .env("GCE_METADATA_HOST", metadata.addr().to_string())
        .env("NO_GCE_CHECK", "true");
    let err = bazel.get(GCS_URL).failure();
    assert!(
        err.contains("gcloud config config-helper failed with exit status 1")
            && !err.contains("no credentialed accounts"),
        "{err}"
    );
    assert_eq!(metadata.count(), 1);

    // A metadata server that refuses is reported, with its status.
    let refusing = TestServer::start(|_| Response::new(404));
    let mut bazel = sandbox();
    bazel.env("GCE_METADATA_HOST", refusing.addr().to_string());
    let err = bazel.get(GCS_URL).failure();
    assert!(
        err.contains("metadata server") && err.contains("404"),
        "{err}"
    );
}

#[test]
fn gcloud_config_helper_on_path() {
    let bazel = sandbox();
    let t = time::OffsetDateTime::from_unix_timestamp(now() + 1800).unwrap();
    let expiry = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    bazel.script(
        "gcloud",
        &format!(
            r#"[ "$*" = "config config-helper --format=json(credential)" ] || {{ echo "bad args: $*" >&2; exit 2; }}
echo run >> "$HOME/gcloud-runs"
echo '{{"credential": {{"access_token": "{ACCESS_TOKEN}", "id_token": "x", "token_expiry": "{expiry}"}}}}'"#
        ),
    );
    let answer = bazel
        .get("https://us-npm.pkg.dev/proj/npm/pkg/-/pkg-1.0.0.tgz")
        .success();
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    let expires = answer.expires_at().unwrap().unix_timestamp();
    assert!((expires - (now() + 1800 - 180)).abs() < 30, "{expires}");
    bazel
        .get("https://us-go.pkg.dev/proj/go/x/@v/list")
        .success();
    let runs = std::fs::read_to_string(bazel.home().join("gcloud-runs")).unwrap();
    assert_eq!(runs.lines().count(), 1, "cached");
}

#[test]
fn no_google_credentials_fails_fast_with_a_hint() {
    let bazel = sandbox();
    let started = Instant::now();
    let err = bazel.get(GCS_URL).failure();
    let took = started.elapsed();
    assert!(
        err.contains("GOOGLE_APPLICATION_CREDENTIALS") && err.contains("gcloud"),
        "{err}"
    );
    eprintln!("no credentials: failed in {took:?}");
    assert!(took.as_secs() < 3, "{took:?}");
}

#[test]
fn an_absent_metadata_server_is_probed_once_then_remembered() {
    // A server that accepts and never answers: the probe's 1 s limit ends it.
    let silent = TestServer::start(|_| Response::hang());
    let mut bazel = sandbox();
    bazel
        .env("GCE_METADATA_HOST", silent.addr().to_string())
        .env("CREDENTIAL_HELPER_LOG", "debug");
    let started = Instant::now();
    let out = bazel.get(GCS_URL);
    assert_eq!(out.status, Some(1), "{out}");
    let first = started.elapsed();
    let started = Instant::now();
    let out = bazel.get(GCS_URL);
    let second = started.elapsed();
    eprintln!("hanging metadata server: first get {first:?}, second {second:?}");
    assert_eq!(
        silent.count(),
        1,
        "probed once, never retried, then remembered\n{out}"
    );
    assert!(first.as_millis() < 2500, "{first:?}");
    assert!(out.stderr.contains("remembered"), "{out}");
}

/// An HTTP proxy that forwards `http://<google host>/...` to a local registry: Google's host
/// names stay in the URLs, so the keychain's host rules are exercised as they are.
fn forwarding_proxy(upstream: String) -> TestServer {
    TestServer::start(move |req| {
        let path = match req.path.strip_prefix("http://") {
            Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]).to_owned(),
            None => req.path.clone(),
        };
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .build()
            .unwrap();
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
        let mut forward = client.request(method, format!("{upstream}{path}"));
        for name in ["authorization", "accept"] {
            if let Some(v) = req.header(name) {
                forward = forward.header(name, v);
            }
        }
        let Ok(resp) = forward.send() else {
            return Response::new(502);
        };
        let mut out = Response::new(resp.status().as_u16());
        for name in ["www-authenticate", "content-type", "docker-content-digest"] {
            if let Some(v) = resp.headers().get(name).and_then(|v| v.to_str().ok()) {
                out = out.header(name, v);
            }
        }
        out.body(resp.bytes().map(|b| b.to_vec()).unwrap_or_default())
    })
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs Debian's docker-registry and htpasswd: runs on Linux"
)]
fn gcp_keychain_pulls_from_artifact_registry_with_oauth2accesstoken() {
    let (endpoint, rejected) = jwt_token_endpoint(CLOUD_PLATFORM);
    let registry =
        Registry::token(TokenServerConfig::new().user("oauth2accesstoken", ACCESS_TOKEN));
    let image = registry.push_image("proj/repo/app", "v1");
    let proxy = forwarding_proxy(registry.base_url().to_owned());
    let mut bazel = sandbox();
    let key = service_account_file(&bazel, &format!("{}/token", endpoint.url()));
    // The registry's token realm is on 127.0.0.1 (the test's token server), reached directly.
    bazel
        .env("GOOGLE_APPLICATION_CREDENTIALS", &key)
        .env("HTTP_PROXY", proxy.url())
        .env("NO_PROXY", "127.0.0.1")
        .config(
            r#"{"urls":[{"host":"*-docker.pkg.dev","helper":"oci","config":{"keychains":["gke"],"insecure":true,"allowed_realm_hosts":["127.0.0.1"],"parse_docker_config":false,"parse_podman_config":false}}]}"#,
        );
    let uri = "http://us-docker.pkg.dev/v2/proj/repo/app/manifests/v1";
    let out = bazel.get(uri);
    let answer = out.success();
    assert_eq!(*rejected.lock().unwrap(), Vec::<String>::new());
    // The token server saw Basic oauth2accesstoken:<Google token> and minted a registry token
    // that pulls the image.
    let logins: Vec<_> = registry
        .token_server()
        .requests()
        .iter()
        .filter_map(Request::basic_auth)
        .collect();
    assert_eq!(
        logins,
        [("oauth2accesstoken".to_owned(), ACCESS_TOKEN.to_owned())]
    );
    let fetched = registry.fetch(&registry.manifest_uri(&image.repo, "v1"), &answer.headers);
    assert_eq!(fetched.status, 200, "{}", fetched.text());
    assert!(proxy.count() >= 1);

    // Without the keychain turned on, nothing is found and the registry refuses.
    let mut off = sandbox();
    off.env("GOOGLE_APPLICATION_CREDENTIALS", &key)
        .env("HTTP_PROXY", proxy.url())
        .env("NO_PROXY", "127.0.0.1")
        .config(
            r#"{"urls":[{"host":"*-docker.pkg.dev","helper":"oci","config":{"insecure":true,"allowed_realm_hosts":["127.0.0.1"],"parse_docker_config":false,"parse_podman_config":false}}]}"#,
        );
    let before = endpoint.count();
    let _ = off.get(uri);
    assert_eq!(
        endpoint.count(),
        before,
        "keychains are off unless asked for"
    );
}

/// Google's STS, IAM Credentials and GitHub's OIDC endpoint in one fake server.
fn federation_server() -> TestServer {
    TestServer::start(|req| {
        let form = req.form();
        let field = |k| http_server::value(&form, k);
        match req.path_only() {
            "/oidc" if req.header("authorization") == Some("Bearer gh-request-token") => {
                Response::json(200, &json!({"value": "github-oidc-jwt"}))
            }
            "/v1/token"
                if field("grant_type")
                    == Some("urn:ietf:params:oauth:grant-type:token-exchange")
                    && field("subject_token") == Some("github-oidc-jwt")
                    && field("subject_token_type")
                        == Some("urn:ietf:params:oauth:token-type:jwt")
                    && field("audience")
                        == Some(
                            "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/providers/gh",
                        )
                    && field("requested_token_type")
                        == Some("urn:ietf:params:oauth:token-type:access_token")
                    && field("scope") == Some(CLOUD_PLATFORM) =>
            {
                Response::json(
                    200,
                    &json!({"access_token": "federated-token", "expires_in": 3600, "token_type": "Bearer"}),
                )
            }
            "/v1/projects/-/serviceAccounts/ci@p.iam.gserviceaccount.com:generateAccessToken"
                if req.header("authorization") == Some("Bearer federated-token") =>
            {
                let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
                if body["scope"] != json!([READ_ONLY]) {
                    return Response::new(400);
                }
                let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(3600);
                let expire = format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                    t.year(),
                    t.month() as u8,
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                );
                Response::json(
                    200,
                    &json!({"accessToken": ACCESS_TOKEN, "expireTime": expire}),
                )
            }
            _ => Response::json(401, &json!({"error": "unauthorized_client"})),
        }
    })
}

#[test]
fn workload_identity_federation_as_github_actions_writes_it() {
    let server = federation_server();
    let base = server.url();
    let mut bazel = sandbox();
    // The shape google-github-actions/auth writes for workload_identity_provider.
    let file = bazel.write(
        "home/gha-creds.json",
        json!({
            "type": "external_account",
            "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/providers/gh",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": format!("{base}/v1/token"),
            "service_account_impersonation_url": format!("{base}/v1/projects/-/serviceAccounts/ci@p.iam.gserviceaccount.com:generateAccessToken"),
            "credential_source": {
                "url": format!("{base}/oidc?audience=x"),
                "headers": {"Authorization": "Bearer gh-request-token"},
                "format": {"type": "json", "subject_token_field_name": "value"}
            }
        })
        .to_string(),
    );
    bazel.env("GOOGLE_APPLICATION_CREDENTIALS", &file);
    let answer = bazel.get(GCS_URL).success();
    assert_eq!(
        answer.header("Authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    let expires = answer.expires_at().unwrap().unix_timestamp();
    assert!((expires - (now() + 3600 - 360)).abs() < 30, "{expires}");
    let paths: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.path_only().to_owned())
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    bazel.get(GCS_URL).success();
    assert_eq!(server.count(), 3, "cached");

    // A file-sourced subject token straight from STS, without impersonation; a refusal names
    // the file and the status.
    let mut bazel = sandbox();
    bazel.write("home/oidc-token", "github-oidc-jwt\n");
    let file = bazel.write(
        "home/file-creds.json",
        json!({
            "type": "external_account",
            "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/providers/gh",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": format!("{base}/v1/token"),
            "credential_source": {"file": bazel.home().join("oidc-token")}
        })
        .to_string(),
    );
    bazel.env("GOOGLE_APPLICATION_CREDENTIALS", &file).config(&format!(
        r#"{{"urls":[{{"host":"storage.googleapis.com","helper":"gcs","config":{{"scopes":["{CLOUD_PLATFORM}"]}}}}]}}"#
    ));
    let answer = bazel.get(GCS_URL).success();
    assert_eq!(
        answer.header("Authorization"),
        Some("Bearer federated-token")
    );
    bazel.write("home/oidc-token", "wrong-token");
    bazel.env("CREDENTIAL_HELPER_CACHE", "off");
    let err = bazel.get(GCS_URL).failure();
    assert!(
        err.contains("file-creds.json") && err.contains("401") && !err.contains("wrong-token"),
        "{err}"
    );
}

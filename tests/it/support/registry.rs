//! Fixtures around Debian's real `docker-registry` (CNCF distribution 2.8):
//! basic auth, token auth with a token server written here, and TLS.
//!
//! Each `Registry` is its own process on a random port with its own temp dir
//! (config, htpasswd, certificates, storage, log), killed on drop.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::http_server::{Request, Response, TestServer, value, values};

/// `service` in token challenges and the JWT `aud` claim.
pub const SERVICE: &str = "test-registry";
/// `iss` of the JWTs the token server signs.
pub const ISSUER: &str = "test-token-issuer";
/// Realm of the basic-auth challenge.
pub const BASIC_REALM: &str = "test-registry";
/// A user the token server always knows, with pull and push everywhere.
pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password";

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// Java's `HttpURLConnection` sends this when the caller sets no `Accept`,
/// as Bazel's downloader does. For manifests it counts as no preference.
const JAVA_DEFAULT_ACCEPT: &str = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2";

/// Everything a Docker client lists when it pulls.
const CLIENT_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

const START_DEADLINE: Duration = Duration::from_secs(10);

/// How the registry authenticates.
#[derive(Clone)]
pub enum Auth {
    /// No auth block: `/v2/` answers 200.
    Anonymous,
    /// htpasswd (bcrypt) with one user, who may pull and push.
    Basic { user: String, password: String },
    /// Bearer tokens from a [`TokenServer`] started for this registry.
    Token(TokenServerConfig),
}

impl Auth {
    pub fn basic(user: &str, password: &str) -> Self {
        Auth::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }
}

/// Which fields carry the token in the token server's JSON answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenField {
    Token,
    AccessToken,
    Both,
}

/// A hook that may answer a token request instead of the token server.
type Intercept = Arc<dyn Fn(&Request) -> Option<Response> + Send + Sync>;

/// How the token server behaves. Build with the chained setters.
#[derive(Clone)]
pub struct TokenServerConfig {
    intercept: Option<Intercept>,
    users: BTreeMap<String, String>,
    identity_tokens: BTreeMap<String, String>,
    public_repos: BTreeSet<String>,
    expires_in: Option<u64>,
    token_field: TokenField,
    issued_at: bool,
    oauth2: bool,
}

impl Default for TokenServerConfig {
    fn default() -> Self {
        TokenServerConfig {
            intercept: None,
            users: BTreeMap::new(),
            identity_tokens: BTreeMap::new(),
            public_repos: BTreeSet::new(),
            expires_in: Some(300),
            token_field: TokenField::Both,
            issued_at: true,
            oauth2: true,
        }
    }
}

impl TokenServerConfig {
    pub fn new() -> Self {
        Self::default()
    }

    /// A user who may pull any repository.
    pub fn user(mut self, name: &str, password: &str) -> Self {
        self.users.insert(name.to_owned(), password.to_owned());
        self
    }

    /// An OAuth2 refresh ("identity") token that acts as `user`.
    pub fn identity_token(mut self, token: &str, user: &str) -> Self {
        self.identity_tokens
            .insert(token.to_owned(), user.to_owned());
        self
    }

    /// A repository anyone, even anonymous, may pull.
    pub fn public_repo(mut self, name: &str) -> Self {
        self.public_repos.insert(name.to_owned());
        self
    }

    /// `expires_in` of answers (default 300); `None` leaves it out (clients
    /// then assume 60 s). Also the lifetime of the JWT itself.
    pub fn expires_in(mut self, seconds: Option<u64>) -> Self {
        self.expires_in = seconds;
        self
    }

    pub fn token_field(mut self, field: TokenField) -> Self {
        self.token_field = field;
        self
    }

    /// Whether answers carry `issued_at` (default true).
    pub fn issued_at(mut self, include: bool) -> Self {
        self.issued_at = include;
        self
    }

    /// Whether the OAuth2 `POST` endpoint exists (default true); without it
    /// `POST` answers 404, as on servers that only speak the GET protocol.
    pub fn oauth2(mut self, supported: bool) -> Self {
        self.oauth2 = supported;
        self
    }

    /// For fault tests: `hook` sees every request first; when it returns a
    /// response (e.g. `Response::hang()`, a 500, bad JSON) that is the
    /// answer. The request is still recorded and counted.
    pub fn intercept(
        mut self,
        hook: impl Fn(&Request) -> Option<Response> + Send + Sync + 'static,
    ) -> Self {
        self.intercept = Some(Arc::new(hook));
        self
    }
}

/// Signs registry JWTs with an ES256 key whose self-signed certificate goes
/// both into the JWT's `x5c` header and into the registry's root bundle.
struct Signer {
    key: ring::signature::EcdsaKeyPair,
    cert_der: Vec<u8>,
    cert_pem: String,
    rng: ring::rand::SystemRandom,
}

impl Signer {
    fn new() -> Self {
        let key_pair = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "credential-helper test token signer",
        );
        let cert = params.self_signed(&key_pair).unwrap();
        let rng = ring::rand::SystemRandom::new();
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(
            // FIXED = raw r||s, as JWS wants (not ASN.1 DER).
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &rng,
        )
        .unwrap();
        Signer {
            key,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            rng,
        }
    }

    /// A JWT for `subject` (empty for anonymous) with the given `access`
    /// entries, valid for `ttl` seconds (negative: already expired).
    fn sign(&self, subject: &str, access: &[Value], ttl: i64) -> String {
        use ring::rand::SecureRandom as _;
        let now = unix_now() as i64;
        let mut jti = [0u8; 12];
        self.rng.fill(&mut jti).unwrap();
        let header = json!({
            "alg": "ES256",
            "typ": "JWT",
            "x5c": [STANDARD.encode(&self.cert_der)],
        });
        let claims = json!({
            "iss": ISSUER,
            "sub": subject,
            // A string: distribution 2.8 rejects a list here.
            "aud": SERVICE,
            "iat": now,
            "nbf": now - 5,
            "exp": now + ttl,
            "jti": URL_SAFE_NO_PAD.encode(jti),
            "access": access,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(&self.rng, input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

struct TokenState {
    config: TokenServerConfig,
    signer: Signer,
}

/// Who a token request authenticated as.
enum Caller {
    Anonymous,
    User(String),
}

impl TokenState {
    /// JWT lifetime: `expires_in`, or the protocol's default of 60 s.
    fn ttl(&self) -> i64 {
        self.config.expires_in.unwrap_or(60) as i64
    }

    fn password_ok(&self, user: &str, password: &str) -> bool {
        (user == ADMIN_USER && password == ADMIN_PASSWORD)
            || self.config.users.get(user).is_some_and(|p| p == password)
    }

    /// The access entry granted for one scope `type:name:actions`, if any.
    fn grant(&self, caller: &Caller, scope: &str) -> Option<Value> {
        let (kind, rest) = scope.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        let allowed: Vec<&str> = actions
            .split(',')
            .filter(|action| match caller {
                Caller::User(user) if user == ADMIN_USER => true,
                _ if kind != "repository" || *action != "pull" => false,
                Caller::User(_) => true,
                Caller::Anonymous => self.config.public_repos.contains(name),
            })
            .collect();
        (!allowed.is_empty()).then(|| json!({"type": kind, "name": name, "actions": allowed}))
    }

    /// The token answer. Scopes not permitted are simply left out of
    /// `access`, as real token servers do; the registry then says 401.
    fn answer(&self, caller: &Caller, scopes: &[&str]) -> Response {
        let access: Vec<Value> = scopes
            .iter()
            .flat_map(|s| s.split(' '))
            .filter_map(|scope| self.grant(caller, scope))
            .collect();
        let subject = match caller {
            Caller::Anonymous => "",
            Caller::User(user) => user,
        };
        let config = &self.config;
        let token = self.signer.sign(subject, &access, self.ttl());
        let mut body = serde_json::Map::new();
        if config.token_field != TokenField::AccessToken {
            body.insert("token".into(), token.clone().into());
        }
        if config.token_field != TokenField::Token {
            body.insert("access_token".into(), token.into());
        }
        if let Some(seconds) = config.expires_in {
            body.insert("expires_in".into(), seconds.into());
        }
        if config.issued_at {
            body.insert("issued_at".into(), rfc3339_nanos_now().into());
        }
        Response::json(200, &Value::Object(body))
    }

    fn handle(&self, request: &Request) -> Response {
        if let Some(response) = self
            .config
            .intercept
            .as_ref()
            .and_then(|hook| hook(request))
        {
            return response;
        }
        if request.path_only() != "/token" {
            return Response::text(404, "not found");
        }
        match request.method.as_str() {
            "GET" => self.handle_get(request),
            "POST" if self.config.oauth2 => self.handle_post(request),
            "POST" => Response::text(404, "not found"),
            _ => Response::text(405, "method not allowed"),
        }
    }

    /// Docker token protocol: `GET /token?service=..&scope=..` with optional
    /// Basic auth.
    fn handle_get(&self, request: &Request) -> Response {
        let caller = match request.basic_auth() {
            None => Caller::Anonymous,
            Some((user, password)) if self.password_ok(&user, &password) => Caller::User(user),
            Some(_) => return unauthorized("incorrect username or password"),
        };
        let query = request.query();
        self.answer(&caller, &values(&query, "scope"))
    }

    /// OAuth2: `POST /token` with a form body (password or refresh_token grant).
    fn handle_post(&self, request: &Request) -> Response {
        let form = request.form();
        let caller = match value(&form, "grant_type") {
            Some("password") => {
                let user = value(&form, "username").unwrap_or_default();
                let password = value(&form, "password").unwrap_or_default();
                if !self.password_ok(user, password) {
                    return unauthorized("incorrect username or password");
                }
                Caller::User(user.to_owned())
            }
            Some("refresh_token") => {
                let token = value(&form, "refresh_token").unwrap_or_default();
                match self.config.identity_tokens.get(token) {
                    Some(user) => Caller::User(user.clone()),
                    None => return unauthorized("invalid refresh token"),
                }
            }
            _ => {
                return Response::json(400, &json!({"error": "unsupported_grant_type"}));
            }
        };
        self.answer(&caller, &values(&form, "scope"))
    }
}

fn unauthorized(details: &str) -> Response {
    Response::json(
        401,
        &json!({"errors": [{"code": "UNAUTHORIZED", "message": details}]}),
    )
}

/// A token server on its own port: `<url>/token` serves both the GET and
/// the OAuth2 POST protocol. Every request is recorded.
pub struct TokenServer {
    server: TestServer,
    state: Arc<TokenState>,
}

impl TokenServer {
    pub fn start(config: TokenServerConfig) -> Self {
        let state = Arc::new(TokenState {
            config,
            signer: Signer::new(),
        });
        let handler_state = Arc::clone(&state);
        let server = TestServer::start(move |request| handler_state.handle(request));
        TokenServer { server, state }
    }

    /// `http://127.0.0.1:<port>/token`.
    pub fn realm(&self) -> String {
        format!("{}/token", self.server.url())
    }

    /// PEM of the certificate that signs tokens (the registry's root bundle).
    pub fn cert_pem(&self) -> &str {
        &self.state.signer.cert_pem
    }

    /// A token for `subject` with the scopes (`repository:<n>:pull,push`)
    /// that user may have, minted in-process: counts no request.
    pub fn mint(&self, subject: &str, scopes: &[&str]) -> String {
        self.mint_with_lifetime(subject, scopes, self.state.ttl())
    }

    /// [`TokenServer::mint`] with a JWT `exp` of now + `seconds`. Note that
    /// distribution accepts a token until 60 s after its `exp` (leeway), so
    /// an expired-token test needs `seconds` below -60.
    pub fn mint_with_lifetime(&self, subject: &str, scopes: &[&str], seconds: i64) -> String {
        let caller = Caller::User(subject.to_owned());
        let access: Vec<Value> = scopes
            .iter()
            .filter_map(|scope| self.state.grant(&caller, scope))
            .collect();
        self.state.signer.sign(subject, &access, seconds)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// All requests, any method or path.
    pub fn count(&self) -> usize {
        self.server.count()
    }

    pub fn gets(&self) -> usize {
        self.count_method("GET")
    }

    pub fn posts(&self) -> usize {
        self.count_method("POST")
    }

    fn count_method(&self, method: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method)
            .count()
    }
}

/// A tiny image pushed to a registry.
#[derive(Clone, Debug)]
pub struct Image {
    pub repo: String,
    pub tag: String,
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    pub manifest_media_type: &'static str,
    pub config_digest: String,
    pub layer: Vec<u8>,
    pub layer_digest: String,
}

/// One HTTP exchange, kept for assertions and readable panics.
#[derive(Clone)]
pub struct Fetched {
    pub url: String,
    pub status: u16,
    /// Response headers, names lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Fetched {
    /// First value of a response header; name compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl fmt::Debug for Fetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GET {} -> {}", self.url, self.status)?;
        if let Some(challenge) = self.header("www-authenticate") {
            write!(f, " (WWW-Authenticate: {challenge})")?;
        }
        write!(f, ": {}", self.text())
    }
}

/// What a successful pull fetched.
#[derive(Clone, Debug)]
pub struct Pulled {
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    /// Digests of the config and layer blobs, all fetched and verified.
    pub blobs: Vec<String>,
}

struct TlsFiles {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// A running `docker-registry serve`, killed on drop.
pub struct Registry {
    // Dropped after the process is killed (field order), so the registry
    // never sees its storage vanish.
    child: Child,
    host: String,
    base_url: String,
    auth: Auth,
    tls: Option<TlsFiles>,
    token_server: Option<TokenServer>,
    client: reqwest::blocking::Client,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Registry {
    /// No authentication at all.
    pub fn anonymous() -> Self {
        Self::start(Auth::Anonymous, false)
    }

    /// htpasswd auth with one user; `/v2/` answers 401 `Basic realm=...`.
    pub fn basic(user: &str, password: &str) -> Self {
        Self::start(Auth::basic(user, password), false)
    }

    /// Token auth against a token server started for it.
    pub fn token(config: TokenServerConfig) -> Self {
        Self::start(Auth::Token(config), false)
    }

    /// Any of the above over HTTPS, with a certificate from a generated CA
    /// (see [`Registry::ca_pem_path`]). A token realm stays plain HTTP.
    pub fn tls(auth: Auth) -> Self {
        Self::start(auth, true)
    }

    fn start(auth: Auth, tls: bool) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("credential-helper-registry")
            .tempdir()
            .unwrap();
        let tls = tls.then(|| write_tls_files(dir.path()));
        let token_server = match &auth {
            Auth::Token(config) => Some(TokenServer::start(config.clone())),
            _ => None,
        };
        let auth_yaml = match &auth {
            Auth::Anonymous => String::new(),
            Auth::Basic { user, password } => {
                let htpasswd = dir.path().join("htpasswd");
                std::fs::write(&htpasswd, bcrypt_htpasswd(user, password)).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: {BASIC_REALM}\n    path: {:?}\n",
                    htpasswd
                )
            }
            Auth::Token(_) => {
                let server = token_server.as_ref().unwrap();
                let bundle = dir.path().join("token-signer.pem");
                std::fs::write(&bundle, server.cert_pem()).unwrap();
                format!(
                    "auth:\n  token:\n    realm: {:?}\n    service: {SERVICE}\n    \
                     issuer: {ISSUER}\n    rootcertbundle: {:?}\n",
                    server.realm(),
                    bundle
                )
            }
        };

        let mut builder = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .default_headers(reqwest::header::HeaderMap::from_iter([(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static(JAVA_DEFAULT_ACCEPT),
            )]));
        if let Some(tls) = &tls {
            let pem = std::fs::read(&tls.ca).unwrap();
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
        }
        let client = builder.build().unwrap();
        let log = dir.path().join("registry.log");

        // A port picked by binding :0 may be taken again before the registry
        // binds it; then start over on another one.
        for _ in 0..5 {
            let host = format!("127.0.0.1:{}", free_port());
            let base_url = format!("{}://{host}", if tls.is_some() { "https" } else { "http" });
            let config = dir.path().join("config.yml");
            std::fs::write(&config, config_yaml(dir.path(), &host, &tls, &auth_yaml)).unwrap();
            let log_file = File::create(&log).unwrap();
            let mut child = Command::new(super::tools::require("docker-registry"))
                .arg("serve")
                .arg(&config)
                // It reads every REGISTRY_* variable as a config override.
                .env_clear()
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().unwrap())
                .stderr(log_file)
                .spawn()
                .expect("run docker-registry");
            match wait_ready(&mut child, &host, &base_url, &client, &log) {
                Ok(()) => {
                    return Registry {
                        child,
                        host,
                        base_url,
                        auth,
                        tls,
                        token_server,
                        client,
                        log,
                        dir,
                    };
                }
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    if let Some(why) = why {
                        fail_with_log(&log, &why);
                    }
                }
            }
        }
        panic!("docker-registry: no free port after 5 attempts");
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `http://127.0.0.1:<port>` or `https://...`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `<base>/v2/<repo>/manifests/<reference>`.
    pub fn manifest_uri(&self, repo: &str, reference: &str) -> String {
        format!("{}/v2/{repo}/manifests/{reference}", self.base_url())
    }

    /// `<base>/v2/<repo>/blobs/<digest>`.
    pub fn blob_uri(&self, repo: &str, digest: &str) -> String {
        format!("{}/v2/{repo}/blobs/{digest}", self.base_url())
    }

    /// The CA certificate (PEM) that signed the registry's certificate.
    pub fn ca_pem_path(&self) -> &Path {
        &self
            .tls
            .as_ref()
            .expect("ca_pem_path: not a TLS registry")
            .ca
    }

    /// The token server of a `Registry::token` setup.
    pub fn token_server(&self) -> &TokenServer {
        self.token_server
            .as_ref()
            .expect("token_server: not a token registry")
    }

    /// The registry's own log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The registry's temporary directory (config, storage, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Headers that give full access to `repo`: Basic for htpasswd, a
    /// minted push+pull token for token auth, nothing when anonymous.
    pub fn admin_headers(&self, repo: &str) -> BTreeMap<String, Vec<String>> {
        let authorization = match &self.auth {
            Auth::Anonymous => return BTreeMap::new(),
            Auth::Basic { user, password } => {
                format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
            }
            Auth::Token(_) => {
                let scope = format!("repository:{repo}:pull,push");
                let token = self.token_server().mint(ADMIN_USER, &[&scope]);
                format!("Bearer {token}")
            }
        };
        BTreeMap::from([("Authorization".to_owned(), vec![authorization])])
    }

    /// Pushes a tiny OCI image (one layer, one config) as admin.
    pub fn push_image(&self, repo: &str, tag: &str) -> Image {
        let headers = self.admin_headers(repo);
        let layer = format!("layer of {repo}:{tag}\n").into_bytes();
        let layer_digest = sha256(&layer);
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }))
        .unwrap();
        let config_digest = sha256(&config);
        self.upload_blob(repo, &headers, &layer);
        self.upload_blob(repo, &headers, &config);
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": layer.len()}],
        }))
        .unwrap();
        let manifest_digest = sha256(&manifest);
        let response = self.send(
            self.client
                .put(self.manifest_uri(repo, tag))
                .header("Content-Type", OCI_MANIFEST)
                .body(manifest.clone()),
            &headers,
        );
        if response.status != 201 {
            self.fail(&format!("push manifest: {response:?}"));
        }
        assert_eq!(
            response.header("docker-content-digest"),
            Some(manifest_digest.as_str())
        );
        Image {
            repo: repo.to_owned(),
            tag: tag.to_owned(),
            manifest,
            manifest_digest,
            manifest_media_type: OCI_MANIFEST,
            config_digest,
            layer,
            layer_digest,
        }
    }

    fn upload_blob(&self, repo: &str, headers: &BTreeMap<String, Vec<String>>, blob: &[u8]) {
        let start = self.send(
            self.client
                .post(format!("{}/v2/{repo}/blobs/uploads/", self.base_url())),
            headers,
        );
        if start.status != 202 {
            self.fail(&format!("start blob upload: {start:?}"));
        }
        let location = start.header("location").expect("upload Location");
        let location = if location.starts_with('/') {
            format!("{}{location}", self.base_url())
        } else {
            location.to_owned()
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={}", sha256(blob));
        let done = self.send(
            self.client
                .put(url)
                .header("Content-Type", "application/octet-stream")
                .body(blob.to_vec()),
            headers,
        );
        if done.status != 201 {
            self.fail(&format!("finish blob upload: {done:?}"));
        }
    }

    /// [`Registry::pull`] plus the `Accept` a Docker client sends, to check
    /// the fixtures without the helper.
    pub fn pull_with_accept(
        &self,
        headers: &BTreeMap<String, Vec<String>>,
        repo: &str,
        reference: &str,
    ) -> Result<Pulled, Fetched> {
        let mut headers = headers.clone();
        headers.retain(|name, _| !name.eq_ignore_ascii_case("accept"));
        headers.insert("Accept".to_owned(), vec![CLIENT_ACCEPT.to_owned()]);
        self.pull(&headers, repo, reference)
    }

    /// Pulls like Bazel's downloader: the manifest, then every blob it
    /// names, each request carrying exactly `headers` (typically a helper's
    /// answer) and otherwise only the `Accept` Java adds by default, which
    /// does not list OCI manifests. Digests are verified; the first non-200
    /// answer is the error.
    pub fn pull(
        &self,
        headers: &BTreeMap<String, Vec<String>>,
        repo: &str,
        reference: &str,
    ) -> Result<Pulled, Fetched> {
        let manifest = self.fetch(&self.manifest_uri(repo, reference), headers);
        if manifest.status != 200 {
            return Err(manifest);
        }
        let manifest_digest = sha256(&manifest.body);
        let expected = if reference.starts_with("sha256:") {
            Some(reference)
        } else {
            manifest.header("docker-content-digest")
        };
        assert_eq!(expected, Some(manifest_digest.as_str()), "{manifest:?}");

        let parsed: Value = serde_json::from_slice(&manifest.body).unwrap();
        let blobs: Vec<String> = std::iter::once(&parsed["config"])
            .chain(parsed["layers"].as_array().into_iter().flatten())
            .filter_map(|d| d["digest"].as_str().map(str::to_owned))
            .collect();
        for digest in &blobs {
            let blob = self.fetch(&self.blob_uri(repo, digest), headers);
            if blob.status != 200 {
                return Err(blob);
            }
            assert_eq!(&sha256(&blob.body), digest, "{blob:?}");
        }
        Ok(Pulled {
            manifest: manifest.body,
            manifest_digest,
            blobs,
        })
    }

    /// One GET with exactly `headers` (plus Java's default `Accept` unless
    /// `headers` has one). Redirects are followed, as Bazel does.
    pub fn fetch(&self, url: &str, headers: &BTreeMap<String, Vec<String>>) -> Fetched {
        self.send(self.client.get(url), headers)
    }

    fn send(
        &self,
        mut request: reqwest::blocking::RequestBuilder,
        headers: &BTreeMap<String, Vec<String>>,
    ) -> Fetched {
        for (name, values) in headers {
            for value in values {
                request = request.header(name, value);
            }
        }
        let response = match request.send() {
            Ok(response) => response,
            Err(e) => self.fail(&format!("request failed: {e:?}")),
        };
        Fetched {
            url: response.url().to_string(),
            status: response.status().as_u16(),
            headers: response
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect(),
            body: response.bytes().map(|b| b.to_vec()).unwrap_or_default(),
        }
    }

    /// Panics with the registry's log attached.
    fn fail(&self, message: &str) -> ! {
        fail_with_log(&self.log, message)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `/v2/` answers as a registry. `Err(None)`: the port was
/// taken by someone else (retry); `Err(Some(why))`: the registry is broken.
fn wait_ready(
    child: &mut Child,
    host: &str,
    base_url: &str,
    client: &reqwest::blocking::Client,
    log: &Path,
) -> Result<(), Option<String>> {
    let started = Instant::now();
    let addr: SocketAddr = host.parse().unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            if log.contains("address already in use") {
                return Err(None);
            }
            return Err(Some(format!("docker-registry exited early ({status})")));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            break;
        }
        if started.elapsed() > START_DEADLINE {
            return Err(Some(
                "docker-registry did not listen within 10 s".to_owned(),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    match client.get(format!("{base_url}/v2/")).send() {
        // Someone else's server on this port has no such header.
        Ok(r) if r.headers().contains_key("docker-distribution-api-version") => Ok(()),
        Ok(_) => Err(None),
        Err(e) => Err(Some(format!("GET {base_url}/v2/ failed: {e:?}"))),
    }
}

/// Panics with the tail of the registry's log attached.
fn fail_with_log(log: &Path, message: &str) -> ! {
    let log_text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = log_text.lines().collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
    panic!(
        "{message}\n--- docker-registry log ({}):\n{tail}",
        log.display()
    );
}

fn config_yaml(dir: &Path, host: &str, tls: &Option<TlsFiles>, auth_yaml: &str) -> String {
    let tls_yaml = match tls {
        Some(tls) => format!(
            "  tls:\n    certificate: {:?}\n    key: {:?}\n",
            tls.cert, tls.key
        ),
        None => String::new(),
    };
    // Debug-formatted paths are valid YAML double-quoted strings.
    format!(
        "version: 0.1\n\
         log:\n  level: info\n\
         storage:\n  filesystem:\n    rootdirectory: {:?}\n  delete:\n    enabled: true\n  \
         maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: {host}\n  secret: test-secret\n{tls_yaml}\
         {auth_yaml}",
        dir.join("storage")
    )
}

/// A CA and a server certificate for `127.0.0.1`, `localhost` and [`TLS_HOST_NAME`].
fn write_tls_files(dir: &Path) -> TlsFiles {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "credential-helper test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();

    let key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec![
        "127.0.0.1".to_owned(),
        "localhost".to_owned(),
        TLS_HOST_NAME.to_owned(),
    ])
    .unwrap();
    server
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    let cert = server.signed_by(&key, &ca_cert, &ca_key).unwrap();

    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    std::fs::write(&files.ca, ca_cert.pem()).unwrap();
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    files
}

/// A name the TLS registries' certificates also hold, for tests that reach them through a name
/// of their own `/etc/hosts` (`.test` is reserved: no real name can be it).
pub const TLS_HOST_NAME: &str = "tls-registry.test";

/// One bcrypt htpasswd line (the registry accepts nothing else).
fn bcrypt_htpasswd(user: &str, password: &str) -> Vec<u8> {
    let output = Command::new(super::tools::require("htpasswd"))
        .args(["-Bbn", user, password])
        .env_clear()
        .output()
        .expect("run htpasswd");
    assert!(output.status.success(), "htpasswd failed: {output:?}");
    output.stdout
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `sha256:<hex>`.
pub fn sha256(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `issued_at` as Docker Hub writes it: RFC 3339 UTC with nanoseconds.
fn rfc3339_nanos_now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond()
    )
}

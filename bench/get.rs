//! `cargo bench --bench get`: what one `credential-helper get` costs as Bazel runs it, next to
//! the cost of starting any process at all and next to uv's helper, and how many requests the
//! servers see. Prints Markdown tables and one PASS/FAIL line per target; exits 1 on a FAIL.
//!
//! - The binary measured is the one users install: `scripts/build-release` builds it (on Linux
//!   with glibc, statically linked at a fixed address). The plain `cargo build --release` binary
//!   (dynamically linked) is measured next to it.
//! - Every time is a ratio to the process floor measured in the same run: a trivial Rust binary
//!   (`bench/programs/floor.rs`) that reads stdin and prints `{"headers":{}}`, linked as rustc
//!   links by default; and the same floor linked like the helper, so that neither the helper's
//!   linking nor the floor's decides a target alone.
//! - Single-process cases run interleaved, one run of each in turn, so a slow moment of the
//!   machine hits every case alike.
//! - Processes start from a small launcher (`bench/programs/launcher.rs`) that times them and
//!   reads their peak RSS from `wait4`; see there why not from this process.
//! - Servers are the integration tests' fixtures: the real `docker-registry` with Basic auth,
//!   and another with token auth and the test token server, each behind a counting proxy.
//!
//! Options (after `--`): `--runs N` single-process runs per case (default 300), `--reps N`
//! repetitions of the 64-process burst (default 10; the 200-process burst gets half),
//! `--quick` (30 runs, 2 reps), `--helper PATH` to measure another build of the binary,
//! `--hold` to write each case as a shell script and wait (for `perf` or `strace` by hand).

#[path = "../tests/it/support/mod.rs"]
mod support;

mod hold;
mod measure;
mod proxy;
mod reference;
mod report;
mod setup;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use measure::{Burst, Launcher, Linking, Outcome, Program};
use report::Report;
use setup::{BASIC_USER, Requests, Sandbox, Servers, TOKEN_USER};

const USAGE: &str =
    "usage: cargo bench --bench get [-- [--runs N] [--reps N] [--quick] [--helper PATH] [--hold]]";

/// Untimed runs of each case first: page cache, and the state a case is about (a remembered
/// challenge, a cached token).
const WARMUP: usize = 5;
/// The bursts: gets for one repository; repositories and gets per repository.
const ONE_REPO_GETS: usize = 64;
const REPOS: usize = 20;
const GETS_PER_REPO: usize = 10;

struct Options {
    runs: usize,
    reps: usize,
    /// Another build of the binary to measure (e.g. with other link flags).
    helper: Option<PathBuf>,
    /// Set everything up, write each case as a script, and wait instead of measuring.
    hold: bool,
}

impl Options {
    fn parse() -> Options {
        let mut options = Options {
            runs: 300,
            reps: 10,
            helper: None,
            hold: false,
        };
        let mut args = std::env::args().skip(1);
        let number = |value: Option<String>| -> usize {
            match value.as_deref().map(str::parse) {
                Some(Ok(n)) if n > 0 => n,
                _ => usage_error("expected a positive number"),
            }
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                // `cargo bench` passes this to every bench target.
                "--bench" => {}
                "--runs" => options.runs = number(args.next()),
                "--reps" => options.reps = number(args.next()),
                "--quick" => (options.runs, options.reps) = (30, 2),
                "--hold" => options.hold = true,
                "--helper" => match args.next() {
                    Some(path) => options.helper = Some(PathBuf::from(path)),
                    None => usage_error("--helper needs a path"),
                },
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => usage_error(&format!("unknown argument {other:?}")),
            }
        }
        options
    }
}

fn usage_error(what: &str) -> ! {
    eprintln!("bench: {what}\n{USAGE}");
    std::process::exit(2);
}

fn progress(what: &str) {
    eprintln!("bench: {what}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(reference::PING) {
        return reference::ping_main(&args[1..]);
    }
    let options = Options::parse();
    let started = Instant::now();
    // Other processes on the machine make every time noisier (the ratios less so).
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split(' ').next()?.parse::<f64>().ok());
    if let Some(load) = load.filter(|&l| l > 0.5) {
        progress(&format!(
            "warning: load average {load:.2} before starting: other processes compete for the \
             CPUs, so times are noisy"
        ));
    }
    let root = tempfile::Builder::new()
        .prefix("credential-helper-bench")
        .tempdir()
        .expect("create temp dir");
    let sandbox = Sandbox::new(root.path());

    // pip takes seconds: install uv while the registries start.
    let uv_dir = root.path().join("uv");
    let uv_install = JoinOnDrop(Some(std::thread::spawn(move || setup::install_uv(&uv_dir))));

    // `cargo bench` built the plain release binary (the bench profile is the release one); the
    // binary users install comes from `scripts/build-release`, unless another is given.
    let plain = PathBuf::from(support::binary());
    let helper = options.helper.clone().unwrap_or_else(|| {
        progress("building the release binary with scripts/build-release");
        setup::build_release()
    });
    progress(&format!("helper: {}", helper.display()));
    progress("compiling the process floors and the launcher with rustc");
    let floor_path = measure::compile("floor", Linking::Default, root.path());
    let floor_static =
        measure::STATIC_RELEASE.then(|| measure::compile("floor", Linking::Static, root.path()));
    let launcher = Launcher::new(measure::compile("launcher", Linking::Default, root.path()));

    progress("starting docker-registry with Basic auth, and with token auth + token server");
    let servers = Servers::start();
    progress("pushing test images");
    let warm_layer = servers.token.push_image("bench/warm", "v1").layer_digest;
    servers.basic.push_image("bench/static", "v1");
    let repos: Vec<String> = (0..REPOS).map(|i| format!("bench/repo-{i:02}")).collect();
    let others = ["bench/cold", "bench/seed", "bench/burst"].map(String::from);
    for repo in others.iter().chain(&repos) {
        servers.token.push_image(repo, "v1");
    }
    servers.tls.push_image("bench/cold", "v1");

    // The helper finds the registries through its config and the credentials in docker's.
    sandbox.write(
        "workspace/.credential-helper.json",
        r#"{"urls":[{"host":"127.0.0.1","helper":"oci"}]}"#,
    );
    let auth = |(user, password): (&str, &str)| STANDARD.encode(format!("{user}:{password}"));
    sandbox.write(
        "docker/config.json",
        &serde_json::json!({"auths": {
            servers.basic_proxy.host(): {"auth": auth(BASIC_USER)},
            servers.token_proxy.host(): {"auth": auth(TOKEN_USER)},
            servers.tls_proxy.host(): {"auth": auth(TOKEN_USER)},
        }})
        .to_string(),
    );
    // The same token credential from a `docker-credential-*` helper that takes 0.3 s, as Docker
    // Desktop's does, and logs every run.
    let helper_root = root.path().join("cred-helper");
    let helper_log = helper_root.join("runs");
    std::fs::create_dir_all(helper_root.join("bin")).unwrap();
    std::fs::create_dir_all(helper_root.join("docker")).unwrap();
    let script = helper_root.join("bin/docker-credential-bench");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nread server; echo \"$server\" >> '{}'; sleep 0.3\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{}\",\"Secret\":\"{}\"}}' \"$server\"\n",
            helper_log.display(),
            TOKEN_USER.0,
            TOKEN_USER.1
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        helper_root.join("docker/config.json"),
        serde_json::json!({"credHelpers": {servers.token_proxy.host(): "bench"}}).to_string(),
    )
    .unwrap();
    let basic_header = format!("Basic {}", auth(BASIC_USER));
    let static_uri = format!("{}/manifests/v1", servers.basic_repo("bench/static"));
    let cold_uri = format!("{}/manifests/v1", servers.token_repo("bench/cold"));
    let cold_https_uri = format!("{}/manifests/v1", servers.tls_repo("bench/cold"));
    let warm_uri = format!("{}/blobs/{warm_layer}", servers.token_repo("bench/warm"));
    let request = support::bazel_request;
    let floor = sandbox.program(&floor_path, &[]);
    let get = sandbox.program(&helper, &["get"]);

    // A cache that holds the registry's challenge and a token for another repository: a get
    // for `bench/cold` then needs its token but not the `/v2/` ping.
    let seed = sandbox.fresh_cache(None);
    let seed_uri = format!("{}/manifests/v1", servers.token_repo("bench/seed"));
    let seeded = launcher.run(
        &get.clone().env("CREDENTIAL_HELPER_CACHE_DIR", &seed),
        &request(&seed_uri),
    );
    Expect::Bearer.check("seeding a cache", &seeded);

    let version = format!("credential-helper {}", env!("CARGO_PKG_VERSION"));
    let mut cases = vec![Case::new(
        Kind::Floor,
        &floor,
        &static_uri,
        Expect::NoHeaders,
    )];
    if let Some(path) = &floor_static {
        let program = sandbox.program(path, &[]);
        cases.push(Case::new(
            Kind::FloorStatic,
            &program,
            &static_uri,
            Expect::NoHeaders,
        ));
    }
    let plain_get = sandbox.program(&plain, &["get"]);
    // This binary, run again as the reference ping.
    let bench = std::env::current_exe().expect("the benchmark's own path");
    const UNAUTHORIZED: &str = "HTTP/1.1 401 Unauthorized";
    cases.extend([
        Case::new(
            Kind::StartUp,
            &sandbox.program(&helper, &["--version"]),
            &static_uri,
            Expect::FirstLine(version),
        ),
        Case::new(
            Kind::Static,
            &get,
            &static_uri,
            Expect::Header(basic_header.clone()),
        ),
        Case::new(Kind::Warm, &get, &warm_uri, Expect::Bearer),
        Case::new(
            Kind::WarmHelper,
            &get.clone()
                .env("DOCKER_CONFIG", helper_root.join("docker"))
                .env(
                    "PATH",
                    format!("{}:/usr/bin:/bin", helper_root.join("bin").display()),
                ),
            &warm_uri,
            Expect::Bearer,
        ),
        Case::new(Kind::Cold, &get, &cold_uri, Expect::Bearer).cache(CacheMode::Fresh),
        Case::new(Kind::Remembered, &get, &cold_uri, Expect::Bearer).cache(CacheMode::Seeded(seed)),
        // The system's roots as on any Linux machine, and the registry's private CA besides.
        Case::new(
            Kind::ColdHttps,
            &get.clone()
                .env("CREDENTIAL_HELPER_CA_CERT", servers.tls.ca_pem_path()),
            &cold_https_uri,
            Expect::Bearer,
        )
        .cache(CacheMode::Fresh),
        Case::new(
            Kind::PingHttp,
            &sandbox.program(&bench, &[reference::PING, &servers.token_proxy.host()]),
            &cold_uri,
            Expect::FirstLine(UNAUTHORIZED.to_owned()),
        ),
        Case::new(
            Kind::PingHttps,
            &sandbox.program(
                &bench,
                &[
                    reference::PING,
                    &servers.tls_proxy.host(),
                    servers.tls.ca_pem_path().to_str().unwrap(),
                ],
            ),
            &cold_https_uri,
            Expect::FirstLine(UNAUTHORIZED.to_owned()),
        ),
        Case::new(
            Kind::PlainStatic,
            &plain_get,
            &static_uri,
            Expect::Header(basic_header.clone()),
        ),
        Case::new(Kind::PlainWarm, &plain_get, &warm_uri, Expect::Bearer),
    ]);
    let service = format!("http://{}/", servers.basic_proxy.host());
    let uv = uv_install
        .join()
        .unwrap_or_else(|_| Err("the install thread panicked".to_owned()))
        .and_then(|uv| setup::uv_helper(&sandbox, &uv, &service, &static_uri));
    match &uv {
        Ok((program, version)) => {
            progress(&format!("{version} installed in a temporary virtualenv"));
            cases.push(Case::new(
                Kind::Uv,
                program,
                &static_uri,
                Expect::Header(basic_header),
            ));
        }
        Err(why) => progress(&format!("uv: unavailable ({why})")),
    }

    if options.hold {
        hold::hold(root.path(), &cases);
        return ExitCode::SUCCESS;
    }
    progress(&format!(
        "{} interleaved runs of {} cases",
        options.runs,
        cases.len()
    ));
    for _ in 0..WARMUP {
        for case in &mut cases {
            case.run(&sandbox, &servers, &launcher, false);
        }
    }
    check_access(&servers, &cases);
    let helper_runs = || std::fs::read_to_string(&helper_log).map_or(0, |l| l.lines().count());
    let helper_runs_before = helper_runs();
    for _ in 0..options.runs {
        for case in &mut cases {
            case.run(&sandbox, &servers, &launcher, true);
        }
    }

    let one_repo: Vec<String> = (0..ONE_REPO_GETS)
        .map(|i| {
            let digest = support::registry::sha256(format!("blob {i}").as_bytes());
            request(&format!(
                "{}/blobs/{digest}",
                servers.token_repo("bench/burst")
            ))
        })
        .collect();
    // Round-robin over the repositories, so that every repository's first get starts early.
    let many_repos: Vec<String> = (0..GETS_PER_REPO)
        .flat_map(|i| repos.iter().map(move |repo| (i, repo)))
        .map(|(i, repo)| {
            let digest = support::registry::sha256(format!("{repo} blob {i}").as_bytes());
            request(&format!("{}/blobs/{digest}", servers.token_repo(repo)))
        })
        .collect();
    let many_reps = options.reps.div_ceil(2);
    progress(&format!(
        "bursts: {ONE_REPO_GETS} gets x{}, {} gets x{many_reps}",
        options.reps,
        many_repos.len()
    ));
    let env = (&sandbox, &servers, &launcher);
    let bursts = [
        BurstCase::measure(1, &one_repo, options.reps, (&floor, &get), env),
        BurstCase::measure(REPOS, &many_repos, many_reps, (&floor, &get), env),
    ];

    let report = Report {
        runs: options.runs,
        cases: &cases,
        bursts: &bursts,
        uv: match &uv {
            Ok((_, version)) => Ok(version),
            Err(why) => Err(why),
        },
        helper: &helper,
        load,
        credential_helper_runs: helper_runs() - helper_runs_before,
    };
    report.print();
    progress(&format!("done in {:.0} s", started.elapsed().as_secs_f64()));
    // Returned, not `process::exit`: the registries and the temporary directory are dropped
    // (killed, removed) on the way out.
    if report.all_pass() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A thread joined when dropped: should the benchmark panic while pip is still installing uv,
/// the temporary directory is removed only after pip is done writing into it.
struct JoinOnDrop<T>(Option<std::thread::JoinHandle<T>>);

impl<T> JoinOnDrop<T> {
    fn join(mut self) -> std::thread::Result<T> {
        self.0.take().expect("joined once").join()
    }
}

impl<T> Drop for JoinOnDrop<T> {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

/// The single-process cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Floor,
    FloorStatic,
    StartUp,
    Static,
    Warm,
    WarmHelper,
    Cold,
    Remembered,
    ColdHttps,
    PingHttp,
    PingHttps,
    PlainStatic,
    PlainWarm,
    Uv,
}

impl Kind {
    pub fn title(self) -> &'static str {
        match self {
            Kind::Floor => "process floor: trivial Rust binary, rustc's default linking",
            Kind::FloorStatic => "process floor linked like the helper (static, fixed address)",
            Kind::StartUp => "`credential-helper --version`: start-up only",
            Kind::Static => "`get`, static Basic from docker config",
            Kind::Warm => "`get`, warm: token from the cache",
            Kind::WarmHelper => {
                "`get`, warm, credential from a `docker-credential-*` helper (0.3 s a run)"
            }
            Kind::Cold => "`get`, cold: empty cache",
            Kind::Remembered => "`get`, cold with a remembered challenge",
            Kind::ColdHttps => {
                "`get`, cold over https: empty cache, system roots + the registry's CA"
            }
            Kind::PingHttp => "reference: a new process sending only the `/v2/` ping, over http",
            Kind::PingHttps => {
                "reference: the same over https with rustls, the registry's CA its only root"
            }
            Kind::PlainStatic => "plain `cargo build --release` (dynamic): static `get`",
            Kind::PlainWarm => "plain `cargo build --release` (dynamic): warm `get`",
            Kind::Uv => "uv's helper, the same static credential",
        }
    }

    /// The name in the verdicts.
    pub fn short(self) -> &'static str {
        match self {
            Kind::Floor => "floor",
            Kind::FloorStatic => "floor linked like the helper",
            Kind::StartUp => "start-up",
            Kind::Static => "static `get`",
            Kind::Warm => "warm `get`",
            Kind::WarmHelper => "warm `get` with a credential helper",
            Kind::Cold => "cold `get`",
            Kind::Remembered => "cold `get` with a remembered challenge",
            Kind::ColdHttps => "cold https `get`",
            Kind::PingHttp => "http ping",
            Kind::PingHttps => "https ping",
            Kind::PlainStatic => "static `get` of the plain cargo build",
            Kind::PlainWarm => "warm `get` of the plain cargo build",
            Kind::Uv => "uv",
        }
    }

    /// Whether the case may send requests (the others' would be "–").
    pub fn talks_to_servers(self) -> bool {
        !matches!(self, Kind::Floor | Kind::FloorStatic | Kind::StartUp)
    }
}

/// What a valid answer holds; anything else stops the benchmark, since it would be timing
/// something other than a working helper.
enum Expect {
    NoHeaders,
    Header(String),
    Bearer,
    /// Not a helper answer: stdout whose first line is this (`--version` goes on to say how
    /// the binary was built).
    FirstLine(String),
}

impl Expect {
    fn check(&self, case: &str, outcome: &Outcome) -> Option<support::Parsed> {
        assert_eq!(outcome.code, 0, "{case}: failed\n{outcome}");
        if let Expect::FirstLine(want) = self {
            assert_eq!(
                outcome.stdout.lines().next(),
                Some(want.as_str()),
                "{case}\n{outcome}"
            );
            return None;
        }
        let parsed = support::parse_bazel_answer(&outcome.stdout).unwrap_or_else(|why| {
            panic!("{case}: Bazel would reject the answer ({why})\n{outcome}")
        });
        let authorization = parsed.header("authorization");
        let ok = match self {
            Expect::NoHeaders => parsed.headers.is_empty(),
            Expect::Header(value) => authorization == Some(value),
            Expect::Bearer => authorization.is_some_and(|a| a.starts_with("Bearer ")),
            Expect::FirstLine(_) => unreachable!(),
        };
        assert!(ok, "{case}: unexpected answer\n{outcome}");
        Some(parsed)
    }
}

/// Which cache directory each run of a case gets.
enum CacheMode {
    /// The sandbox's own, kept across runs and shared by the cases.
    Kept,
    /// A new empty one.
    Fresh,
    /// A new one holding copies of this directory's files.
    Seeded(PathBuf),
}

/// A single-process case and its measurements.
pub struct Case {
    pub kind: Kind,
    program: Program,
    request: String,
    expect: Expect,
    cache: CacheMode,
    pub walls: Vec<Duration>,
    rss_kib: Vec<u64>,
    pub minor_faults: Vec<u64>,
    pub requests: Vec<Requests>,
    last: Option<support::Parsed>,
}

impl Case {
    fn new(kind: Kind, program: &Program, uri: &str, expect: Expect) -> Case {
        Case {
            kind,
            program: program.clone(),
            request: support::bazel_request(uri),
            expect,
            cache: CacheMode::Kept,
            walls: Vec::new(),
            rss_kib: Vec::new(),
            minor_faults: Vec::new(),
            requests: Vec::new(),
            last: None,
        }
    }

    fn cache(mut self, mode: CacheMode) -> Case {
        self.cache = mode;
        self
    }

    fn run(&mut self, sandbox: &Sandbox, servers: &Servers, launcher: &Launcher, record: bool) {
        // Preparing the cache directory is not part of the measured time.
        let dir = match &self.cache {
            CacheMode::Kept => None,
            CacheMode::Fresh => Some(sandbox.fresh_cache(None)),
            CacheMode::Seeded(seed) => Some(sandbox.fresh_cache(Some(seed))),
        };
        let program = match dir {
            Some(dir) => self.program.clone().env("CREDENTIAL_HELPER_CACHE_DIR", dir),
            None => self.program.clone(),
        };
        let before = servers.requests();
        let outcome = launcher.run(&program, &self.request);
        let requests = servers.requests().since(before);
        self.last = self.expect.check(self.kind.title(), &outcome);
        if record {
            self.walls.push(outcome.wall);
            self.rss_kib.push(outcome.rss_kib);
            self.minor_faults.push(outcome.minor_faults);
            self.requests.push(requests);
        }
    }

    pub fn peak_rss_kib(&self) -> u64 {
        self.rss_kib.iter().copied().max().unwrap_or(0)
    }
}

/// The answers really open the images: the benchmark times a helper that works.
fn check_access(servers: &Servers, cases: &[Case]) {
    for case in cases {
        let headers = || &case.last.as_ref().unwrap().headers;
        let pulled = match case.kind {
            // A manifest answer carries its own `Accept`; Bazel sends exactly these headers.
            Kind::Static | Kind::PlainStatic => servers.basic.pull(headers(), "bench/static", "v1"),
            Kind::Warm | Kind::WarmHelper | Kind::PlainWarm => {
                servers
                    .token
                    .pull_with_accept(headers(), "bench/warm", "v1")
            }
            Kind::Cold | Kind::Remembered => servers.token.pull(headers(), "bench/cold", "v1"),
            Kind::ColdHttps => servers.tls.pull(headers(), "bench/cold", "v1"),
            Kind::Floor | Kind::FloorStatic | Kind::StartUp | Kind::Uv => continue,
            Kind::PingHttp | Kind::PingHttps => continue,
        };
        if let Err(e) = pulled {
            panic!(
                "{}: the answer does not open the image: {e:?}",
                case.kind.title()
            );
        }
    }
}

/// A burst: every request started at once against a new empty cache, each rep right after a
/// burst of floor processes with the same requests.
pub struct BurstCase {
    pub repos: usize,
    pub gets: usize,
    pub walls: Vec<Duration>,
    pub floor_walls: Vec<Duration>,
    pub rss_kib: u64,
    pub floor_rss_kib: u64,
    pub requests: Vec<Requests>,
}

impl BurstCase {
    fn measure(
        repos: usize,
        requests: &[String],
        reps: usize,
        (floor, get): (&Program, &Program),
        (sandbox, servers, launcher): (&Sandbox, &Servers, &Launcher),
    ) -> BurstCase {
        let mut case = BurstCase {
            repos,
            gets: requests.len(),
            walls: Vec::new(),
            floor_walls: Vec::new(),
            rss_kib: 0,
            floor_rss_kib: 0,
            requests: Vec::new(),
        };
        let title = case.title();
        for _ in 0..reps {
            let floor_burst = launcher.burst(floor, requests);
            check_all(&title, &floor_burst, &Expect::NoHeaders);
            case.floor_walls.push(floor_burst.wall);
            case.floor_rss_kib = case.floor_rss_kib.max(floor_burst.max_rss_kib());

            let program = get
                .clone()
                .env("CREDENTIAL_HELPER_CACHE_DIR", sandbox.fresh_cache(None));
            let before = servers.requests();
            let burst = launcher.burst(&program, requests);
            case.requests.push(servers.requests().since(before));
            check_all(&title, &burst, &Expect::Bearer);
            case.walls.push(burst.wall);
            case.rss_kib = case.rss_kib.max(burst.max_rss_kib());
        }
        case
    }

    pub fn title(&self) -> String {
        match self.repos {
            1 => format!("{} `get`s, one repository", self.gets),
            n => format!("{} `get`s, {n} repositories", self.gets),
        }
    }
}

fn check_all(title: &str, burst: &Burst, expect: &Expect) {
    for outcome in &burst.runs {
        expect.check(title, outcome);
    }
}

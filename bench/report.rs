//! The Markdown tables and the verdict on each target.

use std::path::Path;
use std::time::Duration;

use crate::measure::{median, ms, percentile};
use crate::setup::Requests;
use crate::{BurstCase, Case, Kind};

/// The targets.
const MAX_RATIO_TO_FLOOR: f64 = 1.3;
const MIN_SPEEDUP_OVER_UV: f64 = 5.0;
const MAX_STATIC_RSS_KIB: u64 = 8 * 1024;
/// What https may add to a cold `get` (roots, handshake) over the same exchange over http.
const MAX_HTTPS_EXTRA: Duration = Duration::from_micros(1500);
const ONE_REPO_TOKEN_REQUESTS: usize = 1;
const MANY_REPOS_MAX_TOKEN_REQUESTS: usize = crate::REPOS + 1;

pub struct Report<'a> {
    pub runs: usize,
    pub cases: &'a [Case],
    /// One repository, then many repositories.
    pub bursts: &'a [BurstCase; 2],
    /// uv's version, or why it is unavailable.
    pub uv: Result<&'a str, &'a str>,
    pub helper: &'a Path,
    /// The 1-minute load average before the benchmark started.
    pub load: Option<f64>,
    /// Runs of the credential helper during the measured runs (after warm-up).
    pub credential_helper_runs: usize,
}

/// PASS, FAIL, or SKIP (`None`: could not be measured).
struct Verdict {
    pass: Option<bool>,
    what: String,
}

impl Report<'_> {
    fn case(&self, kind: Kind) -> Option<&Case> {
        self.cases.iter().find(|c| c.kind == kind)
    }

    fn floor(&self) -> Duration {
        median(&self.case(Kind::Floor).unwrap().walls)
    }

    /// The floor linked like the helper, where the helper is linked statically.
    fn static_floor(&self) -> Option<Duration> {
        self.case(Kind::FloorStatic).map(|c| median(&c.walls))
    }

    pub fn print(&self) {
        let floor = self.floor();
        let static_floor = self.static_floor();
        let size = std::fs::metadata(self.helper).map_or(0, |m| m.len());
        println!();
        println!(
            "`credential-helper get`, {} ({:.1} MiB); {} runs per case, interleaved; \
             {} CPUs, load average {} before the run; {}.",
            self.helper.display(),
            size as f64 / (1024.0 * 1024.0),
            self.runs,
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            self.load
                .map_or("unknown".to_owned(), |l| format!("{l:.2}")),
            match self.uv {
                Ok(version) => version.to_owned(),
                Err(why) => format!("uv: unavailable ({why})"),
            }
        );
        println!();
        println!(
            "| case | median ms | p90 ms | × floor | × floor linked like the helper | peak RSS KiB \
             | page faults | requests per run (server side) |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---|");
        for case in self.cases {
            let requests = if case.kind.talks_to_servers() {
                describe_requests(&case.requests)
            } else {
                "–".to_owned()
            };
            let mut faults = case.minor_faults.clone();
            faults.sort_unstable();
            println!(
                "| {} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {requests} |",
                case.kind.title(),
                ms(median(&case.walls)),
                ms(percentile(&case.walls, 0.9)),
                ratio(median(&case.walls), floor),
                static_floor.map_or("–".to_owned(), |f| format!(
                    "{:.2}",
                    ratio(median(&case.walls), f)
                )),
                case.peak_rss_kib(),
                faults[faults.len() / 2],
            );
        }
        println!();
        println!(
            "| burst: all started at once, empty cache | reps | median wall ms | floor burst ms \
             | × floor | peak RSS KiB (floor) | token requests | registry requests |"
        );
        println!("|---|---:|---:|---:|---:|---:|---|---|");
        for burst in self.bursts {
            let (wall, floor_wall) = (median(&burst.walls), median(&burst.floor_walls));
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.2} | {} ({}) | {} | {} |",
                burst.title(),
                burst.walls.len(),
                ms(wall),
                ms(floor_wall),
                ratio(wall, floor_wall),
                burst.rss_kib,
                burst.floor_rss_kib,
                range(burst.requests.iter().map(|r| r.token)),
                range(burst.requests.iter().map(|r| r.registry)),
            );
        }
        println!();
        println!(
            "Wall time from start to exit of each process, started from a small launcher with the \
             request on a pipe as Bazel does; the floor burst is the same requests answered by the \
             floor binary. Peak RSS is `ru_maxrss`, which includes the launcher's ~2 MiB (see the \
             floor row); page faults are the median `ru_minflt`. Requests are counted by the \
             servers: `/v2/` pings by proxies in front of the registries, token requests by the \
             token server. `a–b`: min–max over runs or reps."
        );
        println!();
        for verdict in self.verdicts() {
            let word = match verdict.pass {
                Some(true) => "PASS",
                Some(false) => "FAIL",
                None => "SKIP",
            };
            println!("{word} {}", verdict.what);
        }
        // Not a target: what https costs any client here, and the helper's share of its own.
        let (https, http) = self.https_extra();
        let median_of = |kind| median(&self.case(kind).unwrap().walls);
        let (ping_http, ping_https) = (median_of(Kind::PingHttp), median_of(Kind::PingHttps));
        let floor_extra = ping_https.saturating_sub(ping_http);
        println!(
            "INFO a new process sending only the `/v2/` ping: {:.2} ms over http, {:.2} ms over \
             https with rustls and one root (+{:.2} ms: the server's TLS, the handshake, and TLS \
             code run the first time)",
            ms(ping_http),
            ms(ping_https),
            ms(floor_extra)
        );
        println!(
            "INFO cold https `get` beyond that floor (the helper's own https cost): +{:.2} ms",
            ms(https.saturating_sub(http).saturating_sub(floor_extra))
        );
        // Not a target: what skipping `scripts/build-release` costs.
        for kind in [Kind::PlainStatic, Kind::PlainWarm] {
            if let Some(case) = self.case(kind) {
                println!(
                    "INFO {}: {:.2}x the process floor",
                    kind.short(),
                    ratio(median(&case.walls), floor)
                );
            }
        }
    }

    /// Medians of the cold `get` over https and over http.
    fn https_extra(&self) -> (Duration, Duration) {
        let median_of = |kind| median(&self.case(kind).unwrap().walls);
        (median_of(Kind::ColdHttps), median_of(Kind::Cold))
    }

    pub fn all_pass(&self) -> bool {
        self.verdicts().iter().all(|v| v.pass != Some(false))
    }

    fn verdicts(&self) -> Vec<Verdict> {
        let floor = self.floor();
        let mut verdicts = Vec::new();
        let fast_paths = [Kind::Static, Kind::Warm].map(|k| self.case(k).unwrap());
        for case in fast_paths {
            let x = ratio(median(&case.walls), floor);
            verdicts.push(Verdict {
                pass: Some(x <= MAX_RATIO_TO_FLOOR),
                what: format!(
                    "{} within {MAX_RATIO_TO_FLOOR}x the process floor: {x:.2}x",
                    case.kind.short()
                ),
            });
            // The helper's linking must not be what meets the target.
            if let Some(static_floor) = self.static_floor() {
                let x = ratio(median(&case.walls), static_floor);
                verdicts.push(Verdict {
                    pass: Some(x <= MAX_RATIO_TO_FLOOR),
                    what: format!(
                        "{} within {MAX_RATIO_TO_FLOOR}x the process floor linked like the \
                         helper: {x:.2}x",
                        case.kind.short()
                    ),
                });
            }
        }
        for case in fast_paths {
            let target = format!(
                "{} at least {MIN_SPEEDUP_OVER_UV}x faster than uv's helper",
                case.kind.short()
            );
            verdicts.push(match (self.case(Kind::Uv), self.uv) {
                (Some(uv), _) => {
                    let speedup = ratio(median(&uv.walls), median(&case.walls));
                    Verdict {
                        pass: Some(speedup >= MIN_SPEEDUP_OVER_UV),
                        what: format!("{target}: {speedup:.1}x"),
                    }
                }
                (None, why) => Verdict {
                    pass: None,
                    what: format!("{target}: uv unavailable ({})", why.err().unwrap_or("")),
                },
            });
        }
        // Bazel's claim for a helper-held credential: as fast as any warm get, and nothing run.
        let with_helper = self.case(Kind::WarmHelper).unwrap();
        let x = ratio(median(&with_helper.walls), floor);
        verdicts.push(Verdict {
            pass: Some(x <= MAX_RATIO_TO_FLOOR),
            what: format!(
                "{} within {MAX_RATIO_TO_FLOOR}x the process floor: {x:.2}x",
                Kind::WarmHelper.short()
            ),
        });
        verdicts.push(Verdict {
            pass: Some(self.credential_helper_runs == 0),
            what: format!(
                "{}: 0 helper runs in {} runs: {}",
                Kind::WarmHelper.short(),
                self.runs,
                self.credential_helper_runs
            ),
        });
        let request_counts = [
            (Kind::Warm, 0),
            (Kind::WarmHelper, 0),
            (Kind::Cold, 2),
            (Kind::Remembered, 1),
            (Kind::ColdHttps, 2),
        ];
        for (kind, want) in request_counts {
            let case = self.case(kind).unwrap();
            let totals = case.requests.iter().map(|r| r.total());
            verdicts.push(Verdict {
                pass: Some(totals.clone().all(|n| n == want)),
                what: format!(
                    "{}: {want} request{} per run: {}",
                    kind.short(),
                    if want == 1 { "" } else { "s" },
                    range(totals)
                ),
            });
        }
        let (https, http) = self.https_extra();
        let extra = https.saturating_sub(http);
        verdicts.push(Verdict {
            pass: Some(extra <= MAX_HTTPS_EXTRA),
            what: format!(
                "{} at most {:.1} ms more than the cold `get` over http: +{:.2} ms ({:.2} vs {:.2} ms)",
                Kind::ColdHttps.short(),
                MAX_HTTPS_EXTRA.as_secs_f64() * 1e3,
                extra.as_secs_f64() * 1e3,
                https.as_secs_f64() * 1e3,
                http.as_secs_f64() * 1e3,
            ),
        });
        let [one_repo, many_repos] = self.bursts;
        let tokens = |b: &BurstCase| b.requests.iter().map(|r| r.token).collect::<Vec<_>>();
        let one = tokens(one_repo);
        verdicts.push(Verdict {
            pass: Some(one.iter().all(|&n| n == ONE_REPO_TOKEN_REQUESTS)),
            what: format!(
                "{}: {ONE_REPO_TOKEN_REQUESTS} token request in every rep: {}",
                one_repo.title(),
                range(one.iter().copied())
            ),
        });
        let many = tokens(many_repos);
        verdicts.push(Verdict {
            pass: Some(many.iter().all(|&n| n <= MANY_REPOS_MAX_TOKEN_REQUESTS)),
            what: format!(
                "{}: at most {MANY_REPOS_MAX_TOKEN_REQUESTS} token requests in every rep: {}",
                many_repos.title(),
                range(many.iter().copied())
            ),
        });
        let rss = self.case(Kind::Static).unwrap().peak_rss_kib();
        verdicts.push(Verdict {
            pass: Some(rss <= MAX_STATIC_RSS_KIB),
            what: format!(
                "{} peak RSS at most {MAX_STATIC_RSS_KIB} KiB: {rss} KiB",
                Kind::Static.short()
            ),
        });
        verdicts
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// `3`, or `1–3` when the values differ.
fn range(values: impl Iterator<Item = usize> + Clone) -> String {
    match (values.clone().min(), values.max()) {
        (Some(lo), Some(hi)) if lo == hi => lo.to_string(),
        (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
        _ => "–".to_owned(),
    }
}

/// `2 (1 registry, 1 token)`, with ranges where runs differ.
fn describe_requests(requests: &[Requests]) -> String {
    format!(
        "{} ({} registry, {} token)",
        range(requests.iter().map(|r| r.total())),
        range(requests.iter().map(|r| r.registry)),
        range(requests.iter().map(|r| r.token))
    )
}

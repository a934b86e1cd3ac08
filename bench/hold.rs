//! `--hold`: instead of measuring, the cases as scripts to run by hand (under `perf` or
//! `strace`) against the servers the benchmark started.

use std::path::Path;

use crate::{CacheMode, Case, progress};

/// `--hold`: each case as `<root>/cases/<n>.sh` (run as the benchmark runs it, a new cache
/// directory per run where the case has one), then wait for Enter with the servers up.
pub fn hold(root: &Path, cases: &[Case]) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let dir = root.join("cases");
    std::fs::create_dir_all(&dir).unwrap();
    for (n, case) in cases.iter().enumerate() {
        let p = &case.program;
        let mut env: Vec<String> = p
            .env
            .iter()
            .filter(|(k, _)| {
                k.as_str() != "CREDENTIAL_HELPER_CACHE_DIR" || matches!(case.cache, CacheMode::Kept)
            })
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        if let CacheMode::Fresh | CacheMode::Seeded(_) = &case.cache {
            env.push("CREDENTIAL_HELPER_CACHE_DIR=\"$cache\"".to_owned());
        }
        let seed = match &case.cache {
            CacheMode::Seeded(seed) => {
                format!("cp {}/* \"$cache\"\n", quote(seed.to_str().unwrap()))
            }
            _ => String::new(),
        };
        let cache = match case.cache {
            CacheMode::Kept => String::new(),
            _ => format!(
                "cache=$(mktemp -d {}/cache/run-XXXXXX)\n{seed}",
                quote(root.to_str().unwrap())
            ),
        };
        let command = std::iter::once(p.path.to_str().unwrap())
            .chain(p.args.iter().map(String::as_str))
            .map(quote)
            .collect::<Vec<_>>()
            .join(" ");
        let script = format!(
            "#!/bin/sh\n# {}\n# Prefix the command with e.g. `perf stat` through $WRAP.\n{cache}cd {} &&\n\
             printf %s {} | env -i {} $WRAP {command}\n",
            case.kind.title(),
            quote(p.cwd.to_str().unwrap()),
            quote(&case.request),
            env.join(" "),
        );
        let path = dir.join(format!("{n:02}.sh"));
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        println!("{}  {}", path.display(), case.kind.title());
    }
    progress("holding: the servers run until you press Enter");
    let _ = std::io::stdin().read_line(&mut String::new());
}

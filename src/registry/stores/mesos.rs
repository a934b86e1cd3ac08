//! Mesos/Marathon docker archives: a `.tar.gz` of `~/.docker` (`tar czf docker.tar.gz
//! .docker`) that Marathon fetches into a task's sandbox, holding `.docker/config.json` (or the
//! legacy `.dockercfg`). It is read in memory, never unpacked, and decompression stops at
//! [`MAX_FILE_BYTES`] so a hostile archive cannot fill memory. Keys match as docker config's.

use std::io::Read;
use std::path::{Component, Path};

use flate2::read::MultiGzDecoder;

use super::docker_config::{AuthEntry, DockerConfig, find_auth};
use crate::kernel::error::{Error, describe_json};
use crate::kernel::files::{MAX_FILE_BYTES, read_capped};
use crate::kernel::outcome::Outcome;
use crate::registry::Sourced;
use crate::registry::reference::Target;

/// Archive members that hold credentials, preferred first, and whether each is the legacy
/// format (whose top level is the `auths` map).
const MEMBERS: &[(&str, bool)] = &[(".docker/config.json", false), (".dockercfg", true)];

pub fn lookup(path: &Path, target: &Target) -> Outcome<Sourced> {
    let compressed = match read_capped(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Outcome::Missing(format!("no mesos docker archive at {}", path.display()));
        }
        Err(e) => return Outcome::Failed(e),
    };
    let (member, auths) = match read_archive(path, &compressed) {
        Ok(found) => found,
        Err(e) => return Outcome::Failed(e),
    };
    let name = format!("mesos docker archive {} {member}", path.display());
    match find_auth(&auths, target) {
        Some((key, entry)) => entry.outcome(format!("{name} auths[\"{key}\"]")),
        None => Outcome::Missing(format!("{name} has no entry for {}", target.registry)),
    }
}

/// The `auths` of the preferred credentials member, and that member's name. Public for the
/// fuzz harness.
pub fn read_archive(
    path: &Path,
    compressed: &[u8],
) -> Result<(&'static str, std::collections::BTreeMap<String, AuthEntry>), Error> {
    let bad = |what: &str| {
        Error::new(format!("mesos docker archive {}: {what}", path.display()))
            .hint("make it with `cd ~ && tar czf docker.tar.gz .docker`")
    };
    if !compressed.starts_with(&[0x1f, 0x8b]) {
        return Err(bad("not a gzip file"));
    }
    let mut tar = Vec::new();
    MultiGzDecoder::new(compressed)
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut tar)
        .map_err(|_| bad("corrupt gzip data"))?;
    if tar.len() as u64 > MAX_FILE_BYTES {
        return Err(bad(&format!(
            "larger than {} MiB once decompressed",
            MAX_FILE_BYTES >> 20
        )));
    }
    // Only the file names are looked at, never printed with their contents.
    let not_tar = || bad("the gzip data is not a tar archive");
    let mut found: [Option<Vec<u8>>; MEMBERS.len()] = Default::default();
    let mut archive = tar::Archive::new(tar.as_slice());
    for entry in archive.entries().map_err(|_| not_tar())? {
        let mut entry = entry.map_err(|_| not_tar())?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(|_| not_tar())?;
        // `tar czf x .docker` and `tar czf x ./.docker` differ only by `./`.
        let parts: Vec<_> = name
            .components()
            .filter(|c| *c != Component::CurDir)
            .map(|c| c.as_os_str().to_string_lossy())
            .collect();
        let name = parts.join("/");
        if let Some(i) = MEMBERS.iter().position(|(member, _)| name == *member) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(|_| not_tar())?;
            found[i] = Some(bytes);
        }
    }
    let Some((i, json)) = found
        .into_iter()
        .enumerate()
        .find_map(|(i, f)| Some((i, f?)))
    else {
        return Err(bad("holds neither .docker/config.json nor .dockercfg"));
    };
    let (member, legacy) = MEMBERS[i];
    let parsed = if legacy {
        serde_json::from_slice(&json)
    } else {
        serde_json::from_slice::<DockerConfig>(&json).map(|c| c.auths)
    };
    let auths =
        parsed.map_err(|e| bad(&format!("{member} is not valid: {}", describe_json(&e))))?;
    Ok((member, auths))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o600);
            header.set_cksum();
            builder.append_data(&mut header, name, *data).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    fn read(bytes: &[u8]) -> Result<(&'static str, Vec<String>), String> {
        read_archive(Path::new("/s/docker.tar.gz"), bytes)
            .map(|(m, a)| (m, a.into_keys().collect()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn finds_the_docker_config_member() {
        let config = br#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}}"#;
        let legacy = br#"{"quay.io":{"auth":"dTpw"}}"#;
        assert_eq!(
            read(&tar_gz(&[("./.docker/config.json", config)])).unwrap(),
            (
                ".docker/config.json",
                vec!["https://index.docker.io/v1/".to_string()]
            )
        );
        assert_eq!(
            read(&tar_gz(&[
                (".dockercfg", legacy),
                (".docker/config.json", config)
            ]))
            .unwrap()
            .0,
            ".docker/config.json"
        );
        assert_eq!(
            read(&tar_gz(&[(".dockercfg", legacy)])).unwrap().0,
            ".dockercfg"
        );
    }

    #[test]
    fn malformed_archives() {
        let canary = b"hunter2-canary";
        for (bytes, want) in [
            (canary.to_vec(), "not a gzip file"),
            (tar_gz(&[("other/config.json", canary)]), "holds neither"),
            (
                tar_gz(&[(".docker/config.json", canary)]),
                ".docker/config.json is not valid: invalid JSON",
            ),
            (
                {
                    let mut gz =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    std::io::Write::write_all(&mut gz, &[7u8; 1024]).unwrap();
                    gz.finish().unwrap()
                },
                "not a tar archive",
            ),
            (
                tar_gz(&[(".docker/config.json", canary)])[..20].to_vec(),
                "corrupt gzip data",
            ),
        ] {
            let err = read(&bytes).unwrap_err();
            assert!(
                err.contains(want) && err.contains("/s/docker.tar.gz"),
                "{want}: {err}"
            );
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn decompression_is_capped() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..=(MAX_FILE_BYTES >> 20) {
            std::io::Write::write_all(&mut gz, &zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 100_000);
        let err = read(&bomb).unwrap_err();
        assert!(
            err.contains("larger than 16 MiB once decompressed"),
            "{err}"
        );
    }
}

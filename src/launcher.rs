//! `credential-helper launcher`: prints the files a team checks in to run a pinned release
//! (a POSIX sh launcher, or a DotSlash file), filled in from the release's `SHA256SUMS`, so
//! that nobody copies a digest by hand.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::kernel::digest;
use crate::kernel::env::{Env, vars};
use crate::kernel::error::{Error, Result};

/// `owner/name` of the GitHub repository that publishes the releases, recorded by build.rs
/// from `CREDENTIAL_HELPER_RELEASE_REPOSITORY` (the release workflow sets it to the repository
/// it runs in); empty in other builds, which need `--download-url`.
pub const RELEASE_REPOSITORY: &str = env!("CREDENTIAL_HELPER_RELEASE_REPOSITORY");

/// Where this build's releases are published: `<base>/v<version>/<asset>` is an asset's URL.
pub fn default_download_url() -> Option<String> {
    (!RELEASE_REPOSITORY.is_empty())
        .then(|| format!("https://github.com/{RELEASE_REPOSITORY}/releases/download"))
}

/// Every platform a release may carry, as the release workflow names them.
const PLATFORMS: [(&str, &str); 6] = [
    ("linux", "x86_64"),
    ("linux", "aarch64"),
    ("macos", "x86_64"),
    ("macos", "aarch64"),
    ("windows", "x86_64"),
    ("windows", "aarch64"),
];

pub fn asset_name(os: &str, arch: &str) -> String {
    let exe = if os == "windows" { ".exe" } else { "" };
    format!("credential-helper-{os}-{arch}{exe}")
}

pub const USAGE: &str =
    "  credential-helper launcher --version <v> --checksums <SHA256SUMS> [--download-url <base>]
                                   print a sh launcher for release v<v> to check in
  credential-helper launcher --version <v> --checksums <SHA256SUMS> --dotslash --assets <dir>
                                   print a DotSlash file for it (sizes from the assets in <dir>)
";

/// What to print, from the command line.
pub struct Request {
    version: String,
    checksums: String,
    download_url: String,
    /// The URL was given: regenerating takes `--download-url` again.
    url_given: bool,
    /// `Some(assets dir)`: a DotSlash file, which needs each asset's size.
    dotslash: Option<String>,
}

/// Parses the arguments after `launcher`; `Err` is a usage error.
pub fn parse(args: &[String]) -> std::result::Result<Request, String> {
    let mut version = None;
    let mut checksums = None;
    let mut download_url = None;
    let mut assets = None;
    let mut dotslash = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--dotslash" => {
                dotslash = true;
                continue;
            }
            "--version" => &mut version,
            "--checksums" => &mut checksums,
            "--download-url" => &mut download_url,
            "--assets" => &mut assets,
            other => return Err(format!("`launcher`: unknown argument {other:?}")),
        };
        let Some(value) = args.next() else {
            return Err(format!("`launcher`: {arg} needs a value"));
        };
        if slot.replace(value.clone()).is_some() {
            return Err(format!("`launcher`: {arg} given twice"));
        }
    }
    let version = version.ok_or("`launcher` needs --version <v>")?;
    // The tag is `v<version>`; accept either spelling.
    let version = version.strip_prefix('v').unwrap_or(&version).to_owned();
    // It is pasted into a shell script and URLs: only a release version's characters.
    let plain = |c: char| c.is_ascii_alphanumeric() || "._+-".contains(c);
    if version.is_empty() || !version.chars().all(plain) {
        return Err(format!("`launcher`: {version:?} is not a release version"));
    }
    let checksums = checksums.ok_or("`launcher` needs --checksums <SHA256SUMS file>")?;
    let url_given = download_url.is_some();
    let Some(download_url) = download_url.or_else(default_download_url) else {
        return Err(
            "`launcher`: this build does not know where its releases are published: \
                    pass --download-url <base URL> (release builds take it from the repository \
                    that built them)"
                .into(),
        );
    };
    if !(download_url.starts_with("https://") || download_url.starts_with("http://"))
        || download_url.contains(['\'', '"', '\\', '$', '`', ' ', '\n'])
    {
        return Err(format!(
            "`launcher`: --download-url {download_url:?} is not a plain http(s) URL"
        ));
    }
    let download_url = download_url.trim_end_matches('/').to_owned();
    let dotslash = match (dotslash, assets) {
        (true, Some(dir)) => Some(dir),
        (true, None) => {
            return Err(
                "`launcher --dotslash` needs --assets <dir with the release files> (DotSlash needs each size)"
                    .into(),
            );
        }
        (false, Some(_)) => return Err("`launcher`: --assets goes with --dotslash".into()),
        (false, None) => None,
    };
    Ok(Request {
        version,
        checksums,
        download_url,
        url_given,
        dotslash,
    })
}

/// The text to print.
pub fn render(env: &Env, request: &Request) -> Result<String> {
    let path = env.expand_path(&request.checksums);
    let text = crate::kernel::files::read_required_text(&path, "checksums file")?;
    let sums = parse_sums(&text).map_err(|e| e.context(path.display()))?;
    match &request.dotslash {
        None => sh_launcher(request, &sums),
        Some(dir) => dotslash(request, &sums, env.expand_path(dir)),
    }
}

/// Asset name → lower-case hex SHA-256, for the assets of [`PLATFORMS`]; other names (a
/// release may checksum more files) are skipped.
fn parse_sums(text: &str) -> Result<BTreeMap<String, String>> {
    let known: Vec<String> = PLATFORMS.iter().map(|(o, a)| asset_name(o, a)).collect();
    let mut sums = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // `sha256sum` writes `<hex>  <name>`, or `<hex> *<name>` in binary mode.
        let parsed = line.get(..64).zip(line.get(64..)).and_then(|(hex, rest)| {
            let name = rest
                .strip_prefix("  ")
                .or_else(|| rest.strip_prefix(" *"))?;
            hex.chars()
                .all(|c| c.is_ascii_hexdigit())
                .then(|| (hex.to_ascii_lowercase(), name))
        });
        let Some((hex, name)) = parsed else {
            return Err(Error::new(format!(
                "line {} is not `<sha256>  <file name>` (the sha256sum format)",
                n + 1
            )));
        };
        if !known.iter().any(|k| k == name) {
            continue;
        }
        if sums.insert(name.to_owned(), hex).is_some() {
            return Err(Error::new(format!("{name} is listed twice")));
        }
    }
    Ok(sums)
}

fn sh_launcher(request: &Request, sums: &BTreeMap<String, String>) -> Result<String> {
    let mut cases = String::new();
    for (os, arch) in &PLATFORMS[..4] {
        if let Some(hex) = sums.get(&asset_name(os, arch)) {
            cases.push_str(&format!("  {os}-{arch}) sha256={hex} ;;\n"));
        }
    }
    if cases.is_empty() {
        return Err(Error::new(
            "the checksums file lists no Linux or macOS asset (credential-helper-<os>-<arch>)",
        ));
    }
    Ok(SH_TEMPLATE
        .replace("@VERSION@", &request.version)
        .replace(
            "@URL_FLAG@",
            &match request.url_given {
                true => format!(" --download-url {}", request.download_url),
                false => String::new(),
            },
        )
        .replace("@DOWNLOAD_URL@", &request.download_url)
        .replace("@DOWNLOAD_VAR@", vars::DOWNLOAD_URL)
        .replace("@CASES@\n", &cases))
}

fn dotslash(request: &Request, sums: &BTreeMap<String, String>, dir: PathBuf) -> Result<String> {
    let mut platforms = serde_json::Map::new();
    for (os, arch) in PLATFORMS {
        let name = asset_name(os, arch);
        let Some(hex) = sums.get(&name) else {
            continue;
        };
        let path = dir.join(&name);
        let cannot = |e: std::io::Error| {
            Error::new(format!("cannot read {}: {e}", path.display()))
                .hint("--assets names the directory holding the release files")
        };
        let (sha, size) = std::fs::File::open(&path)
            .and_then(digest::sha256_reader)
            .map_err(cannot)?;
        // The size comes from this file, so it must be the file the checksum describes.
        if digest::hex(&sha) != *hex {
            return Err(Error::new(format!(
                "{} does not match its SHA256SUMS line (sha256 {})",
                path.display(),
                digest::hex(&sha)
            )));
        }
        let url = format!("{}/v{}/{name}", request.download_url, request.version);
        platforms.insert(
            format!("{os}-{arch}"),
            serde_json::json!({"size": size, "hash": "sha256", "digest": hex, "providers": [{"url": url}]}),
        );
    }
    if platforms.is_empty() {
        return Err(Error::new(
            "the checksums file lists no credential-helper-<os>-<arch> asset",
        ));
    }
    let file = serde_json::json!({"name": "credential-helper", "platforms": platforms});
    let json = serde_json::to_string_pretty(&file).map_err(|e| Error::new(e.to_string()))?;
    Ok(format!("#!/usr/bin/env dotslash\n\n{json}\n"))
}

/// The sh launcher. POSIX sh (dash runs it), one line on stderr and exit 1 on any failure,
/// and after the first download nothing but `exec`: Bazel starts it once per URL.
const SH_TEMPLATE: &str = r#"#!/bin/sh
# credential-helper launcher for release v@VERSION@. Generated by
# `credential-helper launcher --version @VERSION@ --checksums SHA256SUMS@URL_FLAG@`: regenerate, do not edit.
# The first run downloads the binary for this OS and CPU, verifies its SHA-256 and caches it in
# ${XDG_CACHE_HOME:-$HOME/.cache}/credential-helper/bin/@VERSION@/; every run then execs it.
# @DOWNLOAD_VAR@ replaces the download location (a mirror): <it>/v@VERSION@/<asset>.
set -u
version=@VERSION@

die() {
  echo "credential-helper launcher: $*" >&2
  exit 1
}

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=macos ;;
  *) die "no release binary for OS $(uname -s) (on Windows use the .exe, see the README)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) die "no release binary for CPU $(uname -m)" ;;
esac
case "$os-$arch" in
@CASES@
  *) die "release v$version has no binary for $os-$arch" ;;
esac
asset=credential-helper-$os-$arch

if [ -n "${XDG_CACHE_HOME:-}" ]; then
  cache=$XDG_CACHE_HOME
elif [ -n "${HOME:-}" ]; then
  cache=$HOME/.cache
else
  die "neither XDG_CACHE_HOME nor HOME is set: nowhere to cache the binary"
fi
dir=$cache/credential-helper/bin/$version
bin=$dir/$asset

if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
  url=${@DOWNLOAD_VAR@:-@DOWNLOAD_URL@}
  url=${url%/}/v$version/$asset
  mkdir -p "$dir" 2>/dev/null || die "cannot create $dir"
  # Downloaded beside its final place, then renamed: a concurrent run never execs half a file.
  tmp=$dir/.$asset.$$.tmp
  trap 'rm -f "$tmp"' EXIT
  trap 'rm -f "$tmp"; exit 1' HUP INT TERM
  if command -v curl >/dev/null 2>&1; then
    err=$(curl -fsSL --retry 2 -o "$tmp" "$url" 2>&1) ||
      die "cannot download $url: $(printf '%s' "$err" | tr '\n' ' ')"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$tmp" "$url" || die "cannot download $url (wget failed)"
  else
    die "cannot download $url: neither curl nor wget is installed"
  fi
  if command -v sha256sum >/dev/null 2>&1; then
    got=$(sha256sum <"$tmp")
  elif command -v shasum >/dev/null 2>&1; then
    got=$(shasum -a 256 <"$tmp")
  else
    die "cannot verify $asset: neither sha256sum nor shasum is installed"
  fi
  got=${got%% *}
  if [ "$got" != "$sha256" ]; then
    rm -f "$tmp"
    die "checksum mismatch for $url: expected sha256 $sha256, got $got; removed the download"
  fi
  if ! chmod 755 "$tmp" || ! mv -f "$tmp" "$bin"; then
    die "cannot install $bin"
  fi
fi
exec "$bin" "$@"
"#;

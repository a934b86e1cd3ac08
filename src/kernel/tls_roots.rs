//! Which certificates https trusts, and loading them.
//!
//! macOS and Windows verify a server's chain through the OS ([`Roots::Os`]): nothing is loaded
//! in bulk (loading every root through the macOS trust settings takes hundreds of milliseconds
//! on managed Macs). Linux has no such service, so exactly one source is read: `SSL_CERT_FILE`,
//! else `SSL_CERT_DIR`, else the first distribution bundle file that exists ([`BUNDLES`]), else
//! the directory [`DIRECTORY`]. Never a bundle and a directory both: on Debian the directory
//! holds every certificate of the bundle again, one file each, and reading ~290 files cost
//! more than the rest of a cold https `get`.
//!
//! Reading happens on a thread of its own, started when the TLS client is built and waited for
//! (until the call's deadline) only when a server's certificate arrives: the reading overlaps
//! the connection, and a bundle on a hung network file system ends the `get` with an error in
//! time instead of holding it. What is read is an [`Index`]: see there why.

use std::path::{Path, PathBuf};

use crate::kernel::deadline::{Deadline, Running};
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result};
use crate::kernel::files;
use crate::kernel::platform::{Platform, split_path_list};

mod pem;
pub use pem::{Index, names, parse_pem};

/// The distributions' CA bundle files, in the order probed (Go's `crypto/x509` list, plus
/// Arch's): Debian, Ubuntu, Gentoo, Arch and Alpine (`ca-certificates.crt`), Fedora and RHEL 6,
/// openSUSE, OpenELEC, Fedora, CentOS and RHEL 7+ (the `ca-trust` extract), Alpine's own name,
/// Arch's extract.
pub const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/etc/ca-certificates/extracted/tls-ca-bundle.pem",
];

/// The certificate directory read when no bundle file exists (OpenSSL's default).
pub const DIRECTORY: &str = "/etc/ssl/certs";

/// Where the trusted roots come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Roots {
    /// The OS verifies each chain (macOS: the Security framework; Windows: CryptoAPI).
    Os,
    /// Exactly these, named by the variable `var`: each must exist.
    Named {
        var: &'static str,
        sources: Vec<Source>,
    },
    /// The first of these that exists.
    FirstOf(Vec<Source>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A file of concatenated PEM certificates.
    Bundle(PathBuf),
    /// A directory of PEM files (OpenSSL's `c_rehash` layout, or any `.pem` files).
    Directory(PathBuf),
}

/// Where `platform` takes its roots from, given `SSL_CERT_FILE` and `SSL_CERT_DIR` (a list, `:`
/// between entries, as OpenSSL reads it). Those two are OpenSSL's conventions, read on Linux
/// only: the OS verifiers of macOS and Windows have their own stores.
pub fn roots(platform: Platform, cert_file: Option<&str>, cert_dir: Option<&str>) -> Roots {
    if platform != Platform::Linux {
        return Roots::Os;
    }
    if let Some(file) = cert_file {
        return Roots::Named {
            var: vars::SSL_CERT_FILE,
            sources: vec![Source::Bundle(PathBuf::from(file))],
        };
    }
    if let Some(dirs) = cert_dir {
        let sources: Vec<Source> = split_path_list(Platform::Linux, dirs)
            .into_iter()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Source::Directory)
            .collect();
        if !sources.is_empty() {
            return Roots::Named {
                var: vars::SSL_CERT_DIR,
                sources,
            };
        }
    }
    let mut sources: Vec<Source> = BUNDLES
        .iter()
        .map(|b| Source::Bundle(PathBuf::from(b)))
        .collect();
    sources.push(Source::Directory(PathBuf::from(DIRECTORY)));
    Roots::FirstOf(sources)
}

/// Starts reading the certificates of `roots` (not [`Roots::Os`], which reads none) on a
/// thread of its own (a read may hang), to be waited for until `deadline`.
pub fn start(roots: &Roots, deadline: &Deadline) -> Loading {
    let job = roots.clone();
    Loading {
        running: deadline.spawn(move || load_now(&job)),
        roots: roots.clone(),
    }
}

/// Reading started by [`start`].
#[derive(Debug)]
pub struct Loading {
    running: Running<Result<Loaded>>,
    roots: Roots,
}

impl Loading {
    pub fn wait(self) -> Result<Loaded> {
        self.running.wait().unwrap_or_else(|| {
            Err(Error::new(format!(
                "reading the TLS roots ({}) did not finish in time",
                describe(&self.roots)
            ))
            .hint(format!(
                "is the file system holding them hung? Point {} at a local CA bundle",
                vars::SSL_CERT_FILE
            )))
        })
    }
}

/// [`start`], then wait.
#[cfg(test)]
pub fn load(roots: &Roots, deadline: &Deadline) -> Result<Loaded> {
    start(roots, deadline).wait()
}

/// What was read, and from where (for messages).
#[derive(Debug)]
pub struct Loaded {
    pub index: Index,
    /// The sources read; empty when none of [`Roots::FirstOf`] exists.
    pub from: Vec<PathBuf>,
}

fn load_now(roots: &Roots) -> Result<Loaded> {
    let mut loaded = Loaded {
        index: Index::default(),
        from: Vec::new(),
    };
    match roots {
        Roots::Os => {}
        Roots::Named { var, sources } => {
            for source in sources {
                let path = source.path();
                if !read_source(source, &mut loaded.index)? {
                    return Err(Error::new(format!(
                        "{var} names {}, which does not exist",
                        path.display()
                    ))
                    .hint(format!("point {var} at a PEM CA bundle, or unset it")));
                }
                loaded.from.push(path.to_path_buf());
            }
        }
        Roots::FirstOf(sources) => {
            for source in sources {
                if read_source(source, &mut loaded.index)? {
                    loaded.from.push(source.path().to_path_buf());
                    break;
                }
            }
        }
    }
    Ok(loaded)
}

impl Source {
    pub fn path(&self) -> &Path {
        match self {
            Source::Bundle(p) | Source::Directory(p) => p,
        }
    }
}

/// Adds the certificates of `source` to `store`; `false` if it does not exist.
fn read_source(source: &Source, index: &mut Index) -> Result<bool> {
    match source {
        Source::Bundle(path) => read_bundle(path, index),
        Source::Directory(dir) => {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(e) => {
                    return Err(Error::new(format!("cannot read {}: {e}", dir.display())));
                }
            };
            let names: Vec<String> = entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect();
            for name in directory_files(&names) {
                // A dangling link or a subdirectory is not a certificate; skip it, as OpenSSL does.
                let _ = read_bundle(&dir.join(name), index);
            }
            Ok(true)
        }
    }
}

/// The files of a certificate directory worth reading: OpenSSL's hash names (`5ad8a5d6.0`)
/// when there are any, which name every certificate once (Debian's directory also holds a
/// readable-name link to each and the whole bundle); else every `.pem`, `.crt` and `.cer` file.
pub fn directory_files(names: &[String]) -> Vec<&str> {
    let hashed: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| is_hash_name(n))
        .collect();
    if !hashed.is_empty() {
        return hashed;
    }
    names
        .iter()
        .map(String::as_str)
        .filter(|n| [".pem", ".crt", ".cer"].iter().any(|e| n.ends_with(e)))
        .collect()
}

/// `<8 hex digits>.<number>`: a certificate link made by `openssl rehash` (CRLs are `.r<n>`).
fn is_hash_name(name: &str) -> bool {
    let Some((hash, n)) = name.split_once('.') else {
        return false;
    };
    hash.len() == 8
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
}

/// Reads a PEM bundle into `index`; `false` if it does not exist.
fn read_bundle(path: &Path, index: &mut Index) -> Result<bool> {
    let Some(pem) = files::read_capped(path)? else {
        return Ok(false);
    };
    index.add_pem(path, pem)?;
    Ok(true)
}

/// The error when `roots` (of which `read` were read) hold no certificate, and the user gave
/// no CA of their own either.
pub fn nothing_trusted(roots: &Roots, read: &[PathBuf]) -> Error {
    let where_ = match read {
        [] => format!("nothing found in {}", describe(roots)),
        read => format!(
            "no certificate in {}",
            read.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Error::new(format!("no trusted TLS root certificates: {where_}")).hint(format!(
        "install the ca-certificates package, or set {} or {} to a PEM CA bundle",
        vars::SSL_CERT_FILE,
        vars::CA_CERT
    ))
}

/// The sources, for messages.
pub fn describe(roots: &Roots) -> String {
    let paths = |sources: &[Source]| {
        sources
            .iter()
            .map(|s| s.path().display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match roots {
        Roots::Os => "the operating system's".to_string(),
        Roots::Named { var, sources } => format!("{var}: {}", paths(sources)),
        Roots::FirstOf(sources) => format!("the first of {}", paths(sources)),
    }
}

#[cfg(test)]
mod tests;

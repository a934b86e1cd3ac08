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
//! Reading happens on a thread of its own, waited for until the call's deadline: a bundle on a
//! hung network file system ends the `get` with an error in time instead of holding it.

use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;

use crate::kernel::deadline::Deadline;
use crate::kernel::env::vars;
use crate::kernel::error::{Error, Result};
use crate::kernel::files;
use crate::kernel::platform::{Platform, split_path_list};

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

/// The trust anchors of `roots` (not [`Roots::Os`], which loads none), read before
/// `deadline` on a thread of its own (a read may hang).
pub fn load(roots: &Roots, deadline: &Deadline) -> Result<Loaded> {
    let job = roots.clone();
    deadline
        .run_within(move || load_now(&job))
        .unwrap_or_else(|| {
            Err(Error::new(format!(
                "reading the TLS roots ({}) did not finish in time",
                describe(roots)
            ))
            .hint(format!(
                "is the file system holding them hung? Point {} at a local CA bundle",
                vars::SSL_CERT_FILE
            )))
        })
}

/// What was loaded, and from where (for messages).
#[derive(Debug)]
pub struct Loaded {
    pub roots: rustls::RootCertStore,
    /// The sources read; empty when none of [`Roots::FirstOf`] exists.
    pub from: Vec<PathBuf>,
}

fn load_now(roots: &Roots) -> Result<Loaded> {
    let mut loaded = Loaded {
        roots: rustls::RootCertStore::empty(),
        from: Vec::new(),
    };
    match roots {
        Roots::Os => {}
        Roots::Named { var, sources } => {
            for source in sources {
                let path = source.path();
                if !read_source(source, &mut loaded.roots)? {
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
                if read_source(source, &mut loaded.roots)? {
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
fn read_source(source: &Source, store: &mut rustls::RootCertStore) -> Result<bool> {
    match source {
        Source::Bundle(path) => read_bundle(path, store),
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
                let _ = read_bundle(&dir.join(name), store);
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

/// Reads a PEM bundle in pieces into `store`, keeping each certificate only as its trust anchor
/// (subject and key): every page touched costs a fault, and whole, a distribution's bundle is
/// 220 KB of text and 150 KB of DER. `false` if it does not exist.
fn read_bundle(path: &Path, store: &mut rustls::RootCertStore) -> Result<bool> {
    use std::io::Read;
    let Some(mut file) = files::open_regular(path)? else {
        return Ok(false);
    };
    let mut pem = PemCerts::new(path, |der: &[u8]| {
        // A bundle may hold a certificate webpki cannot use; the others still count.
        let _ = store.add(CertificateDer::from(der));
    });
    let mut buf = vec![0u8; 32 * 1024];
    let mut total = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > files::MAX_FILE_BYTES {
            return Err(files::too_large(path, files::MAX_FILE_BYTES));
        }
        pem.feed(&buf[..n])?;
    }
    pem.finish()?;
    Ok(true)
}

/// The certificates of a PEM file (other sections, such as keys or CRLs, are skipped).
pub fn parse_pem(path: &Path, pem: &[u8], out: &mut Vec<CertificateDer<'static>>) -> Result<()> {
    let mut certs = PemCerts::new(path, |der: &[u8]| {
        out.push(CertificateDer::from(der.to_vec()))
    });
    certs.feed(pem)?;
    certs.finish()
}

/// A PEM reader fed in pieces, calling `found` with each certificate's DER. Certificates are
/// public, so they are decoded with the `base64` crate: rustls-pki-types' PEM reader decodes in
/// constant time, as keys need, and took ~3 ms for Debian's bundle.
struct PemCerts<'a, F: FnMut(&[u8])> {
    path: &'a Path,
    found: F,
    /// The unfinished last line of what was fed.
    pending: Vec<u8>,
    inside: bool,
    b64: Vec<u8>,
    der: Vec<u8>,
}

impl<'a, F: FnMut(&[u8])> PemCerts<'a, F> {
    fn new(path: &'a Path, found: F) -> Self {
        PemCerts {
            path,
            found,
            pending: Vec::new(),
            inside: false,
            b64: Vec::with_capacity(4096),
            der: Vec::with_capacity(4096),
        }
    }

    fn feed(&mut self, mut bytes: &[u8]) -> Result<()> {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            if self.pending.is_empty() {
                self.line(&bytes[..end])?;
            } else {
                let mut line = std::mem::take(&mut self.pending);
                line.extend_from_slice(&bytes[..end]);
                self.line(&line)?;
                line.clear();
                self.pending = line;
            }
            bytes = &bytes[end + 1..];
        }
        self.pending.extend_from_slice(bytes);
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        let last = std::mem::take(&mut self.pending);
        self.line(&last)?;
        match self.inside {
            true => Err(self.invalid("a certificate has no END line")),
            false => Ok(()),
        }
    }

    fn line(&mut self, line: &[u8]) -> Result<()> {
        use base64::Engine as _;
        const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
        const END: &[u8] = b"-----END CERTIFICATE-----";
        let line = line.trim_ascii();
        if !self.inside {
            self.inside = line == BEGIN;
            self.b64.clear();
        } else if line == END {
            self.der.clear();
            base64::engine::general_purpose::STANDARD
                .decode_vec(&self.b64, &mut self.der)
                .map_err(|_| self.invalid("not base64"))?;
            (self.found)(&self.der);
            self.inside = false;
        } else {
            self.b64.extend_from_slice(line);
        }
        Ok(())
    }

    fn invalid(&self, why: &str) -> Error {
        Error::new(format!(
            "invalid PEM certificate in {}: {why}",
            self.path.display()
        ))
    }
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

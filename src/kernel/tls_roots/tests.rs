//! The trust decision for all three platforms, on whatever host runs the tests, and loading
//! exactly one source.

use std::path::{Path, PathBuf};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::time::Duration;

use super::*;
use crate::kernel::platform::Platform::{Linux, MacOs, Windows};

fn bundle(p: &str) -> Source {
    Source::Bundle(PathBuf::from(p))
}

fn dir(p: &str) -> Source {
    Source::Directory(PathBuf::from(p))
}

fn defaults() -> Vec<Source> {
    let mut all: Vec<Source> = BUNDLES.iter().map(|b| bundle(b)).collect();
    all.push(dir("/etc/ssl/certs"));
    all
}

#[test]
fn which_roots_each_platform_trusts() {
    type Row<'a> = (Platform, Option<&'a str>, Option<&'a str>, Roots);
    let named = |var, sources| Roots::Named { var, sources };
    let table: Vec<Row> = vec![
        // macOS and Windows: the OS verifies; OpenSSL's variables are not theirs.
        (MacOs, None, None, Roots::Os),
        (MacOs, Some("/corp.pem"), Some("/certs"), Roots::Os),
        (Windows, Some("C:/corp.pem"), None, Roots::Os),
        // Linux: the distribution's first existing bundle, else the directory.
        (Linux, None, None, Roots::FirstOf(defaults())),
        // One variable names the only source; the file wins over the directories.
        (
            Linux,
            Some("/corp.pem"),
            Some("/certs"),
            named(vars::SSL_CERT_FILE, vec![bundle("/corp.pem")]),
        ),
        (
            Linux,
            None,
            Some("/a:/b"),
            named(vars::SSL_CERT_DIR, vec![dir("/a"), dir("/b")]),
        ),
        (Linux, None, Some(":"), Roots::FirstOf(defaults())),
    ];
    for (platform, file, dirs, want) in table {
        assert_eq!(
            roots(platform, file, dirs),
            want,
            "{platform:?} SSL_CERT_FILE={file:?} SSL_CERT_DIR={dirs:?}"
        );
    }
    // Debian's and Fedora's bundles come first, in that order; the directory last.
    assert_eq!(BUNDLES[0], "/etc/ssl/certs/ca-certificates.crt");
    assert_eq!(BUNDLES[1], "/etc/pki/tls/certs/ca-bundle.crt");
    assert!(BUNDLES.contains(&"/etc/ssl/ca-bundle.pem"), "openSUSE");
    assert!(BUNDLES.contains(&"/etc/ssl/cert.pem"), "Alpine");
}

#[test]
fn a_directory_is_read_by_its_hash_names_when_it_has_them() {
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let debian = names(&[
        "ca-certificates.crt",
        "ISRG_Root_X1.pem",
        "4042bcee.0",
        "4042bcee.1",
        "5ad8a5d6.r0",
        "README",
    ]);
    assert_eq!(directory_files(&debian), ["4042bcee.0", "4042bcee.1"]);
    let plain = names(&["corp.pem", "other.crt", "win.cer", "notes.txt", "abc.0"]);
    assert_eq!(
        directory_files(&plain),
        ["corp.pem", "other.crt", "win.cer"]
    );
    for (name, hashed) in [
        ("0123abcd.0", true),
        ("0123ABCD.12", true),
        ("0123abc.0", false),
        ("0123abcg.0", false),
        ("0123abcd.", false),
        ("0123abcd.pem", false),
    ] {
        assert_eq!(is_hash_name(name), hashed, "{name}");
    }
}

/// A self-signed certificate in PEM, made fresh.
/// A self-signed certificate for the host `name`, with `name` as its subject's common name.
fn pem_cert(name: &str) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.self_signed(&key).unwrap().pem()
}

fn within_a_second() -> Deadline {
    Deadline::after(Duration::from_secs(1))
}

#[test]
fn only_the_first_existing_source_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let path = |p: &str| tmp.path().join(p);
    std::fs::write(path("bundle.pem"), pem_cert("a") + &pem_cert("b")).unwrap();
    std::fs::create_dir(path("certs")).unwrap();
    std::fs::write(path("certs/0123abcd.0"), pem_cert("c")).unwrap();
    let first_of = Roots::FirstOf(vec![
        Source::Bundle(path("missing.pem")),
        Source::Bundle(path("bundle.pem")),
        Source::Directory(path("certs")),
    ]);
    let loaded = load(&first_of, &within_a_second()).unwrap();
    assert_eq!(loaded.index.len(), 2, "the bundle, not the directory too");
    assert_eq!(loaded.from, [path("bundle.pem")]);

    let only_dir = Roots::FirstOf(vec![
        Source::Bundle(path("missing.pem")),
        Source::Directory(path("certs")),
    ]);
    let loaded = load(&only_dir, &within_a_second()).unwrap();
    assert_eq!((loaded.index.len(), loaded.from), (1, vec![path("certs")]));

    let nothing = Roots::FirstOf(vec![Source::Bundle(path("missing.pem"))]);
    let loaded = load(&nothing, &within_a_second()).unwrap();
    assert!(loaded.index.is_empty() && loaded.from.is_empty());
}

#[test]
fn a_named_source_must_exist_and_be_pem() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = Roots::Named {
        var: vars::SSL_CERT_FILE,
        sources: vec![Source::Bundle(tmp.path().join("nope.pem"))],
    };
    let err = load(&missing, &within_a_second()).unwrap_err().to_string();
    assert!(
        err.contains("SSL_CERT_FILE names") && err.contains("nope.pem") && err.contains("unset"),
        "{err}"
    );
    let broken = tmp.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let named = Roots::Named {
        var: vars::SSL_CERT_FILE,
        sources: vec![Source::Bundle(broken)],
    };
    let err = load(&named, &within_a_second()).unwrap_err().to_string();
    assert!(err.contains("invalid PEM certificate in"), "{err}");
    let unterminated = tmp.path().join("cut.pem");
    std::fs::write(&unterminated, &pem_cert("x")[..200]).unwrap();
    let named = Roots::Named {
        var: vars::SSL_CERT_FILE,
        sources: vec![Source::Bundle(unterminated)],
    };
    let err = load(&named, &within_a_second()).unwrap_err().to_string();
    assert!(err.contains("no END line"), "{err}");
}

#[test]
fn pem_bundles_are_read_as_rustls_reads_them() {
    // CRLF line ends, text between blocks, a key block skipped.
    let (a, b) = (pem_cert("a"), pem_cert("b"));
    let bundle = format!(
        "# Debian bundle\n{}\nsome text\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n{b}",
        a.replace('\n', "\r\n")
    );
    let mut ours = Vec::new();
    parse_pem(Path::new("b.pem"), bundle.as_bytes(), &mut ours).unwrap();
    let theirs: Vec<CertificateDer> = [a, b]
        .iter()
        .map(|p| CertificateDer::from_pem_slice(p.as_bytes()).unwrap())
        .collect();
    assert_eq!(ours, theirs);
    // The distribution's bundle of this machine, where there is one.
    for bundle in BUNDLES {
        if let Ok(pem) = std::fs::read(bundle) {
            let mut ours = Vec::new();
            parse_pem(Path::new(bundle), &pem, &mut ours).unwrap();
            let theirs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(&pem)
                .map(Result::unwrap)
                .collect();
            assert!(!ours.is_empty() && ours == theirs, "{bundle}");
        }
    }
}

#[test]
fn loading_past_the_deadline_is_an_error_in_time() {
    let gone = Deadline::after(Duration::ZERO);
    let roots = Roots::FirstOf(vec![Source::Bundle(PathBuf::from("/nonexistent.pem"))]);
    let err = load(&roots, &gone).unwrap_err().to_string();
    assert!(err.contains("did not finish in time"), "{err}");
    assert!(err.contains("SSL_CERT_FILE"), "{err}");
}

/// Every certificate's subject as webpki reads it for a trust anchor.
fn anchor_subjects(certs: &[CertificateDer<'static>]) -> Vec<Vec<u8>> {
    certs
        .iter()
        .map(|c| {
            let mut store = rustls::RootCertStore::empty();
            store.add(c.clone()).unwrap();
            store.roots[0].subject.as_ref().to_vec()
        })
        .collect()
}

#[test]
fn names_are_read_as_webpki_reads_them_even_from_the_start_of_a_certificate() {
    let mut certs = Vec::new();
    // A subject longer than 127 bytes takes a long-form length.
    let mut long = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    let cn = "a name long enough to need a two-byte length ".repeat(4);
    long.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let long = long
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let pems = pem_cert("a") + &long.pem();
    parse_pem(Path::new("t.pem"), pems.as_bytes(), &mut certs).unwrap();
    for bundle in BUNDLES {
        if let Ok(pem) = std::fs::read(bundle) {
            parse_pem(Path::new(bundle), &pem, &mut certs).unwrap();
        }
    }
    for (cert, subject) in certs.iter().zip(anchor_subjects(&certs)) {
        let read = names(cert).unwrap();
        assert_eq!(read.subject, subject);
        // Self-signed, as roots are.
        assert_eq!(read.issuer, read.subject);
        // Any start that holds the subject is enough; a shorter one says so.
        let end = read.subject.as_ptr() as usize - cert.as_ptr() as usize + subject.len();
        assert_eq!(names(&cert[..end]).unwrap().subject, subject);
        for cut in [0, 1, 4, 9, end / 2, end - 1] {
            assert_eq!(
                names(&cert[..cut]),
                Err(pem::Walk::Truncated),
                "cut at {cut}"
            );
        }
    }
    for malformed in [
        &b"\x31\x03\x02\x01\x00"[..],
        b"\x30\x80",
        b"\x30\x85\x01\x01\x01\x01\x01",
    ] {
        assert_eq!(names(malformed), Err(pem::Walk::Malformed));
    }
}

#[test]
fn an_index_decodes_only_the_certificates_asked_for_by_subject() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (pem_cert("a"), pem_cert("b"));
    let bundle = tmp.path().join("bundle.pem");
    std::fs::write(&bundle, a.clone() + &b).unwrap();
    let roots = Roots::FirstOf(vec![Source::Bundle(bundle)]);
    let loaded = load(&roots, &within_a_second()).unwrap();
    let b_der = CertificateDer::from_pem_slice(b.as_bytes()).unwrap();
    let b_subject = names(&b_der).unwrap().subject.to_vec();
    assert_eq!(loaded.index.issued_to(&[&b_subject]), [b_der]);
    assert!(loaded.index.issued_to(&[b"no such name"]).is_empty());
    // Debian's bundle: every certificate is found by its own subject.
    for bundle in BUNDLES.iter().filter(|b| Path::new(b).exists()) {
        let roots = Roots::FirstOf(vec![Source::Bundle(PathBuf::from(bundle))]);
        let loaded = load(&roots, &within_a_second()).unwrap();
        let pem = std::fs::read(bundle).unwrap();
        let all: Vec<CertificateDer> = CertificateDer::pem_slice_iter(&pem)
            .map(Result::unwrap)
            .collect();
        assert_eq!(loaded.index.len(), all.len(), "{bundle}");
        for (cert, subject) in all.iter().zip(anchor_subjects(&all)) {
            assert!(
                loaded.index.issued_to(&[&subject]).contains(cert),
                "{bundle}"
            );
        }
    }
}

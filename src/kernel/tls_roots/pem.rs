//! Reading PEM certificates, and the index of a trusted bundle: each certificate known by its
//! subject, decoded in full only when a server's chain names that subject as an issuer.
//!
//! A distribution's bundle is ~144 certificates, 220 KB of base64. Decoding all of it and
//! making every certificate a trust anchor took about a millisecond of each cold https `get`;
//! a server's chain needs one or two of them. So the index decodes only the start of each
//! certificate (enough for its subject) and keeps the text.
//!
//! Certificates are public, so they are decoded with the `base64` crate: rustls-pki-types'
//! PEM reader decodes in constant time, as keys need, and took ~3 ms for Debian's bundle.

use std::ops::Range;
use std::path::Path;

use base64::Engine as _;
use rustls_pki_types::CertificateDer;

use memchr::memmem;

use crate::kernel::error::{Error, Result};

/// Base64 characters decoded to find a subject: 480 bytes of DER, past the subject of every
/// certificate in Debian's bundle. A longer start is decoded whole.
const PREFIX_CHARS: usize = 640;

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";

/// Trusted certificates by subject.
#[derive(Debug, Default)]
pub struct Index {
    /// The PEM text of every source read, one after another.
    text: Vec<u8>,
    certs: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    /// The contents of the subject `Name` (without its tag), as webpki compares names.
    subject: Vec<u8>,
    /// The base64 body in `text`, line breaks included.
    body: Range<usize>,
}

impl Index {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Adds the certificates of the PEM text `pem`, read from `path` (for messages). One whose
    /// subject cannot be read is skipped: webpki could not use it as a trust anchor either.
    pub fn add_pem(&mut self, path: &Path, pem: Vec<u8>) -> Result<()> {
        let offset = self.text.len();
        let mut found = Vec::new();
        for body in bodies(&pem) {
            let body = body.map_err(|why| invalid(path, why))?;
            let mut der =
                decode(&pem[body.clone()], PREFIX_CHARS).map_err(|why| invalid(path, why))?;
            if let Err(Walk::Truncated) = names(&der) {
                der = decode(&pem[body.clone()], usize::MAX).map_err(|why| invalid(path, why))?;
            }
            if let Ok(names) = names(&der) {
                found.push(Entry {
                    subject: names.subject.to_vec(),
                    body: offset + body.start..offset + body.end,
                });
            }
        }
        if self.text.is_empty() {
            self.text = pem;
        } else {
            self.text.extend_from_slice(&pem);
        }
        self.certs.extend(found);
        Ok(())
    }

    /// The certificates whose subject is one of `names` (`Name` contents), decoded.
    pub fn issued_to(&self, names: &[&[u8]]) -> Vec<CertificateDer<'static>> {
        self.certs
            .iter()
            .filter(|e| names.contains(&e.subject.as_slice()))
            .filter_map(|e| decode(&self.text[e.body.clone()], usize::MAX).ok())
            .map(CertificateDer::from)
            .collect()
    }
}

/// The certificates of a PEM file (other sections, such as keys or CRLs, are skipped).
pub fn parse_pem(path: &Path, pem: &[u8], out: &mut Vec<CertificateDer<'static>>) -> Result<()> {
    for body in bodies(pem) {
        let body = body.map_err(|why| invalid(path, why))?;
        let der = decode(&pem[body], usize::MAX).map_err(|why| invalid(path, why))?;
        out.push(CertificateDer::from(der));
    }
    Ok(())
}

/// Where the base64 body of each `CERTIFICATE` block of `pem` is.
fn bodies(pem: &[u8]) -> impl Iterator<Item = Result<Range<usize>, &'static str>> + '_ {
    let (begin, end) = (memmem::Finder::new(BEGIN), memmem::Finder::new(END));
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at + begin.find(&pem[at..])? + BEGIN.len();
        let Some(len) = end.find(&pem[start..]) else {
            at = pem.len();
            return Some(Err("a certificate has no END line"));
        };
        at = start + len + END.len();
        Some(Ok(start..start + len))
    })
}

/// Decodes the first `chars` base64 characters of `body` (whole groups of four, or all),
/// skipping line breaks and spaces.
fn decode(body: &[u8], chars: usize) -> Result<Vec<u8>, &'static str> {
    let mut b64: Vec<u8> = Vec::with_capacity(body.len().min(chars));
    b64.extend(
        body.iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .take(chars),
    );
    if b64.len() == chars {
        b64.truncate(chars - chars % 4);
    }
    base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .map_err(|_| "not base64")
}

fn invalid(path: &Path, why: &str) -> Error {
    Error::new(format!(
        "invalid PEM certificate in {}: {why}",
        path.display()
    ))
}

/// The issuer and subject of a DER certificate, each the contents of its `Name`.
#[derive(Debug, PartialEq, Eq)]
pub struct Names<'a> {
    pub issuer: &'a [u8],
    pub subject: &'a [u8],
}

#[derive(Debug, PartialEq, Eq)]
pub enum Walk {
    /// The names end past the bytes given.
    Truncated,
    Malformed,
}

/// The names of the certificate `der` starts with (RFC 5280 4.1: `Certificate` and
/// `TBSCertificate` are SEQUENCEs; then an optional `[0]` version, the serial number, the
/// signature algorithm, the issuer, the validity and the subject). `der` may be cut short
/// after the subject.
pub fn names(der: &[u8]) -> Result<Names<'_>, Walk> {
    fn inside(der: &[u8]) -> Result<&[u8], Walk> {
        let (tag, _, at) = header(der)?;
        match tag {
            SEQUENCE => Ok(&der[at..]),
            _ => Err(Walk::Malformed),
        }
    }
    let tbs = inside(inside(der)?)?;
    let (tag, _, mut rest) = element(tbs)?;
    if tag == 0xa0 {
        // Present from version 2 on; version 1 certificates start with the serial number.
        let (serial, _, after) = element(rest)?;
        if serial != 0x02 {
            return Err(Walk::Malformed);
        }
        rest = after;
    } else if tag != 0x02 {
        return Err(Walk::Malformed);
    }
    let mut next = |want: u8| -> Result<&[u8], Walk> {
        let (tag, contents, after) = element(rest)?;
        rest = after;
        match tag == want {
            true => Ok(contents),
            false => Err(Walk::Malformed),
        }
    };
    next(SEQUENCE)?; // signature algorithm
    let issuer = next(SEQUENCE)?;
    next(SEQUENCE)?; // validity
    let subject = next(SEQUENCE)?;
    Ok(Names { issuer, subject })
}

const SEQUENCE: u8 = 0x30;

/// A DER element's tag, contents length and header length.
fn header(der: &[u8]) -> Result<(u8, usize, usize), Walk> {
    let (&tag, rest) = der.split_first().ok_or(Walk::Truncated)?;
    let (&first, rest) = rest.split_first().ok_or(Walk::Truncated)?;
    if first < 0x80 {
        return Ok((tag, first as usize, 2));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 {
        return Err(Walk::Malformed); // indefinite, or longer than any certificate
    }
    let bytes = rest.get(..n).ok_or(Walk::Truncated)?;
    let len = bytes.iter().fold(0usize, |len, &b| (len << 8) | b as usize);
    Ok((tag, len, 2 + n))
}

/// A whole DER element: tag, contents, and what follows it.
fn element(der: &[u8]) -> Result<(u8, &[u8], &[u8]), Walk> {
    let (tag, len, at) = header(der)?;
    let end = at.checked_add(len).ok_or(Walk::Malformed)?;
    if der.len() < end {
        return Err(Walk::Truncated);
    }
    Ok((tag, &der[at..end], &der[end..]))
}

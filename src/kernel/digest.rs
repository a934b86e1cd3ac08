//! SHA-256 for credential fingerprints, HMAC-SHA256 for cache entry names; SHA-1 where another
//! tool's file names use it.
//!
//! The portable implementation (`sha2` with `force-soft`): the inputs are a few hundred bytes,
//! and probing the CPU for SHA instructions would cost more than hashing them, since CPUID
//! traps to the hypervisor in a VM (ring's probe took ~20 µs of every cached `get`).

use sha2::Digest;

pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// SHA-256 and length of everything `reader` yields, read in blocks: release binaries are
/// megabytes, no reason to hold one in memory.
pub fn sha256_reader(mut reader: impl std::io::Read) -> std::io::Result<([u8; 32], u64)> {
    let mut hasher = sha2::Sha256::new();
    let mut block = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        match reader.read(&mut block) {
            Ok(0) => return Ok((hasher.finalize().into(), total)),
            Ok(n) => {
                hasher.update(&block[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// HMAC-SHA256 (RFC 2104), for keys of at most one block (64 bytes).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    debug_assert!(key.len() <= 64);
    let mut inner_pad = [0x36u8; 64];
    let mut outer_pad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        inner_pad[i] ^= k;
        outer_pad[i] ^= k;
    }
    let inner = sha2::Sha256::new()
        .chain_update(inner_pad)
        .chain_update(message)
        .finalize();
    sha2::Sha256::new()
        .chain_update(outer_pad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// Lower-case hex, as cache names and fingerprints are written.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// SHA-1, hex: the AWS CLI names its SSO token files this way. Not for anything of ours.
pub fn sha1_hex(data: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hmac_known_answers() {
        // RFC 4231 test cases 1 and 2.
        assert_eq!(
            super::hex(&super::hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            super::hex(&super::hmac_sha256(
                b"Jefe",
                b"what do ya want for nothing?"
            )),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn known_answers() {
        // FIPS 180-2 examples.
        assert_eq!(
            super::hex(&super::sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            super::hex(&super::sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            super::sha1_hex(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}

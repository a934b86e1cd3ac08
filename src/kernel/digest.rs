//! SHA-256 for cache keys and credential fingerprints; SHA-1 where another tool's file names
//! use it.
//!
//! The portable implementation (`sha2` with `force-soft`): the inputs are a few hundred bytes,
//! and probing the CPU for SHA instructions would cost more than hashing them, since CPUID
//! traps to the hypervisor in a VM (ring's probe took ~20 µs of every cached `get`).

use sha2::Digest;

pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

fn hex(bytes: &[u8]) -> String {
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
    fn known_answers() {
        // FIPS 180-2 examples.
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            super::sha1_hex(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}

//! SHA-256 for cache keys and credential fingerprints.
//!
//! The portable implementation (`sha2` with `force-soft`): the inputs are a few hundred bytes,
//! and probing the CPU for SHA instructions would cost more than hashing them, since CPUID
//! traps to the hypervisor in a VM (ring's probe took ~20 µs of every cached `get`).

use sha2::Digest;

pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

pub fn sha256_hex(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in sha256(data) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
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
    }
}

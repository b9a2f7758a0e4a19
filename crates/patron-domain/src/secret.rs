//! Random secrets (tokens, client secrets) and how they are kept: only a SHA-256 digest is
//! stored, and comparisons run in constant time.
//!
//! These secrets carry 256 bits of entropy, so a fast digest is enough; human-chosen
//! passwords are a different matter and use argon2id elsewhere.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A freshly generated secret: 32 random bytes as 64 hex characters.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The digest stored in place of `secret`: lowercase hex SHA-256.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` hashes to `expected_digest`, compared in constant time.
pub fn matches(secret: &str, expected_digest: &str) -> bool {
    digest(secret)
        .as_bytes()
        .ct_eq(expected_digest.as_bytes())
        .into()
}

/// Whether two digests (or other strings of secret material) are equal, compared in
/// constant time.
pub fn same(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// Whether two byte strings of secret material are equal, compared in constant time.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_verify_against_their_digest() {
        let a = generate_secret();
        let b = generate_secret();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(matches(&a, &digest(&a)));
        assert!(!matches(&b, &digest(&a)));
        assert_ne!(digest(&a), a);
    }
}

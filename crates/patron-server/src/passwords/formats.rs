//! The password hash formats Patron checks: its own argon2id, and those customers bring
//! from other systems on import — bcrypt (`$2a$`, `$2b$`, `$2y$`), argon2i/argon2id, and
//! PBKDF2-SHA256/SHA512 and scrypt in PHC form — each with a maintained implementation.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;

/// A recognised hash format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFormat {
    /// `$argon2id$…` / `$argon2i$…` / `$argon2d$…` (PHC).
    Argon2,
    /// `$2a$`, `$2b$`, `$2y$` (modular crypt).
    Bcrypt,
    /// `$pbkdf2-sha256$…` / `$pbkdf2-sha512$…` (PHC).
    Pbkdf2,
    /// `$scrypt$…` (PHC).
    Scrypt,
}

impl HashFormat {
    /// The format of a stored hash; `None` for one Patron cannot check.
    pub fn of(hash: &str) -> Option<Self> {
        let prefixed = |prefixes: &[&str]| prefixes.iter().any(|p| hash.starts_with(p));
        if prefixed(&["$argon2id$", "$argon2i$", "$argon2d$"]) {
            Some(HashFormat::Argon2)
        } else if prefixed(&["$2a$", "$2b$", "$2y$"]) && hash.len() == 60 {
            Some(HashFormat::Bcrypt)
        } else if prefixed(&["$pbkdf2-sha256$", "$pbkdf2-sha512$"]) {
            Some(HashFormat::Pbkdf2)
        } else if prefixed(&["$scrypt$"]) {
            Some(HashFormat::Scrypt)
        } else {
            None
        }
    }
}

/// Whether `password` matches `hash`, whatever its recognised format (with the cost the
/// hash names); false for a hash in no recognised format or malformed.
pub fn matches(password: &[u8], hash: &str) -> bool {
    let phc = || PasswordHash::new(hash).ok();
    match HashFormat::of(hash) {
        Some(HashFormat::Argon2) => {
            phc().is_some_and(|parsed| Argon2::default().verify_password(password, &parsed).is_ok())
        }
        Some(HashFormat::Bcrypt) => bcrypt::verify(password, hash).unwrap_or(false),
        Some(HashFormat::Pbkdf2) => {
            phc().is_some_and(|parsed| pbkdf2::Pbkdf2.verify_password(password, &parsed).is_ok())
        }
        Some(HashFormat::Scrypt) => {
            phc().is_some_and(|parsed| scrypt::Scrypt.verify_password(password, &parsed).is_ok())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashes of `Migrated-1` made by other implementations (Python's `bcrypt` and
    /// `hashlib`), as an import would carry them.
    const FOREIGN: [(&str, HashFormat); 5] = [
        (
            "$2b$04$84We4RugYbRxft8iPfcru.FEu2fWsJxhEBknAO8YN3ZVbhGnbZh2S",
            HashFormat::Bcrypt,
        ),
        (
            "$2y$04$84We4RugYbRxft8iPfcru.FEu2fWsJxhEBknAO8YN3ZVbhGnbZh2S",
            HashFormat::Bcrypt,
        ),
        (
            "$pbkdf2-sha256$i=1000,l=32$cGF0cm9uLXNhbHQtMTIzNA$xRMvPn1Yr87LxixdIRrKUNd01+hYJXYhnYvLERxLjFE",
            HashFormat::Pbkdf2,
        ),
        (
            "$pbkdf2-sha512$i=1000,l=64$cGF0cm9uLXNhbHQtMTIzNA$gMzFkhkxtaBiFq2gyzwC9wR9OBv434UnLKB/ui5UkIizmSbnOIk5LwPdqyT6KpW4KL4oaHv/A9OcJfo8OtZbbQ",
            HashFormat::Pbkdf2,
        ),
        (
            "$scrypt$ln=10,r=8,p=1$cGF0cm9uLXNhbHQtMTIzNA$exwQZ2GvidpUUH5Aca6xeVDDSHwLLdrDQrisrkWzzXA",
            HashFormat::Scrypt,
        ),
    ];

    #[test]
    fn hashes_made_elsewhere_check_the_right_password_only() {
        for (hash, format) in FOREIGN {
            assert_eq!(HashFormat::of(hash), Some(format), "{hash}");
            assert!(matches(b"Migrated-1", hash), "{hash}");
            assert!(!matches(b"Migrated-2", hash), "{hash}");
        }
    }

    #[test]
    fn unknown_and_damaged_hashes_match_nothing() {
        for hash in [
            "",
            "plaintext",
            "$1$md5crypt$abcdefghijklmnopqrstuv",
            "$2b$04$short",
            "$pbkdf2-sha256$i=1000$bad",
            "$scrypt$ln=99,r=8,p=1$AAAA$AAAA",
            "$argon2id$v=19$m=64,t=1,p=1$AAAA",
        ] {
            assert!(!matches(b"anything", hash), "{hash}");
        }
        assert_eq!(HashFormat::of("$1$md5crypt$x"), None);
    }
}

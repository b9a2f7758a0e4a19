//! The password hash formats Patron checks: its own argon2id, and those customers bring
//! from other systems on import — bcrypt (`$2a$`, `$2b$`, `$2y$`), argon2i/argon2id,
//! PBKDF2-SHA256/SHA512 and scrypt in PHC form, each with a maintained implementation — and
//! Firebase's modified scrypt, `$firebase-scrypt$<salt>$<hash>` (base64), checked with the
//! application's Firebase parameters.

use aes::cipher::{KeyIvInit, StreamCipher};
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The prefix of a Firebase scrypt hash as Patron stores it.
pub const FIREBASE_PREFIX: &str = "$firebase-scrypt$";

/// A Firebase project's password hash parameters (`hash_config` of `firebase auth:export`):
/// the signer key is a secret, kept sealed with the application's other secrets.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirebaseScrypt {
    /// `base64_signer_key`.
    pub signer_key: String,
    /// `base64_salt_separator`.
    pub salt_separator: String,
    /// `rounds` (scrypt's r), 1 to 8.
    pub rounds: u32,
    /// `mem_cost` (scrypt's log2 N), 1 to 14.
    pub mem_cost: u32,
}

impl std::fmt::Debug for FirebaseScrypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirebaseScrypt")
            .field("signer_key", &"<secret>")
            .field("rounds", &self.rounds)
            .field("mem_cost", &self.mem_cost)
            .finish_non_exhaustive()
    }
}

impl FirebaseScrypt {
    /// Checks the parameters: both keys base64, `rounds` 1 to 8, `mem_cost` 1 to 14 (the
    /// ranges Firebase uses).
    pub fn check(&self) -> Result<(), String> {
        STANDARD
            .decode(&self.signer_key)
            .map_err(|_| "signer_key: not base64".to_owned())?;
        STANDARD
            .decode(&self.salt_separator)
            .map_err(|_| "salt_separator: not base64".to_owned())?;
        if !(1..=8).contains(&self.rounds) {
            return Err("rounds: must be 1 to 8".to_owned());
        }
        if !(1..=14).contains(&self.mem_cost) {
            return Err("mem_cost: must be 1 to 14".to_owned());
        }
        Ok(())
    }

    /// Whether `password` with `salt` gives `expected`: scrypt(password, salt ‖ separator,
    /// N = 2^mem_cost, r = rounds, p = 1) keys AES-256-CTR (zero IV), which must encrypt the
    /// signer key to `expected`.
    fn matches(&self, password: &[u8], salt: &[u8], expected: &[u8]) -> bool {
        let (Ok(signer), Ok(separator)) = (
            STANDARD.decode(&self.signer_key),
            STANDARD.decode(&self.salt_separator),
        ) else {
            return false;
        };
        let Ok(log_n) = u8::try_from(self.mem_cost) else {
            return false;
        };
        let Ok(params) = scrypt::Params::new(log_n, self.rounds, 1, 32) else {
            return false;
        };
        let mut key = [0u8; 32];
        let salted = [salt, &separator].concat();
        if scrypt::scrypt(password, &salted, &params, &mut key).is_err() {
            return false;
        }
        let mut block = signer;
        let mut cipher = ctr::Ctr128BE::<aes::Aes256>::new(&key.into(), &[0u8; 16].into());
        cipher.apply_keystream(&mut block);
        patron_domain::secret::same_bytes(&block, expected)
    }
}

/// The stored form of a Firebase hash and its salt (both base64, as Firebase exports them).
pub fn firebase_hash(hash: &str, salt: &str) -> String {
    format!("{FIREBASE_PREFIX}{}${}", salt.trim(), hash.trim())
}

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
    /// `$firebase-scrypt$<salt>$<hash>`: Firebase's scrypt, with the application's parameters.
    FirebaseScrypt,
}

/// The costliest imported hash Patron accepts, per format: checking a hash costs what it
/// names, so an import must not plant hashes that would tie up a hashing slot (or gigabytes
/// of memory) at every sign-in attempt.
const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
const MAX_ARGON2_ITERATIONS: u32 = 16;
const MAX_BCRYPT_COST: u32 = 15;
const MAX_PBKDF2_ROUNDS: u32 = 2_000_000;
const MAX_SCRYPT_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
const MAX_SCRYPT_PARALLELISM: u32 = 4;

impl HashFormat {
    /// The format of `hash` if Patron can check it at a bounded cost; why not otherwise.
    pub fn checked(hash: &str) -> Result<Self, String> {
        let format = Self::of(hash).ok_or_else(|| {
            "not a hash format Patron checks (bcrypt $2a$/$2b$/$2y$, argon2, PBKDF2-SHA256/SHA512 \
             or scrypt in PHC form, or a Firebase hash with its password_salt)"
                .to_owned()
        })?;
        let parameter = |name: &str| -> Result<u32, String> {
            let parsed = PasswordHash::new(hash).map_err(|error| format!("malformed: {error}"))?;
            parsed
                .params
                .get_decimal(name)
                .ok_or_else(|| format!("malformed: no {name} parameter"))
        };
        let at_most = |name: &str, value: u32, max: u32| {
            if value > max {
                Err(format!(
                    "{name}={value} costs more than Patron checks (at most {max})"
                ))
            } else {
                Ok(())
            }
        };
        match format {
            HashFormat::Argon2 => {
                at_most("m", parameter("m")?, MAX_ARGON2_MEMORY_KIB)?;
                at_most("t", parameter("t")?, MAX_ARGON2_ITERATIONS)?;
            }
            HashFormat::Bcrypt => {
                let cost = hash
                    .get(4..6)
                    .and_then(|digits| digits.parse::<u32>().ok())
                    .ok_or("malformed: no bcrypt cost")?;
                at_most("cost", cost, MAX_BCRYPT_COST)?;
            }
            HashFormat::Pbkdf2 => at_most("i", parameter("i")?, MAX_PBKDF2_ROUNDS)?,
            HashFormat::Scrypt => {
                let (log_n, r) = (parameter("ln")?, parameter("r")?);
                at_most("p", parameter("p")?, MAX_SCRYPT_PARALLELISM)?;
                // scrypt needs 128 · r · 2^ln bytes.
                let memory = 1u64
                    .checked_shl(log_n)
                    .and_then(|n| n.checked_mul(128 * u64::from(r)))
                    .unwrap_or(u64::MAX);
                if memory > MAX_SCRYPT_MEMORY_BYTES {
                    return Err(format!(
                        "ln={log_n}, r={r} needs more memory than Patron checks with (at most {} \
                         MiB)",
                        MAX_SCRYPT_MEMORY_BYTES >> 20
                    ));
                }
            }
            HashFormat::FirebaseScrypt => {
                let (salt, expected) = hash[FIREBASE_PREFIX.len()..]
                    .split_once('$')
                    .ok_or("malformed: a Firebase hash is $firebase-scrypt$<salt>$<hash>")?;
                for (name, value) in [("password_salt", salt), ("password_hash", expected)] {
                    if value.is_empty() || STANDARD.decode(value).is_err() {
                        return Err(format!("malformed: the Firebase {name} is not base64"));
                    }
                }
            }
        }
        Ok(format)
    }

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
        } else if prefixed(&[FIREBASE_PREFIX]) {
            Some(HashFormat::FirebaseScrypt)
        } else {
            None
        }
    }
}

/// Whether `password` matches `hash`, whatever its recognised format (with the cost the
/// hash names; a Firebase hash with `firebase`, the application's parameters); false for a
/// hash in no recognised format or malformed.
pub fn matches(password: &[u8], hash: &str, firebase: Option<&FirebaseScrypt>) -> bool {
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
        Some(HashFormat::FirebaseScrypt) => {
            let Some(parameters) = firebase else {
                return false;
            };
            let Some((salt, expected)) = hash[FIREBASE_PREFIX.len()..].split_once('$') else {
                return false;
            };
            match (STANDARD.decode(salt), STANDARD.decode(expected)) {
                (Ok(salt), Ok(expected)) => parameters.matches(password, &salt, &expected),
                _ => false,
            }
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
            assert!(matches(b"Migrated-1", hash, None), "{hash}");
            assert!(!matches(b"Migrated-2", hash, None), "{hash}");
        }
    }

    #[test]
    fn imported_hashes_are_bounded_in_cost() {
        for (hash, _) in FOREIGN {
            assert!(HashFormat::checked(hash).is_ok(), "{hash}");
        }
        for costly in [
            "$argon2id$v=19$m=4194304,t=1,p=1$cGF0cm9uLXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=19456,t=99,p=1$cGF0cm9uLXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$2b$31$84We4RugYbRxft8iPfcru.FEu2fWsJxhEBknAO8YN3ZVbhGnbZh2S",
            "$pbkdf2-sha256$i=99000000,l=32$cGF0cm9uLXNhbHQtMTIzNA$xRMvPn1Yr87LxixdIRrKUNd01+hYJXYhnYvLERxLjFE",
            "$scrypt$ln=30,r=8,p=1$cGF0cm9uLXNhbHQtMTIzNA$exwQZ2GvidpUUH5Aca6xeVDDSHwLLdrDQrisrkWzzXA",
            "$scrypt$ln=14,r=1000,p=1$cGF0cm9uLXNhbHQtMTIzNA$exwQZ2GvidpUUH5Aca6xeVDDSHwLLdrDQrisrkWzzXA",
            "$scrypt$ln=10,r=8,p=64$cGF0cm9uLXNhbHQtMTIzNA$exwQZ2GvidpUUH5Aca6xeVDDSHwLLdrDQrisrkWzzXA",
        ] {
            let refused = HashFormat::checked(costly).unwrap_err();
            assert!(
                refused.contains("costs more") || refused.contains("more memory"),
                "{costly}: {refused}"
            );
        }
        assert!(HashFormat::checked(&firebase_hash("not base64!", "c2FsdA==")).is_err());
        assert!(HashFormat::checked("md5:abc")
            .unwrap_err()
            .contains("not a hash format"));
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
            assert!(!matches(b"anything", hash, None), "{hash}");
        }
        assert_eq!(HashFormat::of("$1$md5crypt$x"), None);
    }

    /// The parameters of Firebase's published example project.
    fn firebase(mem_cost: u32) -> FirebaseScrypt {
        FirebaseScrypt {
            signer_key: "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="
                .to_owned(),
            salt_separator: "Bw==".to_owned(),
            rounds: 8,
            mem_cost,
        }
    }

    #[test]
    fn firebase_hashes_check_with_the_project_parameters() {
        // Firebase's documented example (firebase/scrypt), and a cheaper one made with
        // Python's hashlib.scrypt and the `cryptography` package's AES-CTR.
        let documented = firebase_hash(
            "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
            "42xEC+ixf3L2lw==",
        );
        assert_eq!(
            HashFormat::of(&documented),
            Some(HashFormat::FirebaseScrypt)
        );
        assert!(matches(b"user1password", &documented, Some(&firebase(14))));
        assert!(!matches(b"user2password", &documented, Some(&firebase(14))));
        let cheap = firebase_hash(
            "z9RFNbys4iyXJynqvzu16lvctVd5cPald/krrIZmWgaqASTnpDByBoVIwytuk9QA8PDYSfvy/PO7YoiLH3t/Cw==",
            "cGF0cm9uLXNhbHQtMDE=",
        );
        assert!(matches(b"Migrated-1", &cheap, Some(&firebase(10))));
        assert!(
            !matches(b"Migrated-1", &cheap, Some(&firebase(11))),
            "other parameters"
        );
        assert!(
            !matches(b"Migrated-1", &cheap, None),
            "no parameters, no match"
        );
        assert!(!matches(
            b"x",
            "$firebase-scrypt$nodollar",
            Some(&firebase(10))
        ));
        assert!(firebase(15).check().is_err());
        assert_eq!(HashFormat::checked(&cheap), Ok(HashFormat::FirebaseScrypt));
        assert!(firebase(14).check().is_ok());
        assert!(
            !format!("{:?}", firebase(14)).contains("jxspr"),
            "the key stays out of logs"
        );
    }
}

//! Secrets at rest: AES-256-GCM under one key from configuration, for values the service must
//! keep but never show (social app secrets today; encrypted attributes later).
//!
//! Sealed values are `v1:` + base64(12-byte random nonce ‖ ciphertext ‖ tag).
//!
//! Key rotation: values are always sealed with the current key, and opened with the current
//! key or any previous one (`previous_secret_keys`), so a new key can be put in place while
//! values sealed under the old one stay readable; each value moves to the new key the next
//! time it is written.

use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Encrypts and decrypts small secrets with the service's key. Cheap to clone: the keys
/// are shared.
#[derive(Clone)]
pub struct SecretBox(Arc<Keys>);

/// The current key and the earlier ones.
struct Keys {
    cipher: Aes256Gcm,
    /// Key of [`SecretBox::mac`], derived from the current key.
    mac_key: [u8; 32],
    /// Earlier keys, tried in order when the current key cannot open a value.
    previous: Vec<Aes256Gcm>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

/// A sealed value could not be opened (wrong key, or tampered with).
#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt a stored secret: wrong key or damaged value")]
pub struct OpenError;

impl SecretBox {
    /// A box over a 32-byte key.
    pub fn new(key: [u8; 32]) -> Self {
        let mut derived = Sha256::new();
        derived.update(b"patron mac key v1\0");
        derived.update(key);
        Self(Arc::new(Keys {
            cipher: Self::cipher(&key),
            mac_key: derived.finalize().into(),
            previous: Vec::new(),
        }))
    }

    fn cipher(key: &[u8; 32]) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))
    }

    /// Also opens values sealed under these earlier keys (base64, newest first).
    pub fn with_previous_keys(self, keys: &[&str]) -> Result<Self, String> {
        let mut previous = Vec::with_capacity(keys.len());
        for key in keys {
            previous.push(Self::cipher(&Self::decode_key(key)?));
        }
        Ok(Self(Arc::new(Keys {
            cipher: self.0.cipher.clone(),
            mac_key: self.0.mac_key,
            previous,
        })))
    }

    /// Parses a base64-encoded 32-byte key.
    pub fn from_base64(encoded: &str) -> Result<Self, String> {
        Ok(Self::new(Self::decode_key(encoded)?))
    }

    fn decode_key(encoded: &str) -> Result<[u8; 32], String> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|e| format!("secret key is not base64: {e}"))?;
        bytes
            .try_into()
            .map_err(|_| "secret key must be 32 bytes (44 base64 characters)".to_owned())
    }

    /// A fresh random key, base64-encoded.
    pub fn generate_key() -> String {
        STANDARD.encode(Aes256Gcm::generate_key(&mut OsRng))
    }

    /// A keyed digest (hex HMAC-SHA256 under a key derived from the secret key) of `parts`,
    /// for short secrets such as one-time codes: a database dump alone cannot test guesses
    /// against it.
    pub fn mac(&self, parts: &[&str]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0.mac_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        for part in parts {
            mac.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            mac.update(part.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// Encrypts `plaintext` under a fresh nonce.
    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .0
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .unwrap_or_default();
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{PREFIX}{}", STANDARD.encode(sealed))
    }

    /// Decrypts a value made by [`SecretBox::seal`] with the same key.
    pub fn open(&self, sealed: &str) -> Result<String, OpenError> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|body| STANDARD.decode(body).ok())
            .ok_or(OpenError)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plaintext = std::iter::once(&self.0.cipher)
            .chain(&self.0.previous)
            .find_map(|cipher| cipher.decrypt(Nonce::from_slice(nonce), ciphertext).ok())
            .ok_or(OpenError)?;
        String::from_utf8(plaintext).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_the_wrong_key() {
        let key = SecretBox::generate_key();
        let sealed_box = SecretBox::from_base64(&key).unwrap();
        let sealed = sealed_box.seal("app-secret");
        assert!(!sealed.contains("app-secret"));
        assert_ne!(
            sealed,
            sealed_box.seal("app-secret"),
            "fresh nonce each time"
        );
        assert_eq!(sealed_box.open(&sealed).unwrap(), "app-secret");
        let other = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        assert!(other.open(&sealed).is_err());
        assert!(sealed_box.open("v1:AAAA").is_err());
        assert!(SecretBox::from_base64("c2hvcnQ=").is_err());
    }

    #[test]
    fn macs_depend_on_the_key_and_on_every_part() {
        let one = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        let two = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        assert_eq!(one.mac(&["req", "1234"]), one.mac(&["req", "1234"]));
        assert_ne!(one.mac(&["req", "1234"]), two.mac(&["req", "1234"]));
        assert_ne!(one.mac(&["req", "1234"]), one.mac(&["req1", "234"]));
        assert_eq!(one.mac(&["x"]).len(), 64);
    }

    #[test]
    fn a_rotated_box_opens_values_sealed_under_previous_keys() {
        let old_key = SecretBox::generate_key();
        let old = SecretBox::from_base64(&old_key).unwrap();
        let sealed_before = old.seal("customer note");
        let rotated = SecretBox::from_base64(&SecretBox::generate_key())
            .unwrap()
            .with_previous_keys(&[&old_key])
            .unwrap();
        assert_eq!(rotated.open(&sealed_before).unwrap(), "customer note");
        let sealed_after = rotated.seal("customer note");
        assert!(
            old.open(&sealed_after).is_err(),
            "new values use the new key"
        );
        assert!(SecretBox::from_base64(&old_key)
            .unwrap()
            .with_previous_keys(&["bad"])
            .is_err());
    }
}

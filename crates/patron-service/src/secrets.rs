//! Secrets at rest: AES-256-GCM under one key from configuration, for values the service must
//! keep but never show (social app secrets, encrypted attributes, queued customer messages).
//!
//! Sealed values are `v2:<key id>:` + base64(12-byte random nonce ‖ ciphertext ‖ tag). The
//! key id is the first 8 hex digits of a digest of the key, so a value names the key that
//! opens it. Every value is bound to what it belongs to — its purpose, application and
//! record — as associated data: a value copied into another record does not open there.
//! Values of the first format (`v1:`, no key id, nothing bound) are rewritten in this one
//! when `patron serve` starts, before any request, and never open in service.
//!
//! Key rotation: values are always sealed with the current key, and opened with the current
//! key or any previous one (`previous_secret_keys`); `patron secrets rotate` rewrites every
//! stored value under the current key, after which the previous keys can go.

use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const LEGACY_PREFIX: &str = "v1:";
const PREFIX: &str = "v2:";
const NONCE_LEN: usize = 12;

/// Encrypts and decrypts small secrets with the service's key. Cheap to clone: the keys
/// are shared.
#[derive(Clone)]
pub struct SecretBox(Arc<Keys>);

/// One key and its id.
struct KeyEntry {
    id: String,
    cipher: Aes256Gcm,
}

/// The current key and the earlier ones.
struct Keys {
    current: KeyEntry,
    /// Key of [`SecretBox::mac`], derived from the current key.
    mac_key: [u8; 32],
    /// Earlier keys, tried in order when the current key cannot open a value.
    previous: Vec<KeyEntry>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

/// A sealed value could not be opened (wrong key, moved to another record, or tampered with).
#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt a stored secret: wrong key, wrong record or damaged value")]
pub struct OpenError;

impl SecretBox {
    /// A box over a 32-byte key.
    pub fn new(key: [u8; 32]) -> Self {
        let mut derived = Sha256::new();
        derived.update(b"patron mac key v1\0");
        derived.update(key);
        Self(Arc::new(Keys {
            current: Self::entry(&key),
            mac_key: derived.finalize().into(),
            previous: Vec::new(),
        }))
    }

    fn entry(key: &[u8; 32]) -> KeyEntry {
        let mut id = Sha256::new();
        id.update(b"patron key id v1\0");
        id.update(key);
        KeyEntry {
            id: hex::encode(&id.finalize()[..4]),
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
        }
    }

    /// Also opens values sealed under these earlier keys (base64, newest first).
    pub fn with_previous_keys(self, keys: &[&str]) -> Result<Self, String> {
        let mut previous = Vec::with_capacity(keys.len());
        for key in keys {
            previous.push(Self::entry(&Self::decode_key(key)?));
        }
        Ok(Self(Arc::new(Keys {
            current: KeyEntry {
                id: self.0.current.id.clone(),
                cipher: self.0.current.cipher.clone(),
            },
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

    /// The id of the current key, as sealed values carry it.
    pub fn key_id(&self) -> &str {
        &self.0.current.id
    }

    /// Whether `text` is a sealed value (of either format) rather than plain text.
    pub fn is_sealed(text: &str) -> bool {
        text.starts_with(PREFIX) || text.starts_with(LEGACY_PREFIX)
    }

    /// Whether `sealed` is already in the current format under the current key.
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(id, _)| id == self.0.current.id)
    }

    /// A keyed digest (hex HMAC-SHA256 under a key derived from the secret key) of `parts`,
    /// for short secrets such as one-time codes: a database dump alone cannot test guesses
    /// against it.
    pub fn mac(&self, parts: &[&str]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0.mac_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(&encode_parts(parts));
        hex::encode(mac.finalize().into_bytes())
    }

    /// Encrypts `plaintext` under a fresh nonce, bound to `binding` (what the value belongs
    /// to, e.g. `["outbox", application id, recipient]`): it opens only with the same
    /// binding.
    pub fn seal(&self, plaintext: &str, binding: &[&str]) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = encode_parts(binding);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: &aad,
        };
        let ciphertext = self
            .0
            .current
            .cipher
            .encrypt(&nonce, payload)
            .unwrap_or_default();
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{PREFIX}{}:{}", self.0.current.id, STANDARD.encode(sealed))
    }

    /// Decrypts a value made by [`SecretBox::seal`] with the same binding, under the key it
    /// names. A value of the first format (`v1:`, bound to nothing) is refused: the
    /// upgrade at start rewrote them, and one found now was put there by hand.
    pub fn open(&self, sealed: &str, binding: &[&str]) -> Result<String, OpenError> {
        if sealed.starts_with(LEGACY_PREFIX) {
            return Err(OpenError);
        }
        self.open_to_rewrite(sealed, binding)
    }

    /// [`SecretBox::open`], also for a `v1:` value under any known key: only for
    /// rewriting stored values in the current format (`secrets rotate`, the upgrade at
    /// start).
    pub fn open_to_rewrite(&self, sealed: &str, binding: &[&str]) -> Result<String, OpenError> {
        let keys = || std::iter::once(&self.0.current).chain(&self.0.previous);
        let (candidates, body, aad): (Vec<&KeyEntry>, &str, Vec<u8>) =
            if let Some(rest) = sealed.strip_prefix(PREFIX) {
                let (id, body) = rest.split_once(':').ok_or(OpenError)?;
                (
                    keys().filter(|key| key.id == id).collect(),
                    body,
                    encode_parts(binding),
                )
            } else if let Some(body) = sealed.strip_prefix(LEGACY_PREFIX) {
                (keys().collect(), body, Vec::new())
            } else {
                return Err(OpenError);
            };
        let bytes = STANDARD.decode(body).map_err(|_| OpenError)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plaintext = candidates
            .into_iter()
            .find_map(|key| {
                let payload = Payload {
                    msg: ciphertext,
                    aad: &aad,
                };
                key.cipher.decrypt(Nonce::from_slice(nonce), payload).ok()
            })
            .ok_or(OpenError)?;
        String::from_utf8(plaintext).map_err(|_| OpenError)
    }
}

/// `parts`, each preceded by its length, so no two lists encode alike.
fn encode_parts(parts: &[&str]) -> Vec<u8> {
    let mut encoded = Vec::new();
    for part in parts {
        encoded.extend_from_slice(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
        encoded.extend_from_slice(part.as_bytes());
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: &[&str] = &["test", "app-1", "record-1"];

    #[test]
    fn a_value_moved_to_another_record_or_purpose_does_not_open() {
        let sealed_box = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        let sealed = sealed_box.seal("4821", BOUND);
        for other in [
            &["test", "app-1", "record-2"][..],
            &["test", "app-2", "record-1"],
            &["other", "app-1", "record-1"],
            &["test", "app-1record-1"],
        ] {
            assert!(sealed_box.open(&sealed, other).is_err(), "{other:?}");
        }
    }

    #[test]
    fn values_of_the_first_format_open_only_to_be_rewritten() {
        let key = SecretBox::generate_key();
        let raw: [u8; 32] = STANDARD.decode(&key).unwrap().try_into().unwrap();
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&raw));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let mut bytes = nonce.to_vec();
        bytes.extend(cipher.encrypt(&nonce, b"old secret".as_ref()).unwrap());
        let legacy = format!("v1:{}", STANDARD.encode(bytes));
        let sealed_box = SecretBox::from_base64(&key).unwrap();
        assert!(
            sealed_box.open(&legacy, BOUND).is_err(),
            "a v1 value binds nothing: it never opens in service"
        );
        assert_eq!(
            sealed_box.open_to_rewrite(&legacy, BOUND).unwrap(),
            "old secret"
        );
        assert!(!sealed_box.is_current(&legacy));
    }

    #[test]
    fn round_trips_and_detects_the_wrong_key() {
        let key = SecretBox::generate_key();
        let sealed_box = SecretBox::from_base64(&key).unwrap();
        let sealed = sealed_box.seal("app-secret", BOUND);
        assert!(!sealed.contains("app-secret"));
        assert!(sealed.starts_with(&format!("v2:{}:", sealed_box.key_id())));
        assert!(sealed_box.is_current(&sealed));
        assert_ne!(
            sealed,
            sealed_box.seal("app-secret", BOUND),
            "fresh nonce each time"
        );
        assert_eq!(sealed_box.open(&sealed, BOUND).unwrap(), "app-secret");
        let other = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        assert!(other.open(&sealed, BOUND).is_err());
        assert!(sealed_box.open("v1:AAAA", BOUND).is_err());
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
        let sealed_before = old.seal("customer note", BOUND);
        let rotated = SecretBox::from_base64(&SecretBox::generate_key())
            .unwrap()
            .with_previous_keys(&[&old_key])
            .unwrap();
        assert_eq!(
            rotated.open(&sealed_before, BOUND).unwrap(),
            "customer note"
        );
        assert!(!rotated.is_current(&sealed_before));
        let sealed_after = rotated.seal("customer note", BOUND);
        assert!(
            old.open(&sealed_after, BOUND).is_err(),
            "new values use the new key"
        );
        assert!(SecretBox::from_base64(&old_key)
            .unwrap()
            .with_previous_keys(&["bad"])
            .is_err());
    }
}

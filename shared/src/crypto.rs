//! Secrets at rest (API keys of integrations): XChaCha20-Poly1305 under the server's
//! `ENCRYPTION_KEY`, with the owner (account and integration) as associated data so that a
//! ciphertext copied onto another tenant's row does not decrypt.

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

const NONCE_LEN: usize = 24;

/// The server key. Debug never shows it.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

impl SecretBox {
    pub fn new(key: [u8; 32]) -> Self {
        Self { cipher: XChaCha20Poly1305::new(&key.into()) }
    }

    /// A key derived from another secret (development: the JWT secret), under its own label
    /// so the two never coincide.
    pub fn derived_from(secret: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"switchyard secret box v1\0");
        hasher.update(secret);
        Self::new(hasher.finalize().into())
    }

    /// Parses 64 hex characters.
    pub fn from_hex(hex_key: &str) -> Option<Self> {
        let bytes = hex::decode(hex_key.trim()).ok()?;
        Some(Self::new(bytes.try_into().ok()?))
    }

    /// `nonce ‖ ciphertext` of `plaintext`, bound to `owner`.
    pub fn seal(&self, plaintext: &str, owner: &str) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: owner.as_bytes() })
            .map_err(|_| Error::Crypto("encryption failed"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// The plaintext of `sealed`, if it was sealed with this key for this owner.
    pub fn open(&self, sealed: &[u8], owner: &str) -> Result<String> {
        if sealed.len() <= NONCE_LEN {
            return Err(Error::Crypto("ciphertext is too short"));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::Crypto("bad nonce"))?;
        let plaintext = self
            .cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: ciphertext, aad: owner.as_bytes() })
            .map_err(|_| Error::Crypto("the secret does not decrypt with this server key"))?;
        String::from_utf8(plaintext).map_err(|_| Error::Crypto("the secret is not UTF-8"))
    }
}

/// What users see of a secret: its first three and last four characters at most, never
/// more than a quarter of it.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 16 {
        return "****".to_owned();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// Whether two secrets are equal, in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_for_the_same_owner_only() {
        let secret_box = SecretBox::derived_from(b"a development secret of enough length");
        let sealed = secret_box.seal("sk-test-123", "account:1:openai").expect("sealed");
        assert!(!sealed.windows(11).any(|w| w == b"sk-test-123"));
        assert_eq!(secret_box.open(&sealed, "account:1:openai").expect("opens"), "sk-test-123");
        assert!(secret_box.open(&sealed, "account:2:openai").is_err());
        let other = SecretBox::derived_from(b"another secret");
        assert!(other.open(&sealed, "account:1:openai").is_err());
        assert!(secret_box.open(&sealed[..10], "account:1:openai").is_err());
    }

    #[test]
    fn masks_show_little() {
        assert_eq!(mask("sk-proj-abcdefghijklmnop1234"), "sk-…1234");
        assert_eq!(mask("short"), "****");
        assert!(SecretBox::from_hex(&"ab".repeat(32)).is_some());
        assert!(SecretBox::from_hex("abcd").is_none());
    }
}

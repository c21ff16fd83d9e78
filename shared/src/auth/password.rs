use std::sync::LazyLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};

use crate::error::{Error, Result};

/// Hashes with argon2id and the crate's recommended parameters (OWASP's minimum).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| Error::PasswordHash(error.to_string()))
}

/// Constant-time verification; a malformed stored hash never matches.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

static DUMMY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash_password("switchyard-timing-equaliser").ok());

/// Spends the same time as a real verification, so a login for an unknown email cannot be
/// told apart from a wrong password by its latency. Always false.
pub fn verify_password_against_dummy(password: &str) -> bool {
    if let Some(hash) = DUMMY_HASH.as_deref() {
        let _ = verify_password(password, hash);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_reject() {
        let hash = hash_password("correct horse").expect("hashes");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("anything", "not-a-hash"));
        assert!(!verify_password_against_dummy("anything"));
    }
}

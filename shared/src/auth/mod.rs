//! Authentication: JWT access/refresh tokens, argon2id password hashing, roles, random
//! tokens, login sessions ([`sessions`]) and the per-email lock on password guessing
//! ([`throttle`]). HTTP concerns (headers, status codes) live in the API crate.

mod jwt;
mod password;
mod role;
pub mod sessions;
pub mod throttle;

pub use jwt::{Claims, JwtError, JwtKeys, Subject, TokenType};
pub use password::{hash_password, verify_password, verify_password_against_dummy};
pub use role::Role;

use rand::{Rng, distr::Alphanumeric};
use sha2::{Digest, Sha256};

/// A random alphanumeric token (secrets, invitation tokens).
pub fn random_token(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// Hex SHA-256, for storing one-time tokens without keeping them readable.
pub fn sha256_hex(input: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(input.as_ref()))
}

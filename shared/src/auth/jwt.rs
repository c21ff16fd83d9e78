use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// What every token carries. `sid` is the login session (refresh-token family): revoking it
/// invalidates the access tokens issued under it too. `jti` identifies a refresh token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub user_id: i64,
    pub account_id: i64,
    pub role: Role,
    #[serde(rename = "type")]
    pub token_type: TokenType,
    pub sid: Uuid,
    pub jti: Uuid,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is malformed or its signature is invalid")]
    Invalid,
    #[error("a {found:?} token cannot be used here")]
    WrongType { found: TokenType },
}

/// Whom a token is for: the user, their account and role, and the login session.
#[derive(Clone, Copy, Debug)]
pub struct Subject {
    pub user_id: i64,
    pub account_id: i64,
    pub role: Role,
    pub sid: Uuid,
}

/// HS256 keys derived from the configured secret.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Only HS256 is accepted: `alg: none` and algorithm-confusion tokens fail to decode.
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs a token of `token_type` valid for `ttl` from now.
    pub fn issue(
        &self,
        token_type: TokenType,
        subject: Subject,
        jti: Uuid,
        ttl: Duration,
    ) -> Result<(String, Claims), JwtError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            user_id: subject.user_id,
            account_id: subject.account_id,
            role: subject.role,
            token_type,
            sid: subject.sid,
            jti,
            iat: now,
            exp: now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| JwtError::Invalid)?;
        Ok((token, claims))
    }

    /// Verifies signature, algorithm, expiry and the expected token type.
    pub fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, JwtError> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|error| {
                match error.kind() {
                    ErrorKind::ExpiredSignature => JwtError::Expired,
                    _ => JwtError::Invalid,
                }
            })?;
        if data.claims.token_type != expected {
            return Err(JwtError::WrongType { found: data.claims.token_type });
        }
        Ok(data.claims)
    }

    /// Signs arbitrary claims (tests forge expired tokens with it).
    pub fn sign_claims(&self, claims: &Claims) -> Result<String, JwtError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|_| JwtError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"0123456789abcdef0123456789abcdef")
    }

    fn issue(keys: &JwtKeys, token_type: TokenType) -> String {
        keys.issue(
            token_type,
            Subject { user_id: 1, account_id: 2, role: Role::Owner, sid: Uuid::new_v4() },
            Uuid::new_v4(),
            Duration::from_secs(60),
        )
        .expect("signs")
        .0
    }

    #[test]
    fn round_trips_and_checks_type() {
        let keys = keys();
        let access = issue(&keys, TokenType::Access);
        assert_eq!(keys.verify(&access, TokenType::Access).expect("valid").account_id, 2);
        assert_eq!(
            keys.verify(&access, TokenType::Refresh),
            Err(JwtError::WrongType { found: TokenType::Access })
        );
    }

    #[test]
    fn rejects_other_secrets_alg_none_and_expired_tokens() {
        let keys = keys();
        let foreign = JwtKeys::new(b"another-secret-another-secret-xx");
        assert_eq!(
            keys.verify(&issue(&foreign, TokenType::Access), TokenType::Access),
            Err(JwtError::Invalid)
        );

        let token = issue(&keys, TokenType::Access);
        let payload = token.split('.').nth(1).expect("has payload");
        // {"alg":"none","typ":"JWT"}
        let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(keys.verify(&unsigned, TokenType::Access), Err(JwtError::Invalid));

        let mut claims = keys.verify(&token, TokenType::Access).expect("valid");
        claims.exp = Utc::now().timestamp() - 3600;
        let expired = keys.sign_claims(&claims).expect("signs");
        assert_eq!(keys.verify(&expired, TokenType::Access), Err(JwtError::Expired));
    }
}

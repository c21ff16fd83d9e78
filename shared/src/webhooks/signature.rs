//! Signatures of incoming webhooks. Odoo and Gitea sign the raw body with HMAC-SHA256 (hex,
//! optionally prefixed `sha256=`); payment providers sign `"{timestamp}.{body}"` in a
//! Stripe-style header `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` and the timestamp must be within
//! five minutes. Every comparison is constant-time (`Mac::verify_slice`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a payment signature's timestamp may be from now.
pub const PAYMENT_TOLERANCE_SECS: i64 = 300;

/// Where a webhook comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Odoo,
    Gitea,
    Payments,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::Odoo, Source::Gitea, Source::Payments];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Odoo => "odoo",
            Source::Gitea => "gitea",
            Source::Payments => "payments",
        }
    }

    pub fn parse(value: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|source| source.as_str() == value)
    }

    /// The header carrying the signature.
    pub fn signature_header(self) -> &'static str {
        match self {
            Source::Odoo => "x-odoo-signature",
            Source::Gitea => "x-gitea-signature",
            Source::Payments => "stripe-signature",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature header is not in the expected form")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("the signature's timestamp is more than five minutes from now")]
    Stale,
}

impl SignatureError {
    pub fn code(self) -> &'static str {
        match self {
            SignatureError::Missing => "missing_signature",
            SignatureError::Malformed | SignatureError::Mismatch => "invalid_signature",
            SignatureError::Stale => "stale_signature",
        }
    }
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length.
    HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// The hex HMAC-SHA256 of `message`, as a sender computes it.
pub fn sign(secret: &[u8], message: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks an Odoo or Gitea signature: hex HMAC-SHA256 of the raw body.
pub fn verify_body(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(SignatureError::Missing)?;
    let hex_part = header.strip_prefix("sha256=").unwrap_or(header);
    let expected = hex::decode(hex_part).map_err(|_| SignatureError::Malformed)?;
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// Checks a payment signature `t=<unix>,v1=<hex>` against `now` (unix seconds).
pub fn verify_payment(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(SignatureError::Missing)?;
    let mut timestamp: Option<i64> = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = Some(value.parse().map_err(|_| SignatureError::Malformed)?),
            Some(("v1", value)) => {
                candidates.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let mut signed = mac(secret);
    signed.update(format!("{timestamp}.").as_bytes());
    signed.update(body);
    // Every candidate is compared (in constant time each) before answering.
    let matched = candidates
        .iter()
        .fold(false, |found, candidate| signed.clone().verify_slice(candidate).is_ok() | found);
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    if (now - timestamp).abs() > PAYMENT_TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// The header a payment provider would send for `body` at `timestamp`.
pub fn payment_header(secret: &[u8], body: &[u8], timestamp: i64) -> String {
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    format!("t={timestamp},v1={}", sign(secret, &message))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";

    #[test]
    fn body_signatures() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let good = sign(SECRET, body);
        assert_eq!(verify_body(SECRET, body, Some(&good)), Ok(()));
        assert_eq!(verify_body(SECRET, body, Some(&format!("sha256={good}"))), Ok(()));
        assert_eq!(verify_body(SECRET, b"tampered", Some(&good)), Err(SignatureError::Mismatch));
        assert_eq!(verify_body(b"other", body, Some(&good)), Err(SignatureError::Mismatch));
        assert_eq!(verify_body(SECRET, body, None), Err(SignatureError::Missing));
        assert_eq!(verify_body(SECRET, body, Some("zz-not-hex")), Err(SignatureError::Malformed));
        assert_eq!(verify_body(SECRET, body, Some(&good[..10])), Err(SignatureError::Mismatch));
    }

    #[test]
    fn payment_signatures_and_their_age() {
        let body = br#"{"id":"evt_1"}"#;
        let now = 1_800_000_000;
        let header = payment_header(SECRET, body, now - 10);
        assert_eq!(verify_payment(SECRET, body, Some(&header), now), Ok(()));
        // A rotated secret: one of several v1 values matching is enough.
        let rotated = format!("{header},v1={}", "00".repeat(32));
        assert_eq!(verify_payment(SECRET, body, Some(&rotated), now), Ok(()));
        let old = payment_header(SECRET, body, now - 301);
        assert_eq!(verify_payment(SECRET, body, Some(&old), now), Err(SignatureError::Stale));
        assert_eq!(verify_payment(SECRET, b"{}", Some(&header), now), Err(SignatureError::Mismatch));
        assert_eq!(verify_payment(SECRET, body, Some("v1=abcd"), now), Err(SignatureError::Malformed));
        assert_eq!(verify_payment(SECRET, body, Some("t=12"), now), Err(SignatureError::Malformed));
        assert_eq!(verify_payment(SECRET, body, None, now), Err(SignatureError::Missing));
    }
}

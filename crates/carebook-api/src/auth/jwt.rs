//! Short-lived access tokens: HS256 JWTs carrying the user id and role. Expiry is checked
//! against the injected clock rather than the library's own reading of the system time.

use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ISSUER: &str = "carebook";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

pub fn issue(
    secret: &[u8],
    user_id: Uuid,
    role: &str,
    now: Timestamp,
    ttl: SignedDuration,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = Claims {
        sub: user_id,
        role: role.to_owned(),
        iss: ISSUER.to_owned(),
        iat: now.as_second(),
        exp: now.as_second() + ttl.as_secs(),
        jti: Uuid::now_v7(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
}

/// The claims of a token signed with `secret` that has not expired at `now`.
pub fn verify(secret: &[u8], token: &str, now: Timestamp) -> Option<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false;
    v.set_required_spec_claims(&["exp", "sub", "iss"]);
    v.set_issuer(&[ISSUER]);
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &v).ok()?;
    (now.as_second() < data.claims.exp).then_some(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_on_the_injected_clock_and_need_the_key() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let id = Uuid::now_v7();
        let t = issue(
            b"0123456789abcdef0123456789abcdef",
            id,
            "admin",
            now,
            SignedDuration::from_mins(15),
        )
        .unwrap();
        let c = verify(b"0123456789abcdef0123456789abcdef", &t, now).unwrap();
        assert_eq!(c.sub, id);
        assert_eq!(c.role, "admin");
        assert!(
            verify(
                b"0123456789abcdef0123456789abcdef",
                &t,
                now + SignedDuration::from_mins(15)
            )
            .is_none()
        );
        assert!(verify(b"another key another key another k", &t, now).is_none());
        assert!(verify(b"0123456789abcdef0123456789abcdef", "not.a.token", now).is_none());
    }
}

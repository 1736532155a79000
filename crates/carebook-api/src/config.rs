//! Settings the API needs at run time. The binary fills them from defaults, a TOML file,
//! `CAREBOOK_*` variables and flags; `Debug` never shows the signing secret.

use carebook_domain::lockout::LockoutPolicy;
use jiff::SignedDuration;
use std::fmt;

#[derive(Clone)]
pub struct ApiConfig {
    /// HMAC key for access tokens (at least 32 bytes).
    pub jwt_secret: Vec<u8>,
    pub access_token_ttl: SignedDuration,
    pub refresh_token_ttl: SignedDuration,
    pub password_reset_ttl: SignedDuration,
    pub email_verification_ttl: SignedDuration,
    pub lockout: LockoutPolicy,
    /// Requests per minute per client address on login and token endpoints.
    pub auth_rate_per_minute: u32,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Base URL used in links inside emails (password reset, verification).
    pub public_url: String,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Issuer name shown in authenticator apps.
    pub mfa_issuer: String,
}

impl fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiConfig")
            .field("jwt_secret", &"[redacted]")
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("password_reset_ttl", &self.password_reset_ttl)
            .field("email_verification_ttl", &self.email_verification_ttl)
            .field("lockout", &self.lockout)
            .field("auth_rate_per_minute", &self.auth_rate_per_minute)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("public_url", &self.public_url)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish()
    }
}

impl ApiConfig {
    /// Defaults suited to production, given the signing secret.
    pub fn new(jwt_secret: Vec<u8>) -> Self {
        Self {
            jwt_secret,
            access_token_ttl: SignedDuration::from_mins(15),
            refresh_token_ttl: SignedDuration::from_hours(24 * 30),
            password_reset_ttl: SignedDuration::from_hours(1),
            email_verification_ttl: SignedDuration::from_hours(48),
            lockout: LockoutPolicy::default(),
            auth_rate_per_minute: 30,
            max_body_bytes: 256 * 1024,
            public_url: "http://127.0.0.1:8080".to_owned(),
            trust_forwarded_for: false,
            mfa_issuer: "Carebook".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_hides_the_signing_key() {
        let c = super::ApiConfig::new(b"a-very-secret-signing-key-123456789".to_vec());
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("very-secret") && shown.contains("[redacted]"),
            "{shown}"
        );
    }
}

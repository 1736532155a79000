//! Opaque secrets (refresh tokens, reset and verification tokens, recovery codes) are stored
//! only as SHA-256 digests: they are long random values, so a fast hash is enough and lets the
//! database look them up by equality. Passwords, which people choose, use argon2id instead.

use sha2::{Digest, Sha256};

pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Recovery codes are typed by people: compare them without case, spaces or hyphens.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_stable_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(normalise_recovery_code("AB12-cd34 "), "ab12cd34");
    }
}

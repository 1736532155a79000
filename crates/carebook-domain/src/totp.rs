//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the codes
//! of every authenticator app. A code is accepted for the current step and one step either
//! side (clock drift), and never twice: the caller stores the last accepted step and passes it
//! back, so a code seen over someone's shoulder cannot be replayed inside its window.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;

/// The 6-digit code for one time step.
pub fn code_at_step(secret: &[u8], step: i64) -> u32 {
    // HMAC accepts keys of any length, so construction cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let bin = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    bin % 10u32.pow(DIGITS)
}

pub fn step_of(now: Timestamp) -> i64 {
    now.as_second().div_euclid(STEP_SECONDS)
}

/// The code for `now`, formatted with leading zeros.
pub fn code_now(secret: &[u8], now: Timestamp) -> String {
    format!("{:06}", code_at_step(secret, step_of(now)))
}

/// Checks `code` against the steps around `now`. Returns the matched step, which the caller
/// stores as the last used one; steps at or before `last_used_step` are refused.
pub fn verify(
    secret: &[u8],
    code: &str,
    now: Timestamp,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let current = step_of(now);
    [current - 1, current, current + 1]
        .into_iter()
        .filter(|s| last_used_step.is_none_or(|last| *s > last))
        .find(|s| constant_time_eq(code_at_step(secret, *s), wanted))
}

fn constant_time_eq(a: u32, b: u32) -> bool {
    (a ^ b) == 0
}

/// `otpauth://` URI that authenticator apps read from a QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        secret_base32,
        enc(issuer)
    )
}

pub fn encode_secret(secret: &[u8]) -> String {
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, secret)
}

pub fn decode_secret(b32: &str) -> Option<Vec<u8>> {
    base32::decode(base32::Alphabet::Rfc4648 { padding: false }, b32)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 key, truncated to 6 digits.
    const KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_vectors() {
        for (secs, code) in [
            (59, 287_082),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
        ] {
            let t = Timestamp::from_second(secs).unwrap();
            assert_eq!(code_at_step(KEY, step_of(t)), code, "at {secs}");
        }
    }

    #[test]
    fn accepts_adjacent_steps_and_refuses_reuse() {
        let t = Timestamp::from_second(1_700_000_000).unwrap();
        let code = code_now(KEY, t);
        let step = verify(KEY, &code, t, None).unwrap();
        assert_eq!(step, step_of(t));
        assert_eq!(
            verify(KEY, &code, t, Some(step)),
            None,
            "reuse in the same step"
        );
        let later = Timestamp::from_second(1_700_000_000 + 30).unwrap();
        assert!(
            verify(KEY, &code, later, None).is_some(),
            "one step of drift"
        );
        let much_later = Timestamp::from_second(1_700_000_000 + 95).unwrap();
        assert_eq!(verify(KEY, &code, much_later, None), None);
        assert_eq!(verify(KEY, "12345", t, None), None);
        assert_eq!(verify(KEY, "abcdef", t, None), None);
    }

    #[test]
    fn secret_round_trips_through_base32() {
        let s = encode_secret(KEY);
        assert_eq!(decode_secret(&s).unwrap(), KEY);
        assert!(otpauth_uri("Carebook", "a b@x.io", &s).contains("a%20b%40x.io"));
    }
}

//! Account lockout after repeated failures (seed 000's `failed_login_attempts` and
//! `locked_until`). Failed passwords and failed MFA codes count alike.

use jiff::{SignedDuration, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures in a row that lock the account.
    pub max_failures: u32,
    /// How long the lock lasts.
    pub lock_for: SignedDuration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_for: SignedDuration::from_mins(15),
        }
    }
}

/// The counters after one more failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AfterFailure {
    pub failed_attempts: u32,
    pub locked_until: Option<Timestamp>,
}

impl LockoutPolicy {
    pub fn is_locked(&self, locked_until: Option<Timestamp>, now: Timestamp) -> bool {
        locked_until.is_some_and(|until| now < until)
    }

    /// Counts a failure. Reaching the limit locks the account and restarts the count, so that
    /// after the lock expires the user again has the full number of tries.
    pub fn register_failure(&self, failed_attempts: u32, now: Timestamp) -> AfterFailure {
        let n = failed_attempts.saturating_add(1);
        if n >= self.max_failures {
            AfterFailure {
                failed_attempts: 0,
                locked_until: now.checked_add(self.lock_for).ok(),
            }
        } else {
            AfterFailure {
                failed_attempts: n,
                locked_until: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_on_the_fifth_failure_and_unlocks_after_the_period() {
        let p = LockoutPolicy::default();
        let now: Timestamp = "2026-03-08T07:00:00Z".parse().unwrap();
        let mut n = 0;
        for _ in 0..4 {
            let a = p.register_failure(n, now);
            assert_eq!(a.locked_until, None);
            n = a.failed_attempts;
        }
        assert_eq!(n, 4);
        let a = p.register_failure(n, now);
        let until = a.locked_until.unwrap();
        assert_eq!(until, now + SignedDuration::from_mins(15));
        assert!(p.is_locked(Some(until), now + SignedDuration::from_mins(14)));
        assert!(!p.is_locked(Some(until), until));
        assert!(!p.is_locked(None, now));
    }
}

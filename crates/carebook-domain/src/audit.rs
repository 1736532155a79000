//! The audit trail's rules: what is redacted and how rows are chained.
//!
//! Each row's hash covers the previous row's hash and the row's own canonical content, so
//! changing, removing or reordering any row breaks every link after it. The database refuses
//! UPDATE and DELETE on the table; the chain makes tampering visible even to someone who
//! bypasses that (a superuser dropping the trigger).

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The hash that stands before the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Keys whose values never reach the audit trail (nor logs).
const SENSITIVE: &[&str] = &[
    "password",
    "password_hash",
    "new_password",
    "current_password",
    "token",
    "token_hash",
    "refresh_token",
    "access_token",
    "mfa_secret",
    "secret",
    "code",
    "recovery_codes",
    "code_hash",
];

pub const REDACTED: &str = "[redacted]";

/// Replaces the value of every sensitive key, at any depth.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if SENSITIVE.contains(&k.as_str()) {
                        Value::String(REDACTED.to_owned())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// One audit row's content, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: Uuid,
    pub occurred_at: Timestamp,
    pub actor_user_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub clinic_id: Option<Uuid>,
    pub old_values: Option<Value>,
    pub new_values: Option<Value>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl AuditRecord {
    /// A record of `action` on `entity_type` at `occurred_at` with nothing else known yet (no
    /// actor, entity, clinic, values or request); set the rest with struct update syntax.
    pub fn new(action: &str, entity_type: &str, occurred_at: Timestamp) -> Self {
        Self {
            id: Uuid::now_v7(),
            occurred_at,
            actor_user_id: None,
            actor_role: None,
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id: None,
            clinic_id: None,
            old_values: None,
            new_values: None,
            ip: None,
            user_agent: None,
            request_id: None,
        }
    }
}

/// The hash of row `seq` given the previous row's hash. Content is serialised as a JSON array
/// with object keys sorted (serde_json's default map), so PostgreSQL's jsonb reordering of keys
/// does not change the result; times are taken in whole microseconds, the precision both
/// backends store.
pub fn chain_hash(prev_hash: &str, seq: i64, r: &AuditRecord) -> String {
    let canonical = serde_json::json!([
        prev_hash,
        seq,
        r.id.to_string(),
        r.occurred_at.as_microsecond(),
        r.actor_user_id.map(|u| u.to_string()),
        r.actor_role,
        r.action,
        r.entity_type,
        r.entity_id,
        r.clinic_id.map(|u| u.to_string()),
        r.old_values,
        r.new_values,
        r.ip,
        r.user_agent,
        r.request_id,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// A stored row: its position, its content and the hashes it was written with.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainedRecord {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub record: AuditRecord,
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// A row's `prev_hash` is not the previous row's hash (a row removed or inserted).
    Link {
        seq: i64,
        expected_prev: String,
        found_prev: String,
    },
    /// A row's content no longer produces its hash (a row edited).
    Content { seq: i64 },
    /// Sequence numbers skip (a row removed at the end of a range).
    Gap { after: i64, found: i64 },
}

impl ChainBreak {
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Link { seq, .. } | ChainBreak::Content { seq } => *seq,
            ChainBreak::Gap { found, .. } => *found,
        }
    }
}

/// Incremental verifier: feed rows in `seq` order; the first break is reported.
#[derive(Debug)]
pub struct ChainVerifier {
    prev_hash: String,
    prev_seq: i64,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            prev_hash: GENESIS_HASH.to_owned(),
            prev_seq: 0,
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, row: &ChainedRecord) -> Result<(), ChainBreak> {
        if row.seq != self.prev_seq + 1 {
            return Err(ChainBreak::Gap {
                after: self.prev_seq,
                found: row.seq,
            });
        }
        if row.prev_hash != self.prev_hash {
            return Err(ChainBreak::Link {
                seq: row.seq,
                expected_prev: self.prev_hash.clone(),
                found_prev: row.prev_hash.clone(),
            });
        }
        if chain_hash(&row.prev_hash, row.seq, &row.record) != row.hash {
            return Err(ChainBreak::Content { seq: row.seq });
        }
        self.prev_hash.clone_from(&row.hash);
        self.prev_seq = row.seq;
        self.checked += 1;
        Ok(())
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(action: &str) -> AuditRecord {
        AuditRecord {
            id: Uuid::nil(),
            occurred_at: Timestamp::from_second(1_800_000_000).unwrap(),
            actor_user_id: None,
            actor_role: Some("admin".into()),
            action: action.into(),
            entity_type: "user".into(),
            entity_id: Some("x".into()),
            clinic_id: None,
            old_values: None,
            new_values: Some(json!({"b": 1, "a": [1, 2]})),
            ip: None,
            user_agent: None,
            request_id: None,
        }
    }

    fn chain(n: usize) -> Vec<ChainedRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n as i64)
            .map(|seq| {
                let record = record(&format!("a{seq}"));
                let hash = chain_hash(&prev, seq, &record);
                let row = ChainedRecord {
                    seq,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                    record,
                };
                prev = hash;
                row
            })
            .collect()
    }

    fn first_break(rows: &[ChainedRecord]) -> Option<ChainBreak> {
        let mut v = ChainVerifier::default();
        rows.iter().find_map(|r| v.check(r).err())
    }

    #[test]
    fn redaction_reaches_every_depth() {
        let v = redact(&json!({"email": "a@b.io", "password": "x", "n": [{"token": "t"}]}));
        assert_eq!(
            v,
            json!({"email": "a@b.io", "password": REDACTED, "n": [{"token": REDACTED}]})
        );
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        let mut a = record("x");
        let b = a.clone();
        a.new_values = serde_json::from_str(r#"{"a":[1,2],"b":1}"#).ok();
        assert_eq!(
            chain_hash(GENESIS_HASH, 1, &a),
            chain_hash(GENESIS_HASH, 1, &b)
        );
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(first_break(&chain(5)), None);
    }

    #[test]
    fn an_edit_is_found_at_its_row() {
        let mut rows = chain(5);
        rows[2].record.action = "forged".into();
        assert_eq!(first_break(&rows), Some(ChainBreak::Content { seq: 3 }));
    }

    #[test]
    fn a_removal_is_found() {
        let mut rows = chain(5);
        rows.remove(1);
        assert_eq!(first_break(&rows).map(|b| b.seq()), Some(3));
    }

    #[test]
    fn a_rewritten_chain_tail_is_found_by_its_link() {
        let mut rows = chain(4);
        rows[3].prev_hash = GENESIS_HASH.into();
        rows[3].hash = chain_hash(GENESIS_HASH, 4, &rows[3].record);
        assert!(matches!(
            first_break(&rows),
            Some(ChainBreak::Link { seq: 4, .. })
        ));
    }
}

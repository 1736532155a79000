//! Walks the whole audit chain in order and reports the first broken link; used by
//! `carebook audit verify` and by the tests that tamper with the table on purpose.

use crate::{Store, StoreResult};
use carebook_domain::audit::{ChainBreak, ChainVerifier};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Rows that verified before the first break (all of them when intact).
    pub verified: u64,
    pub first_break: Option<ChainBreak>,
}

/// Reads in pages so a long chain does not have to fit in memory.
pub async fn verify_audit_chain(store: &Store) -> StoreResult<ChainReport> {
    const PAGE: u32 = 1000;
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    loop {
        let mut tx = store.read().await?;
        let rows = tx.audit_chain(after, PAGE).await?;
        drop(tx);
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            if let Err(b) = verifier.check(row) {
                return Ok(ChainReport {
                    verified: verifier.checked(),
                    first_break: Some(b),
                });
            }
        }
    }
    Ok(ChainReport {
        verified: verifier.checked(),
        first_break: None,
    })
}

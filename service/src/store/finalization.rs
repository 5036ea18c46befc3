//! An epoch's verification, leased to one server or worker once every batch is
//! done: claim, heartbeat, and the end state.

use super::tasks::task_state;
use super::{Fence, Store, ms, state};
use crate::ServiceError;
use sqlx::Row;
use std::time::Duration;

impl Store {
    /// Claims the verification of an epoch whose batches are all done (or whose
    /// verifier's lease ran out).
    pub async fn claim_finalization(
        &self,
        owner: &str,
        fence: &Fence,
        lease: Duration,
    ) -> Result<Option<i64>, ServiceError> {
        let query = format!(
            "UPDATE backstop_epochs SET state = ?, final_owner = ?, final_lease_ms = NOW_MS + ?,
                    final_attempts = final_attempts + 1
             WHERE epoch IN (
                SELECT e.epoch FROM backstop_epochs e
                WHERE e.shape = ? AND e.secret_id = ? AND e.key_id IN (?, '')
                  AND (e.state IN (?, ?) OR (e.state = ? AND e.final_lease_ms < NOW_MS))
                  AND NOT EXISTS (SELECT 1 FROM backstop_tasks t WHERE t.epoch = e.epoch AND t.state <> ?)
                ORDER BY e.epoch LIMIT 1 {})
               AND (state IN (?, ?) OR (state = ? AND final_lease_ms < NOW_MS))
             RETURNING epoch",
            self.skip_locked()
        );
        // Claimable: not started, or being verified by a verifier whose lease ran out.
        let claimable = [
            state::QUEUED.into(),
            state::PROVING.into(),
            state::VERIFYING.into(),
        ];
        let params = [
            [
                state::VERIFYING.into(),
                owner.into(),
                ms(lease).into(),
                fence.shape.as_str().into(),
                fence.secret_id.as_str().into(),
                fence.key_id.as_str().into(),
            ]
            .as_slice(),
            &claimable,
            &[task_state::DONE.into()],
            &claimable,
        ]
        .concat();
        let row = self.update_returning(&self.pool, &query, &params).await?;
        row.map(|r| r.try_get("epoch").map_err(ServiceError::from))
            .transpose()
    }

    /// Extends a verification lease; `false` if `owner` lost it.
    pub async fn heartbeat_finalization(
        &self,
        owner: &str,
        epoch: i64,
        duration: Duration,
    ) -> Result<bool, ServiceError> {
        let n = self
            .execute(
                &self.beats,
                "UPDATE backstop_epochs SET final_lease_ms = NOW_MS + ? WHERE epoch = ? AND final_owner = ? AND state = ?",
                &[
                    ms(duration).into(),
                    epoch.into(),
                    owner.into(),
                    state::VERIFYING.into(),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    /// Marks the epoch verified (only from `verifying`, by its verifier).
    pub async fn mark_verified(&self, owner: &str, epoch: i64) -> Result<bool, ServiceError> {
        let n = self
            .execute(
                &self.pool,
                "UPDATE backstop_epochs SET state = ?, finished_ms = NOW_MS WHERE epoch = ? AND final_owner = ? AND state = ?",
                &[
                    state::VERIFIED.into(),
                    epoch.into(),
                    owner.into(),
                    state::VERIFYING.into(),
                ],
            )
            .await?;
        Ok(n == 1)
    }
}

impl Store {
    /// Gives an epoch's verification back unfinished at shutdown: claimable again
    /// at once.
    pub async fn return_finalization(&self, owner: &str, epoch: i64) -> Result<bool, ServiceError> {
        let n = self
            .execute(
                &self.pool,
                "UPDATE backstop_epochs SET final_lease_ms = 0 WHERE epoch = ? AND final_owner = ? AND state = ?",
                &[epoch.into(), owner.into(), state::VERIFYING.into()],
            )
            .await?;
        Ok(n == 1)
    }
}

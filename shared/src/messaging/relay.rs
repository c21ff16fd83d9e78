//! The outbox relay. After a transaction that enqueued tasks commits, the caller hands the
//! new outbox ids to [`RelayHandle::notify`]; the relay publishes them in batches with
//! publisher confirms and deletes them (a confirmed row has no further use, and a delete is
//! the cheapest write that takes it out of the unsent set). A sweeper publishes rows that
//! stayed unsent (the broker was down, or a process died between commit and publish). Rows
//! are claimed with `FOR UPDATE SKIP LOCKED`, so any number of processes can relay the same
//! table.

use std::{sync::Arc, time::Duration};

use diesel::sql_types::{Array, BigInt, Double};
use diesel::{
    PgConnection,
    connection::{AnsiTransactionManager, TransactionManager},
    prelude::*,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Outgoing, Publisher};
use crate::{
    db::{PgPool, PgPooled, models::OutboxRow, schema::outbox},
    error::{Error, Result},
};

const MAX_BATCH: usize = 2_000;
const SWEEP_EVERY: Duration = Duration::from_secs(2);
/// Rows younger than this belong to the immediate path; the sweeper leaves them alone.
const SWEEP_MIN_AGE_SECS: f64 = 2.0;

/// Cheap to clone; dropping every handle does not stop the relay (the sweeper keeps going
/// until shutdown).
#[derive(Clone, Debug)]
pub struct RelayHandle {
    sender: mpsc::UnboundedSender<i64>,
}

impl RelayHandle {
    /// Asks the relay to publish these committed outbox rows now.
    pub fn notify(&self, outbox_ids: impl IntoIterator<Item = i64>) {
        for id in outbox_ids {
            // A closed relay means shutdown; the sweeper of another process picks the row up.
            let _ = self.sender.send(id);
        }
    }
}

pub struct Relay {
    pool: PgPool,
    publisher: Arc<Publisher>,
}

impl Relay {
    /// Starts the relay and its sweeper on the current runtime.
    pub fn spawn(pool: PgPool, publisher: Arc<Publisher>, shutdown: CancellationToken) -> RelayHandle {
        let (sender, receiver) = mpsc::unbounded_channel();
        let relay = Relay { pool, publisher };
        tokio::spawn(relay.run(receiver, shutdown));
        RelayHandle { sender }
    }

    async fn run(self, mut receiver: mpsc::UnboundedReceiver<i64>, shutdown: CancellationToken) {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                Some(first) = receiver.recv() => {
                    let mut ids = vec![first];
                    while ids.len() < MAX_BATCH {
                        match receiver.try_recv() {
                            Ok(id) => ids.push(id),
                            Err(_) => break,
                        }
                    }
                    self.publish(Claim::Ids(ids)).await;
                }
                _ = sweep.tick() => {
                    while self.publish(Claim::Stale).await == MAX_BATCH {}
                }
            }
        }
    }

    /// Publishes one claimed batch; returns how many rows were published.
    async fn publish(&self, claim: Claim) -> usize {
        match self.publish_batch(claim).await {
            Ok(count) => count,
            Err(error) => {
                tracing::warn!(%error, "outbox relay could not publish; the sweeper retries");
                0
            }
        }
    }

    async fn publish_batch(&self, claim: Claim) -> Result<usize> {
        let pool = self.pool.clone();
        let (conn, rows) = tokio::task::spawn_blocking(move || -> Result<(PgPooled, Vec<OutboxRow>)> {
            let mut conn = pool.get()?;
            AnsiTransactionManager::begin_transaction(&mut *conn)?;
            match claim.take(&mut conn) {
                Ok(rows) => Ok((conn, rows)),
                Err(error) => {
                    let _ = AnsiTransactionManager::rollback_transaction(&mut *conn);
                    Err(error)
                }
            }
        })
        .await??;
        let messages: Vec<Outgoing> = rows.iter().map(|row| self.outgoing(row)).collect();
        let outcome = self.publisher.publish_confirmed(&messages).await;
        let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
        let count = ids.len();
        let error_text = outcome.as_ref().err().map(ToString::to_string);
        tokio::task::spawn_blocking(move || finish(conn, &ids, error_text)).await??;
        outcome.map(|()| count)
    }

    fn outgoing(&self, row: &OutboxRow) -> Outgoing {
        Outgoing {
            exchange: self.publisher.topology().commands_exchange(),
            routing_key: row.routing_key.clone(),
            body: row.body.to_string().into_bytes(),
            message_id: Some(row.task_id.to_string()),
            expiration: None,
            headers: row
                .trace_id
                .iter()
                .map(|trace_id| ("traceparent".to_owned(), crate::telemetry::traceparent(trace_id)))
                .collect(),
        }
    }
}

enum Claim {
    /// Rows this process just committed.
    Ids(Vec<i64>),
    /// Rows left unsent for longer than the immediate path needs.
    Stale,
    /// Every unsent row, whatever its age.
    AllUnsent,
}

crate::prepared_statement! {
    /// Deletes and returns a batch of unsent rows: those listed in `ids` (all when empty) that
    /// are at least `min_age_secs` old. Rows other relays hold are skipped.
    struct TakeOutbox { ids: Vec<i64>, min_age_secs: f64, limit: i64 }
    sql = [
        "DELETE FROM outbox WHERE id IN ( \
             SELECT id FROM outbox \
             WHERE (cardinality(", (ids as Array<BigInt>), ") = 0 OR id = ANY(", (ids as Array<BigInt>), ")) \
               AND created_at <= now() - make_interval(secs => ", (min_age_secs as Double), ") \
             ORDER BY id LIMIT ", (limit as BigInt), " FOR UPDATE SKIP LOCKED) \
         RETURNING *",
    ];
}

impl Claim {
    /// Deletes and returns a batch of unsent rows inside the open transaction: the delete is
    /// the claim (other relays skip the locked rows) and commits only after the broker
    /// confirmed every message.
    fn take(&self, conn: &mut PgConnection) -> Result<Vec<OutboxRow>> {
        let (ids, min_age_secs) = match self {
            Claim::Ids(ids) => (ids.clone(), 0.0),
            Claim::Stale => (Vec::new(), SWEEP_MIN_AGE_SECS),
            Claim::AllUnsent => (Vec::new(), 0.0),
        };
        Ok(TakeOutbox { ids, min_age_secs, limit: MAX_BATCH as i64 }.load(conn)?)
    }
}

/// Commits the claimed batch once it is confirmed. On failure the deletes roll back and the
/// rows record the attempt for the sweeper and for operators.
fn finish(mut conn: PgPooled, ids: &[i64], error: Option<String>) -> Result<()> {
    let Some(error) = error else {
        return AnsiTransactionManager::commit_transaction(&mut *conn).map_err(Error::from);
    };
    AnsiTransactionManager::rollback_transaction(&mut *conn)?;
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set((outbox::publish_attempts.eq(outbox::publish_attempts + 1), outbox::last_error.eq(error)))
        .execute(&mut *conn)?;
    Ok(())
}

/// Publishes every unsent row right now (used by tests and the benchmark to drain).
pub async fn drain_outbox(pool: &PgPool, publisher: Arc<Publisher>) -> Result<usize> {
    let relay = Relay { pool: pool.clone(), publisher };
    let mut total = 0;
    loop {
        let count = relay.publish_batch(Claim::AllUnsent).await?;
        total += count;
        if count < MAX_BATCH {
            return Ok(total);
        }
    }
}

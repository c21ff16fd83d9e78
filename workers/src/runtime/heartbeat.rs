//! One `worker_heartbeats` row per worker process, refreshed every interval. The status
//! endpoint counts live processes from it, and a redelivered task owned by a process whose
//! heartbeat went stale may be taken over.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use diesel::{
    prelude::*,
    sql_types::{BigInt, Integer, Text, Uuid as SqlUuid},
};
use shared::db::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct Counters {
    pub in_flight: AtomicUsize,
    pub processed: AtomicU64,
}

pub async fn run(
    pool: PgPool,
    worker_id: Uuid,
    kind: String,
    counters: Arc<Counters>,
    interval: Duration,
    file: Option<std::path::PathBuf>,
    shutdown: CancellationToken,
) {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    let pid = i32::try_from(std::process::id()).unwrap_or_default();
    loop {
        let in_flight = i32::try_from(counters.in_flight.load(Ordering::Relaxed)).unwrap_or(i32::MAX);
        let processed = i64::try_from(counters.processed.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        let (kind, hostname) = (kind.clone(), hostname.clone());
        let beat = shared::db::run(&pool, move |conn| {
            diesel::sql_query(
                "INSERT INTO worker_heartbeats (id, kind, hostname, pid, version, in_flight, processed) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET last_seen_at = now(), in_flight = $6, processed = $7",
            )
            .bind::<SqlUuid, _>(worker_id)
            .bind::<Text, _>(kind)
            .bind::<Text, _>(hostname)
            .bind::<Integer, _>(pid)
            .bind::<Text, _>(shared::VERSION)
            .bind::<Integer, _>(in_flight)
            .bind::<BigInt, _>(processed)
            .execute(conn)?;
            // Rows of processes that died without saying goodbye.
            diesel::sql_query("DELETE FROM worker_heartbeats WHERE last_seen_at < now() - interval '1 day'")
                .execute(conn)?;
            Ok(())
        })
        .await;
        match beat {
            Ok(()) => {
                if let Some(file) = &file
                    && let Err(error) = std::fs::write(file, chrono::Utc::now().to_rfc3339())
                {
                    tracing::warn!(%error, "heartbeat file not written");
                }
            }
            Err(error) => tracing::warn!(%error, "heartbeat not written"),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// Removes this process's row on a clean exit, so its tasks can be taken over at once.
pub async fn remove(pool: &PgPool, worker_id: Uuid) {
    let removed = shared::db::run(pool, move |conn| {
        diesel::sql_query("DELETE FROM worker_heartbeats WHERE id = $1")
            .bind::<SqlUuid, _>(worker_id)
            .execute(conn)?;
        Ok(())
    })
    .await;
    if let Err(error) = removed {
        tracing::warn!(%error, "heartbeat row not removed");
    }
}

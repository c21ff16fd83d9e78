//! The `scheduler`: fires due cron schedules by enqueueing their command through the outbox.
//!
//! Any number of scheduler processes can run. Due schedules are claimed with
//! `FOR UPDATE SKIP LOCKED`, and each fired slot inserts a `(schedule_id, fire_at)` row in the
//! transaction that enqueues the task, so a slot fires exactly once. After downtime, the
//! missed slots of a schedule fire once (stamped with the first missed time), not once each;
//! the next fire time is then computed from now.
//!
//! Each tick also hands due social posts to `worker-social`: the posts whose time has come are
//! claimed the same way (`SKIP LOCKED`), moved from `scheduled` to `queued` and their
//! `social.publish` enqueued in one transaction, so a post is dispatched once whatever the
//! number of schedulers.
//!
//! And once a minute it runs the built-in monthly schedule: every active account without its
//! plan's credits for the current month (UTC) gets them, once (`shared::plans::grant_month`,
//! keyed by account and month).

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use shared::{
    Config,
    db::{PgPool, models::Schedule},
    messaging::{Publisher, Relay, Topology},
    net::OutboundGuard,
    schedules::{CronSchedule, owned as schedules},
    tasks::command,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::runtime::heartbeat;

/// How often due schedules are looked for: the resolution of a seconds-field schedule.
const TICK: Duration = Duration::from_millis(250);
const MAX_PER_TICK: i64 = 500;
/// How often accounts are checked for this month's plan credits.
const GRANT_CHECK: Duration = Duration::from_secs(60);

/// Fires schedules until `shutdown`.
pub async fn run(config: Config, pool: PgPool, shutdown: CancellationToken) -> anyhow::Result<()> {
    let id = Uuid::new_v4();
    let publisher = Arc::new(Publisher::new(
        &config.amqp_url,
        &format!("scheduler-{id}"),
        Topology::from_config(&config),
    ));
    let background = CancellationToken::new();
    let relay = Relay::spawn(pool.clone(), publisher.clone(), background.clone());
    let beating = tokio::spawn(heartbeat::run(
        pool.clone(),
        id,
        "scheduler".to_owned(),
        Arc::default(),
        config.heartbeat_interval,
        config.heartbeat_file.clone(),
        background.clone(),
    ));
    tracing::info!(scheduler_id = %id, "scheduler starting");
    let mut granted_at: Option<std::time::Instant> = None;
    while !shutdown.is_cancelled() {
        if granted_at.is_none_or(|at| at.elapsed() >= GRANT_CHECK) {
            granted_at = Some(std::time::Instant::now());
            match shared::db::run(&pool, |conn| shared::plans::grant_due_months(conn, Utc::now())).await {
                Ok(0) => {}
                Ok(accounts) => tracing::info!(accounts, "granted this month's plan credits"),
                Err(error) => tracing::warn!(%error, "could not grant monthly plan credits; trying again"),
            }
        }
        let outbound = config.ai.outbound.clone();
        let fired = shared::db::run(&pool, move |conn| {
            let mut outbox_ids = fire_due(conn, &outbound, Utc::now())?;
            outbox_ids.extend(dispatch_due_posts(conn)?);
            Ok(outbox_ids)
        });
        match fired.await {
            Ok(outbox_ids) => relay.notify(outbox_ids),
            Err(error) => tracing::warn!(%error, "could not fire schedules; trying again"),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(TICK) => {}
        }
    }
    // Let the relay publish what was just committed; the sweeper of any process covers the rest.
    tokio::time::sleep(Duration::from_millis(200)).await;
    background.cancel();
    let _ = beating.await;
    heartbeat::remove(&pool, id).await;
    publisher.close().await;
    tracing::info!("scheduler stopped");
    Ok(())
}

/// Fires every schedule due at `now` in one transaction; returns the outbox rows to publish.
/// `outbound` judges the addresses a command names, as the API did when it was saved.
pub fn fire_due(
    conn: &mut PgConnection,
    outbound: &OutboundGuard,
    now: DateTime<Utc>,
) -> shared::Result<Vec<i64>> {
    conn.transaction(|conn| {
        let mut outbox_ids = Vec::new();
        for schedule in schedules::lock_due(conn, now, MAX_PER_TICK)? {
            outbox_ids.extend(fire(conn, &schedule, now, outbound)?);
        }
        Ok(outbox_ids)
    })
}

/// Queues `social.publish` for every due scheduled post; returns the outbox rows to publish.
pub fn dispatch_due_posts(conn: &mut PgConnection) -> shared::Result<Vec<i64>> {
    shared::social::posts::queue_due(conn, MAX_PER_TICK)
}

fn fire(
    conn: &mut PgConnection,
    schedule: &Schedule,
    now: DateTime<Utc>,
    outbound: &OutboundGuard,
) -> shared::Result<Option<i64>> {
    let Some(fire_at) = schedule.next_fire_at else { return Ok(None) };
    let span = tracing::info_span!("schedule", schedule_id = schedule.id, kind = %schedule.kind);
    let _entered = span.enter();
    let claimed = schedules::claim_slot(conn, schedule.id, fire_at)?;
    let mut outbox_id = None;
    if claimed {
        match command(schedule.account_id, &schedule.kind, schedule.payload.clone(), outbound) {
            Ok(task) => {
                let enqueued = shared::tasks::enqueue(conn, task)?;
                schedules::record_task(conn, schedule.id, fire_at, enqueued.task.id)?;
                tracing::info!(task_id = %enqueued.task.id, %fire_at, "fired");
                outbox_id = enqueued.outbox_id;
            }
            // The API validates commands; a row edited behind its back is skipped, loudly.
            Err(problems) => tracing::warn!(?problems, "schedule has an invalid command; not fired"),
        }
    }
    let next = CronSchedule::parse(&schedule.cron, &schedule.timezone)
        .ok()
        .and_then(|cron| cron.next_after(now.max(fire_at)));
    if next.is_none() {
        tracing::warn!("schedule never fires again; disabling it");
    }
    schedules::advance(conn, schedule.id, fire_at, next)?;
    Ok(outbox_id)
}

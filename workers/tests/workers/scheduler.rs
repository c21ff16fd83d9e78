//! The scheduler: each slot fires exactly once, whatever the number of scheduler processes;
//! missed slots after downtime fire once.

use std::{process::Child, time::Duration};

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use serde_json::json;
use shared::db::schema::{schedule_fires, schedules, tasks};
use testkit::eventually;

use crate::helpers::{Harness, terminate};
use workers::scheduler;

fn spawn_scheduler(harness: &Harness) -> Child {
    harness.command(env!("CARGO_BIN_EXE_scheduler")).spawn().expect("scheduler starts")
}

async fn create_schedule(harness: &Harness, cron: &str, next_fire_at: DateTime<Utc>) -> i64 {
    let account_id = harness.account_id;
    let cron = cron.to_owned();
    shared::db::run(&harness.pool, move |conn| {
        Ok(diesel::insert_into(schedules::table)
            .values((
                schedules::account_id.eq(account_id),
                schedules::name.eq("test"),
                schedules::cron.eq(cron),
                schedules::kind.eq("system.ping"),
                schedules::payload.eq(json!({ "steps": 1 })),
                schedules::next_fire_at.eq(next_fire_at),
            ))
            .returning(schedules::id)
            .get_result(conn)?)
    })
    .await
    .expect("schedule")
}

async fn fires(harness: &Harness, schedule_id: i64) -> Vec<(DateTime<Utc>, Option<uuid::Uuid>)> {
    shared::db::run(&harness.pool, move |conn| {
        Ok(schedule_fires::table
            .filter(schedule_fires::schedule_id.eq(schedule_id))
            .order(schedule_fires::fire_at)
            .select((schedule_fires::fire_at, schedule_fires::task_id))
            .load(conn)?)
    })
    .await
    .expect("fires")
}

async fn task_count(harness: &Harness) -> i64 {
    shared::db::run(&harness.pool, |conn| Ok(tasks::table.count().get_result(conn)?)).await.expect("count")
}

#[tokio::test]
async fn two_schedulers_fire_each_slot_once() {
    let harness = Harness::new().await;
    let first = spawn_scheduler(&harness);
    let second = spawn_scheduler(&harness);
    let start = Utc::now() + chrono::Duration::seconds(1);
    let schedule_id = create_schedule(&harness, "* * * * * *", start).await;
    eventually(Duration::from_secs(30), "five fired slots", || async {
        (fires(&harness, schedule_id).await.len() >= 5).then_some(())
    })
    .await;
    eventually(Duration::from_secs(10), "the fired commands published", || async {
        let unsent: i64 = shared::db::run(&harness.pool, |conn| {
            Ok(shared::db::schema::outbox::table.count().get_result(conn)?)
        })
        .await
        .expect("outbox");
        (unsent == 0).then_some(())
    })
    .await;
    assert!(terminate(first).await.success());
    assert!(terminate(second).await.success());

    let fired = fires(&harness, schedule_id).await;
    let slots: Vec<i64> = fired.iter().map(|(at, _)| at.timestamp()).collect();
    // Each slot fires at most once across both processes. A slot may be skipped only when a
    // fire ran late past it (a loaded machine): missed slots collapse into one fire by design.
    assert!(slots.windows(2).all(|pair| pair[1] > pair[0]), "every slot once, in order: {slots:?}");
    let skipped = slots.windows(2).filter(|pair| pair[1] != pair[0] + 1).count();
    assert!(skipped <= 1, "at most one slot lost to a late fire: {slots:?}");
    assert!(fired.iter().all(|(_, task)| task.is_some()), "every fire enqueued its task");
    assert_eq!(task_count(&harness).await, fired.len() as i64, "one task per slot, never two");
}

#[tokio::test]
async fn slots_missed_during_downtime_fire_once() {
    let harness = Harness::new().await;
    // A fixed clock: 10:00:30, with the schedule due since 09:00, so sixty per-minute slots
    // were missed while no scheduler ran.
    let now = Utc.with_ymd_and_hms(2030, 1, 7, 10, 0, 30).single().expect("a time");
    let schedule_id = create_schedule(&harness, "* * * * *", now - chrono::Duration::hours(1)).await;
    let outbound = harness.config.ai.outbound.clone();
    let fire_at = |moment: DateTime<Utc>| {
        let outbound = outbound.clone();
        shared::db::run(&harness.pool, move |conn| scheduler::fire_due(conn, &outbound, moment))
    };
    assert_eq!(fire_at(now).await.expect("tick").len(), 1, "the catch-up fire enqueues one command");
    // Later ticks within the same minute find nothing due.
    for seconds in [1, 10, 29] {
        let later = now + chrono::Duration::seconds(seconds);
        assert!(fire_at(later).await.expect("tick").is_empty(), "nothing due at +{seconds}s");
    }
    let fired = fires(&harness, schedule_id).await;
    assert_eq!(fired.len(), 1, "one catch-up fire, not sixty");
    assert_eq!(fired[0].0, now - chrono::Duration::hours(1), "stamped with the first missed slot");
    assert_eq!(task_count(&harness).await, 1);
    let next: Option<DateTime<Utc>> = shared::db::run(&harness.pool, move |conn| {
        Ok(schedules::table.find(schedule_id).select(schedules::next_fire_at).first(conn)?)
    })
    .await
    .expect("schedule");
    assert_eq!(next, Some(now + chrono::Duration::seconds(30)), "the next slot counts from now");
    // At that slot it fires again, once.
    assert_eq!(fire_at(now + chrono::Duration::seconds(30)).await.expect("tick").len(), 1);
    assert_eq!(fires(&harness, schedule_id).await.len(), 2);
}

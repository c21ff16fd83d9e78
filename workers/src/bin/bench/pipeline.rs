//! End-to-end runs: enqueue N pings (4 progress steps each), wait until all are SUCCESS.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use diesel::{Connection, PgConnection, prelude::*};
use serde_json::{Value, json};
use shared::{
    db::{PgPool, schema::tasks},
    messaging::{Publisher, Relay, Topology},
    tasks::{NewTask, PING, Queue},
};
use tokio_util::sync::CancellationToken;

use crate::{Settings, processes::System};

const CHUNK: usize = 1_000;
const HTTP_CONCURRENCY: usize = 64;

pub async fn prepare_database(settings: &Settings) -> anyhow::Result<()> {
    let url = settings.database_url.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let (server, name) = shared::db::split_database_url(&url)?;
        let mut admin = PgConnection::establish(&format!("{server}/postgres"))?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", shared::db::quote_ident(&name)))
            .execute(&mut admin)?;
        shared::db::create_database_if_missing(&url)?;
        shared::db::run_migrations(&mut PgConnection::establish(&url)?)?;
        Ok(())
    })
    .await?
}

fn pool(settings: &Settings) -> anyhow::Result<PgPool> {
    Ok(shared::db::pool(&settings.database_url, 4)?)
}

/// Enqueues through `shared::tasks::enqueue_many` (1,000 per transaction) with an outbox
/// relay in this process, as a worker or the scheduler would.
pub async fn run_library(settings: &Settings) -> anyhow::Result<f64> {
    let pool = pool(settings)?;
    let account_id: i64 = shared::db::run(&pool, |conn| {
        Ok(diesel::insert_into(shared::db::schema::accounts::table)
            .values(shared::db::schema::accounts::name.eq("bench library"))
            .returning(shared::db::schema::accounts::id)
            .get_result(conn)?)
    })
    .await?;
    let topology = Topology::new(&settings.namespace, None, Duration::from_millis(1_000));
    let publisher = Arc::new(Publisher::new(&settings.amqp_url, "bench-relay", topology));
    let stop = CancellationToken::new();
    let relay = Relay::spawn(pool.clone(), publisher, stop.clone());

    let started = chrono::Utc::now();
    let mut remaining = settings.tasks;
    while remaining > 0 {
        let batch: Vec<NewTask> = (0..CHUNK.min(remaining))
            .map(|_| {
                let mut task = NewTask::new(account_id, PING, json!({ "steps": 4 }));
                task.queue = Some(Queue::Clustering);
                task
            })
            .collect();
        remaining -= batch.len();
        let ids = shared::db::run(&pool, move |conn| {
            conn.transaction(|conn| shared::tasks::enqueue_many(conn, batch))
        })
        .await?;
        relay.notify(ids.into_iter().map(|(_, outbox_id)| outbox_id));
    }
    let rate = wait_until_done(&pool, account_id, settings.tasks, started).await?;
    stop.cancel();
    Ok(rate)
}

/// Enqueues through `POST /api/v1/system/ping/` with 64 concurrent clients.
pub async fn run_http(settings: &Settings, system: &System) -> anyhow::Result<(f64, String, Vec<String>)> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(HTTP_CONCURRENCY).build()?;
    let email = format!("bench-{}@example.com", settings.namespace);
    let credentials =
        json!({ "email": email, "password": "bench-password", "password_confirm": "bench-password" });
    client
        .post(format!("{}/api/v1/auth/register/", system.base_url))
        .json(&credentials)
        .send()
        .await?
        .error_for_status()?;
    let login: Value = client
        .post(format!("{}/api/v1/auth/login/", system.base_url))
        .json(&credentials)
        .send()
        .await?
        .json()
        .await?;
    let token = login["tokens"]["access"].as_str().unwrap_or_default().to_owned();
    let account_id = login["user"]["account"]["id"].as_i64().unwrap_or_default();

    let started = chrono::Utc::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..HTTP_CONCURRENCY {
        let (client, next, token, url, total) = (
            client.clone(),
            next.clone(),
            token.clone(),
            format!("{}/api/v1/system/ping/", system.base_url),
            settings.tasks,
        );
        senders.spawn(async move {
            let mut ids = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let response: Value = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "steps": 4 }))
                    .send()
                    .await?
                    .json()
                    .await?;
                ids.push(response["task_id"].as_str().unwrap_or_default().to_owned());
            }
            Ok::<_, anyhow::Error>(ids)
        });
    }
    let mut ids = Vec::with_capacity(settings.tasks);
    while let Some(sent) = senders.join_next().await {
        ids.extend(sent??);
    }
    let pool = pool(settings)?;
    let rate = wait_until_done(&pool, account_id, settings.tasks, started).await?;
    Ok((rate, token, ids))
}

/// Waits until the account's `expected` tasks all succeeded and returns tasks per second
/// from `started` to the last `finished_at` (so the polling interval does not count).
async fn wait_until_done(
    pool: &PgPool,
    account_id: i64,
    expected: usize,
    started: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (done, failed, last): (i64, i64, Option<chrono::DateTime<chrono::Utc>>) =
            shared::db::run(pool, move |conn| {
                use diesel::dsl::{max, sql};
                Ok(tasks::table
                    .filter(tasks::account_id.eq(account_id))
                    .select((
                        sql::<diesel::sql_types::BigInt>("count(*) FILTER (WHERE state = 'SUCCESS')"),
                        sql::<diesel::sql_types::BigInt>("count(*) FILTER (WHERE state = 'FAILURE')"),
                        max(tasks::finished_at),
                    ))
                    .first(conn)?)
            })
            .await?;
        anyhow::ensure!(failed == 0, "{failed} tasks failed");
        if done as usize >= expected {
            let last = last.unwrap_or(started);
            return Ok(expected as f64 / (last - started).as_seconds_f64().max(1e-3));
        }
        anyhow::ensure!(Instant::now() < deadline, "only {done} of {expected} tasks finished in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

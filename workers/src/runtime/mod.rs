//! The worker runtime every worker binary shares: consume a queue with bounded prefetch, run
//! each task kind's [`TaskHandler`], report progress, retry with backoff, dead-letter, cancel,
//! enforce time limits, heartbeat, and shut down gracefully. Tests run the same path on demand
//! through a [`Drain`].

mod batch;
mod delivery;
mod drain;
mod handler;
pub(crate) mod heartbeat;
mod lifecycle;
mod progress;
mod retry;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use futures_util::StreamExt;
use lapin::{
    Channel, Connection,
    options::{BasicCancelOptions, BasicConsumeOptions, BasicQosOptions},
    types::FieldTable,
};
use shared::{
    Config,
    db::PgPool,
    messaging::{Publisher, TaskEvent, Topology, connect},
    tasks::Queue,
};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use drain::Drain;
pub use handler::{Completion, Effects, KindHandler, TaskContext, TaskError, TaskHandler};

use batch::Batcher;
use heartbeat::Counters;
use lifecycle::Claim;
use progress::ProgressHub;

/// State shared by every task this process runs.
pub(crate) struct Shared {
    worker_id: Uuid,
    queue: Queue,
    pool: PgPool,
    handlers: HashMap<&'static str, Arc<dyn TaskHandler>>,
    publisher: Arc<Publisher>,
    topology: Topology,
    progress: Arc<ProgressHub>,
    running: Mutex<HashSet<Uuid>>,
    counters: Arc<Counters>,
    delay_levels: Vec<Duration>,
    claims: Batcher<Uuid, Result<Claim, String>>,
    successes: Batcher<(Uuid, Completion), Result<Option<TaskEvent>, String>>,
}

/// Most tasks a batched claim or commit covers.
const MAX_BATCH: usize = 500;
/// Batches of one kind in flight at once (each holds a pooled connection while it runs).
const BATCH_CONCURRENCY: usize = 3;

impl Shared {
    /// Registers `task_id` as running here; `None` if it already is.
    fn start_running(&self, task_id: Uuid) -> Option<RunningGuard<'_>> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.insert(task_id).then_some(RunningGuard { shared: self, task_id })
    }
}

struct RunningGuard<'a> {
    shared: &'a Shared,
    task_id: Uuid,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        self.shared.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.task_id);
    }
}

/// A worker process for one queue.
pub struct Worker {
    queue: Queue,
    config: Config,
    pool: PgPool,
    handlers: HashMap<&'static str, Arc<dyn TaskHandler>>,
    worker_id: Uuid,
}

impl Worker {
    pub fn new(queue: Queue, config: Config, pool: PgPool) -> Self {
        Self { queue, config, pool, handlers: HashMap::new(), worker_id: Uuid::new_v4() }
    }

    pub fn with_handler(mut self, handler: impl TaskHandler) -> Self {
        self.handlers.insert(handler.kind(), Arc::new(handler));
        self
    }

    /// Consumes until `shutdown` is cancelled, then finishes in-flight tasks within the
    /// configured grace period and leaves the rest for redelivery.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let config = self.config.clone();
        let shared = self.into_shared("worker");
        let (pool, worker_id, queue) = (shared.pool.clone(), shared.worker_id, shared.queue);
        let background = CancellationToken::new();
        let mut helpers = JoinSet::new();
        helpers.spawn(heartbeat::run(
            pool.clone(),
            worker_id,
            queue.as_str().to_owned(),
            shared.counters.clone(),
            config.heartbeat_interval,
            config.heartbeat_file.clone(),
            background.clone(),
        ));
        helpers.spawn(shared.progress.clone().run(
            pool.clone(),
            shared.publisher.clone(),
            background.clone(),
        ));
        tracing::info!(%queue, %worker_id, "worker starting");

        consume(&shared, &config, &shutdown).await;

        background.cancel();
        while helpers.join_next().await.is_some() {}
        heartbeat::remove(&pool, worker_id).await;
        shared.publisher.close().await;
        tracing::info!(%queue, "worker stopped");
        Ok(())
    }

    /// What every task this worker runs shares; its publisher is named after `role`.
    fn into_shared(self, role: &str) -> Arc<Shared> {
        let topology = Topology::from_config(&self.config);
        let name = format!("{role}-{}-{}", self.queue, self.worker_id);
        let publisher = Arc::new(Publisher::new(&self.config.amqp_url, &name, topology.clone()));
        Arc::new(Shared {
            worker_id: self.worker_id,
            queue: self.queue,
            pool: self.pool.clone(),
            handlers: self.handlers,
            publisher: publisher.clone(),
            delay_levels: topology.delay_levels(),
            topology,
            progress: Arc::new(ProgressHub::new(self.worker_id)),
            running: Mutex::default(),
            counters: Arc::default(),
            claims: claim_batcher(self.pool.clone(), self.worker_id, self.config.heartbeat_interval * 3),
            successes: success_batcher(self.pool, self.worker_id, publisher),
        })
    }
}

fn claim_batcher(
    pool: PgPool,
    worker_id: Uuid,
    stale_after: Duration,
) -> Batcher<Uuid, Result<Claim, String>> {
    Batcher::spawn(MAX_BATCH, BATCH_CONCURRENCY, move |ids: Vec<Uuid>| {
        let pool = pool.clone();
        async move {
            let count = ids.len();
            let started = std::time::Instant::now();
            let claimed =
                shared::db::run(&pool, move |conn| lifecycle::claim_many(conn, &ids, worker_id, stale_after))
                    .await;
            tracing::debug!(count, elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "claim batch");
            match claimed {
                Ok(claims) => claims.into_iter().map(Ok).collect(),
                Err(error) => (0..count).map(|_| Err(error.to_string())).collect(),
            }
        }
    })
}

/// Commits completions in batches and announces each batch with one events message.
fn success_batcher(
    pool: PgPool,
    worker_id: Uuid,
    publisher: Arc<Publisher>,
) -> Batcher<(Uuid, Completion), Result<Option<TaskEvent>, String>> {
    Batcher::spawn(MAX_BATCH, BATCH_CONCURRENCY, move |completions: Vec<(Uuid, Completion)>| {
        let (pool, publisher) = (pool.clone(), publisher.clone());
        async move {
            let count = completions.len();
            let started = std::time::Instant::now();
            let written =
                shared::db::run(&pool, move |conn| Ok(lifecycle::succeed_many(conn, worker_id, completions)))
                    .await;
            tracing::debug!(count, elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "success batch");
            match written {
                Ok(results) => {
                    let events: Vec<TaskEvent> =
                        results.iter().filter_map(|result| result.as_ref().ok()?.clone()).collect();
                    publisher.publish_events(&events).await;
                    results.into_iter().map(|result| result.map_err(|error| error.to_string())).collect()
                }
                Err(error) => (0..count).map(|_| Err(error.to_string())).collect(),
            }
        }
    })
}

/// Reconnects until shutdown; each connection consumes until it is lost.
async fn consume(shared: &Arc<Shared>, config: &Config, shutdown: &CancellationToken) {
    let prefetch = config.worker_prefetch.unwrap_or_else(|| shared.queue.default_prefetch());
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        match open_consumer(shared, config, prefetch).await {
            Ok((connection, channel, consumer)) => {
                failures = 0;
                let stopped = pump(shared, &connection, &channel, consumer, config, shutdown).await;
                if stopped {
                    return;
                }
                tracing::warn!("lost the broker connection; reconnecting");
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::warn!(%error, "cannot consume; retrying");
            }
        }
        let pause = Duration::from_millis(200 * 2u64.pow(failures.min(5)));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

async fn open_consumer(
    shared: &Shared,
    config: &Config,
    prefetch: u16,
) -> shared::Result<(Connection, Channel, lapin::Consumer)> {
    let name = format!("consumer-{}-{}", shared.queue, shared.worker_id);
    let connection = connect(&config.amqp_url, &name).await?;
    let channel = connection.create_channel().await?;
    shared.topology.declare(&channel).await?;
    channel.basic_qos(prefetch, BasicQosOptions::default()).await?;
    let consumer = channel
        .basic_consume(
            shared.topology.work_queue(shared.queue).into(),
            name.into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    tracing::info!(prefetch, "consuming");
    Ok((connection, channel, consumer))
}

/// Dispatches deliveries until shutdown (returns true) or connection loss (false).
async fn pump(
    shared: &Arc<Shared>,
    connection: &Connection,
    channel: &Channel,
    mut consumer: lapin::Consumer,
    config: &Config,
    shutdown: &CancellationToken,
) -> bool {
    let mut in_flight = JoinSet::new();
    let stopped = loop {
        tokio::select! {
            () = shutdown.cancelled() => break true,
            next = consumer.next() => match next {
                Some(Ok(delivery)) => {
                    in_flight.spawn(delivery::process(shared.clone(), delivery));
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "consumer error");
                    break false;
                }
                None => break false,
            },
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
        }
    };
    if stopped {
        let tag = consumer.tag();
        let _ = channel.basic_cancel(tag, BasicCancelOptions::default()).await;
        let grace = config.worker_shutdown_grace;
        tracing::info!(
            in_flight = in_flight.len(),
            grace_secs = grace.as_secs(),
            "stopping: finishing in-flight tasks"
        );
        let drained =
            tokio::time::timeout(grace, async { while in_flight.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(left = in_flight.len(), "grace period over; leaving the rest for redelivery");
            in_flight.abort_all();
            let (pool, worker_id) = (shared.pool.clone(), shared.worker_id);
            let _ = shared::db::run(&pool, move |conn| lifecycle::release_all(conn, worker_id)).await;
        }
        // Closing returns every unacknowledged message to the queue.
        let _ = connection.close(200, "worker shutting down".into()).await;
    } else {
        // The channel is gone: acks are impossible and the broker redelivers everything.
        in_flight.abort_all();
    }
    stopped
}

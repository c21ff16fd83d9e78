//! A worker that runs only when asked, for tests and tools: [`Worker::into_drain`] gives a
//! [`Drain`] whose [`Drain::run_ready`] takes the queue's ready messages one at a time
//! (`basic.get`) and runs each through the same path a consuming worker does — claim,
//! handler, commit, acknowledgement, retry through the delay queues, dead-letter — returning
//! once the queue is empty. Nothing runs between calls, so a test decides when work happens
//! and sees every outcome of it, instead of polling a background worker until a deadline.

use std::sync::Arc;

use lapin::{Channel, Connection, options::BasicGetOptions};
use shared::{
    messaging::{CommandMessage, connect},
    tasks::Queue,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Shared, Worker, delivery};

/// A worker for one queue that processes messages only in [`Drain::run_ready`].
pub struct Drain {
    shared: Arc<Shared>,
    connection: Connection,
    channel: Channel,
    background: CancellationToken,
    progress: Option<JoinHandle<()>>,
}

impl Worker {
    /// Connects to the broker (declaring the topology) and returns this worker as a
    /// [`Drain`]. It writes no heartbeat: it is not a live worker between calls.
    pub async fn into_drain(self) -> anyhow::Result<Drain> {
        let url = self.config.amqp_url.clone();
        let shared = self.into_shared("drain");
        let name = format!("drain-{}-{}", shared.queue, shared.worker_id);
        let connection = connect(&url, &name).await?;
        let channel = connection.create_channel().await?;
        shared.topology.declare(&channel).await?;
        let background = CancellationToken::new();
        let progress = Some(tokio::spawn(shared.progress.clone().run(
            shared.pool.clone(),
            shared.publisher.clone(),
            background.clone(),
        )));
        Ok(Drain { shared, connection, channel, background, progress })
    }
}

impl Drain {
    pub fn queue(&self) -> Queue {
        self.shared.queue
    }

    /// Processes every message ready on the queue, one after another, until `basic.get`
    /// finds none. Returns the task id of each message taken, in order (a task retried within
    /// the call appears once per attempt; a malformed message adds nothing). Messages waiting
    /// in a delay queue are not ready: they come back to a later call.
    pub async fn run_ready(&self) -> anyhow::Result<Vec<Uuid>> {
        let queue = self.shared.topology.work_queue(self.shared.queue);
        let mut taken = Vec::new();
        while let Some(message) =
            self.channel.basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false }).await?
        {
            let delivery = message.delivery;
            if let Ok(command) = serde_json::from_slice::<CommandMessage>(&delivery.data) {
                taken.push(command.task_id());
            }
            delivery::process(self.shared.clone(), delivery).await;
        }
        Ok(taken)
    }

    /// Stops the progress writer and closes the broker connection.
    pub async fn close(mut self) {
        self.background.cancel();
        if let Some(progress) = self.progress.take() {
            let _ = progress.await;
        }
        let _ = self.connection.close(200, "drain closed".into()).await;
        self.shared.publisher.close().await;
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        self.background.cancel();
    }
}

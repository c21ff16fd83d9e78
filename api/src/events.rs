//! Live task events for SSE streams. One consumer per API process reads the events exchange
//! through an exclusive, auto-deleted queue and fans task ids out to in-process subscribers.
//! Events only wake streams up; streams always read the task row, so a lost event costs at
//! most one poll interval.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::{
    ExchangeKind,
    options::{BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::FieldTable,
};
use shared::{
    Config,
    messaging::{TaskEvent, Topology, connect},
};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct EventHub {
    sender: broadcast::Sender<Uuid>,
}

impl EventHub {
    /// Starts consuming events until `shutdown`; reconnects when the broker goes away.
    pub fn spawn(config: &Config, shutdown: CancellationToken) -> Self {
        let (sender, _) = broadcast::channel(4096);
        let hub = EventHub { sender };
        let (url, topology) = (config.amqp_url.clone(), Topology::from_config(config));
        let feeder = hub.clone();
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(200);
            while !shutdown.is_cancelled() {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    outcome = feeder.consume(&url, &topology) => {
                        if let Err(error) = outcome {
                            tracing::debug!(%error, "event stream interrupted; reconnecting");
                        }
                    }
                }
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        });
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.sender.subscribe()
    }

    async fn consume(&self, url: &str, topology: &Topology) -> shared::Result<()> {
        let connection = connect(url, "api-events").await?;
        let channel = connection.create_channel().await?;
        let exchange = topology.events_exchange();
        channel
            .exchange_declare(
                exchange.clone().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions { durable: true, ..Default::default() },
                FieldTable::default(),
            )
            .await?;
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions { exclusive: true, auto_delete: true, ..Default::default() },
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                queue.name().clone(),
                exchange.into(),
                "task.#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let mut consumer = channel
            .basic_consume(
                queue.name().clone(),
                "api-events".into(),
                BasicConsumeOptions { no_ack: true, ..Default::default() },
                FieldTable::default(),
            )
            .await?;
        while let Some(delivery) = consumer.next().await {
            let delivery = delivery?;
            if let Ok(events) = serde_json::from_slice::<Vec<TaskEvent>>(&delivery.data) {
                for event in events {
                    // No subscriber is fine: nobody is streaming that task.
                    let _ = self.sender.send(event.task_id);
                }
            }
        }
        Ok(())
    }
}

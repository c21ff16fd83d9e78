//! The raw broker limit: the same queue type and message settings as the work queues,
//! persistent messages published with confirms, consumed and acknowledged one by one.

use std::time::Instant;

use futures_util::StreamExt;
use lapin::{
    BasicProperties,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
        QueueDeclareOptions, QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable, LongString},
};
use shared::messaging::{Topology, connect};

use crate::Settings;

/// Messages confirmed before the next window is published, like the outbox relay's batches.
const WINDOW: usize = 2_000;

pub async fn measure(settings: &Settings) -> anyhow::Result<f64> {
    let queue = format!("{}.raw", settings.namespace);
    let publisher = connect(&settings.amqp_url, "bench-raw-publisher").await?;
    let channel = publisher.create_channel().await?;
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), AMQPValue::LongString(LongString::from("quorum")));
    channel
        .queue_declare(
            queue.clone().into(),
            QueueDeclareOptions { durable: true, ..Default::default() },
            args,
        )
        .await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;

    let consumer_connection = connect(&settings.amqp_url, "bench-raw-consumer").await?;
    let consumer_channel = consumer_connection.create_channel().await?;
    consumer_channel.basic_qos(settings.prefetch, BasicQosOptions::default()).await?;
    let mut consumer = consumer_channel
        .basic_consume(
            queue.clone().into(),
            "raw".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let total = settings.tasks;
    let consuming = tokio::spawn(async move {
        let mut received = 0;
        while received < total {
            match consumer.next().await {
                Some(Ok(delivery)) => {
                    delivery.ack(BasicAckOptions::default()).await?;
                    received += 1;
                }
                _ => anyhow::bail!("consumer ended early"),
            }
        }
        Ok(())
    });

    let body =
        br#"{"v":"1","task_id":"00000000-0000-0000-0000-000000000000","kind":"system.ping","account_id":1}"#;
    let started = Instant::now();
    let mut sent = 0;
    while sent < total {
        let mut confirms = Vec::with_capacity(WINDOW);
        for _ in 0..WINDOW.min(total - sent) {
            let properties = BasicProperties::default().with_delivery_mode(2);
            confirms.push(
                channel
                    .basic_publish(
                        "".into(),
                        queue.clone().into(),
                        BasicPublishOptions::default(),
                        body,
                        properties,
                    )
                    .await?,
            );
            sent += 1;
        }
        for confirm in confirms {
            anyhow::ensure!(confirm.await?.is_ack(), "message nacked");
        }
    }
    consuming.await??;
    let rate = total as f64 / started.elapsed().as_secs_f64();
    channel.queue_delete(queue.into(), QueueDeleteOptions::default()).await?;
    Ok(rate)
}

pub async fn delete_namespace(settings: &Settings) {
    let topology = Topology::new(&settings.namespace, None, std::time::Duration::from_millis(1_000));
    if let Ok(connection) = connect(&settings.amqp_url, "bench-cleanup").await
        && let Ok(channel) = connection.create_channel().await
    {
        let _ = topology.delete(&channel).await;
    }
}

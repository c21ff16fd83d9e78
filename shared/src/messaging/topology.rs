//! Exchange and queue names, and their idempotent declaration.
//!
//! ```text
//! <ns>.commands  direct  ──rk=<queue>──► <ns>.<queue>        quorum, DLX <ns>.dead, delivery limit
//! <ns>.<queue>.delay.<ms>  classic, TTL <ms>, DLX <ns>.commands rk=<queue>   (one per backoff level)
//! <ns>.dead      direct  ──rk=<queue>──► <ns>.<queue>.dead   (dead letters, kept for inspection)
//! <ns>.events    topic   task.<account>.<task>                (progress, not persisted)
//! ```

use std::time::Duration;

use lapin::{
    Channel, ExchangeKind,
    options::{
        ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable, LongString},
};

use crate::{config::Config, error::Result, tasks::Queue};

/// Backoff levels: the first retry waits `base`, each later level four times longer.
const DELAY_LEVELS: u32 = 6;
/// Quorum queues dead-letter a message redelivered this often (a worker crashing on it every
/// time). The attempt counter in the task row is the first fence; this is the second.
const DELIVERY_LIMIT: i64 = 20;

#[derive(Clone, Debug)]
pub struct Topology {
    namespace: String,
    queue_expires: Option<Duration>,
    retry_base: Duration,
}

impl Topology {
    pub fn new(namespace: &str, queue_expires: Option<Duration>, retry_base: Duration) -> Self {
        Self { namespace: namespace.to_owned(), queue_expires, retry_base }
    }

    pub fn from_config(config: &Config) -> Self {
        Self::new(&config.amqp_namespace, config.amqp_queue_expires, config.retry_base_delay)
    }

    pub fn commands_exchange(&self) -> String {
        format!("{}.commands", self.namespace)
    }

    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.namespace)
    }

    pub fn dead_exchange(&self) -> String {
        format!("{}.dead", self.namespace)
    }

    pub fn work_queue(&self, queue: Queue) -> String {
        format!("{}.{}", self.namespace, queue)
    }

    pub fn dead_queue(&self, queue: Queue) -> String {
        format!("{}.{}.dead", self.namespace, queue)
    }

    /// The delay of each backoff level, shortest first.
    pub fn delay_levels(&self) -> Vec<Duration> {
        (0..DELAY_LEVELS).map(|level| self.retry_base * 4u32.pow(level)).collect()
    }

    pub fn delay_queue(&self, queue: Queue, delay: Duration) -> String {
        format!("{}.{}.delay.{}", self.namespace, queue, delay.as_millis())
    }

    /// Declares exchanges, every work queue with its delay and dead-letter queues. Safe to
    /// run on every start and from every process.
    pub async fn declare(&self, channel: &Channel) -> Result<()> {
        let durable = ExchangeDeclareOptions { durable: true, ..Default::default() };
        for (name, kind) in [
            (self.commands_exchange(), ExchangeKind::Direct),
            (self.dead_exchange(), ExchangeKind::Direct),
            (self.events_exchange(), ExchangeKind::Topic),
        ] {
            channel.exchange_declare(name.into(), kind, durable, FieldTable::default()).await?;
        }
        for queue in Queue::ALL {
            self.declare_queue(channel, queue).await?;
        }
        Ok(())
    }

    async fn declare_queue(&self, channel: &Channel, queue: Queue) -> Result<()> {
        let durable = QueueDeclareOptions { durable: true, ..Default::default() };
        let mut work_args = self.base_args();
        work_args.insert("x-queue-type".into(), string("quorum"));
        work_args.insert("x-dead-letter-exchange".into(), string(&self.dead_exchange()));
        work_args.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(DELIVERY_LIMIT));
        let work = self.work_queue(queue);
        channel.queue_declare(work.clone().into(), durable, work_args).await?;
        channel
            .queue_bind(
                work.into(),
                self.commands_exchange().into(),
                queue.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;

        let dead = self.dead_queue(queue);
        channel.queue_declare(dead.clone().into(), durable, self.base_args()).await?;
        channel
            .queue_bind(
                dead.into(),
                self.dead_exchange().into(),
                queue.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;

        for delay in self.delay_levels() {
            let mut args = self.base_args();
            args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(millis(delay)));
            args.insert("x-dead-letter-exchange".into(), string(&self.commands_exchange()));
            args.insert("x-dead-letter-routing-key".into(), string(queue.as_str()));
            channel.queue_declare(self.delay_queue(queue, delay).into(), durable, args).await?;
        }
        Ok(())
    }

    /// Deletes every queue and exchange of the namespace (test clean-up).
    pub async fn delete(&self, channel: &Channel) -> Result<()> {
        for queue in Queue::ALL {
            let mut names = vec![self.work_queue(queue), self.dead_queue(queue)];
            names.extend(self.delay_levels().into_iter().map(|delay| self.delay_queue(queue, delay)));
            for name in names {
                channel.queue_delete(name.into(), QueueDeleteOptions::default()).await?;
            }
        }
        for exchange in [self.commands_exchange(), self.dead_exchange(), self.events_exchange()] {
            channel.exchange_delete(exchange.into(), ExchangeDeleteOptions::default()).await?;
        }
        Ok(())
    }

    fn base_args(&self) -> FieldTable {
        let mut args = FieldTable::default();
        if let Some(expires) = self.queue_expires {
            args.insert("x-expires".into(), AMQPValue::LongLongInt(millis(expires)));
        }
        args
    }
}

fn string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_namespaced_and_levels_grow() {
        let topology = Topology::new("t1", None, Duration::from_millis(100));
        assert_eq!(topology.work_queue(Queue::Seo), "t1.seo");
        assert_eq!(topology.dead_queue(Queue::Seo), "t1.seo.dead");
        let levels = topology.delay_levels();
        assert_eq!(levels[0], Duration::from_millis(100));
        assert_eq!(levels[1], Duration::from_millis(400));
        assert_eq!(topology.delay_queue(Queue::Odoo, levels[1]), "t1.odoo.delay.400");
    }
}

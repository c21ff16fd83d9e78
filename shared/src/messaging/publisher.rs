//! A publisher with publisher confirms that reconnects lazily. Callers never see a half-open
//! connection: any failure drops it, and the next call connects again (after a short,
//! growing pause so a broker outage is not hammered).

use std::time::{Duration, Instant};

use lapin::{
    BasicProperties, Channel, Connection, ConnectionProperties,
    options::{BasicPublishOptions, ConfirmSelectOptions},
    types::{AMQPValue, FieldTable, LongString},
};
use tokio::sync::Mutex;

use super::{TaskEvent, Topology};
use crate::error::{Error, Result};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RECONNECT_PAUSE: Duration = Duration::from_secs(5);

/// Opens a connection named `name` (shown in the broker's connection list), bounded by a
/// timeout.
pub async fn connect(url: &str, name: &str) -> Result<Connection> {
    let properties = ConnectionProperties::default().with_connection_name(name.to_owned().into());
    tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(url, properties))
        .await
        .map_err(|_| Error::BrokerTimeout)?
        .map_err(Error::from)
}

/// A message to publish persistently and have confirmed.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub exchange: String,
    pub routing_key: String,
    pub body: Vec<u8>,
    pub message_id: Option<String>,
    /// Per-message TTL (used for jittered retry delays).
    pub expiration: Option<Duration>,
    pub headers: Vec<(String, String)>,
}

impl Outgoing {
    fn properties(&self) -> BasicProperties {
        let mut properties =
            BasicProperties::default().with_delivery_mode(2).with_content_type("application/json".into());
        if let Some(id) = &self.message_id {
            properties = properties.with_message_id(id.clone().into());
        }
        if let Some(ttl) = self.expiration {
            properties = properties.with_expiration(ttl.as_millis().to_string().into());
        }
        if !self.headers.is_empty() {
            let mut table = FieldTable::default();
            for (key, value) in &self.headers {
                table.insert(key.clone().into(), AMQPValue::LongString(LongString::from(value.as_str())));
            }
            properties = properties.with_headers(table);
        }
        properties
    }
}

/// What a queue holds now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct QueueStats {
    pub messages: u32,
    pub consumers: u32,
}

struct Live {
    connection: Connection,
    confirms: Channel,
    events: Channel,
}

#[derive(Default)]
struct State {
    live: Option<Live>,
    failures: u32,
    last_failure: Option<Instant>,
}

pub struct Publisher {
    url: String,
    name: String,
    topology: Topology,
    state: Mutex<State>,
}

impl Publisher {
    pub fn new(url: &str, name: &str, topology: Topology) -> Self {
        Self { url: url.to_owned(), name: name.to_owned(), topology, state: Mutex::new(State::default()) }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Connects now (and declares the topology) unless already connected.
    pub async fn ensure_connected(&self) -> Result<()> {
        let mut state = self.state.lock().await;
        self.live(&mut state).await.map(|_| ())
    }

    /// True when a connection is open; connects first when none is.
    pub async fn check(&self) -> bool {
        self.ensure_connected().await.is_ok()
    }

    /// A channel of its own on the live connection, for one-off work (draining a queue,
    /// reading its depth). It closes when dropped.
    pub async fn channel(&self) -> Result<Channel> {
        let mut state = self.state.lock().await;
        let live = self.live(&mut state).await?;
        Ok(live.connection.create_channel().await?)
    }

    /// Each queue's ready messages and consumers, by passive declares (nothing is created) on
    /// one channel; `None` for a queue that does not exist (the broker closes the channel for
    /// it, so the next queue gets a new one).
    pub async fn queue_stats(&self, names: &[String]) -> Result<Vec<Option<QueueStats>>> {
        let options = lapin::options::QueueDeclareOptions { passive: true, ..Default::default() };
        let mut channel = self.channel().await?;
        let mut stats = Vec::with_capacity(names.len());
        for name in names {
            match channel.queue_declare(name.as_str().into(), options, FieldTable::default()).await {
                Ok(queue) => stats.push(Some(QueueStats {
                    messages: queue.message_count(),
                    consumers: queue.consumer_count(),
                })),
                Err(_) => {
                    stats.push(None);
                    channel = self.channel().await?;
                }
            }
        }
        let _ = channel.close(200, "done".into()).await;
        Ok(stats)
    }

    /// Publishes every message persistently with `mandatory` set and waits for all broker
    /// confirms. Fails if any message is nacked or unroutable; the caller keeps its copy and
    /// tries again later.
    pub async fn publish_confirmed(&self, messages: &[Outgoing]) -> Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let mut state = self.state.lock().await;
        let channel = self.live(&mut state).await?.confirms.clone();
        let outcome = tokio::time::timeout(CONFIRM_TIMEOUT, publish_all(&channel, messages))
            .await
            .unwrap_or(Err(Error::BrokerTimeout));
        if outcome.is_err() {
            self.drop_connection(&mut state).await;
        }
        outcome
    }

    /// Publishes one task event without waiting for a confirm: events are hints for live
    /// streams, and the task row stays authoritative.
    pub async fn publish_event(&self, event: &TaskEvent) {
        self.publish_events(std::slice::from_ref(event)).await;
    }

    /// Publishes many task events as one message (a JSON array), so a batch of completions
    /// costs the broker one message, not one per task.
    pub async fn publish_events(&self, events: &[TaskEvent]) {
        let routing_key = match events {
            [] => return,
            [single] => single.routing_key(),
            _ => TaskEvent::BATCH_ROUTING_KEY.to_owned(),
        };
        let channel = {
            let mut state = self.state.lock().await;
            match self.live(&mut state).await {
                Ok(live) => live.events.clone(),
                Err(error) => {
                    tracing::debug!(%error, "events not published");
                    return;
                }
            }
        };
        let Ok(body) = serde_json::to_vec(events) else { return };
        let properties = BasicProperties::default().with_content_type("application/json".into());
        if let Err(error) = channel
            .basic_publish(
                self.topology.events_exchange().into(),
                routing_key.into(),
                BasicPublishOptions::default(),
                &body,
                properties,
            )
            .await
        {
            tracing::debug!(%error, "events not published");
        }
    }

    pub async fn close(&self) {
        let mut state = self.state.lock().await;
        if let Some(live) = state.live.take() {
            let _ = live.connection.close(200, "shutting down".into()).await;
        }
    }

    async fn live<'a>(&self, state: &'a mut State) -> Result<&'a Live> {
        let healthy = state.live.as_ref().is_some_and(|live| {
            live.connection.status().connected()
                && live.confirms.status().connected()
                && live.events.status().connected()
        });
        if !healthy {
            state.live = None;
            if let Some(last) = state.last_failure {
                let pause =
                    Duration::from_millis(100 * 2u64.pow(state.failures.min(6))).min(MAX_RECONNECT_PAUSE);
                if last.elapsed() < pause {
                    return Err(Error::BrokerRefused("broker unavailable (reconnecting)".into()));
                }
            }
            match self.open().await {
                Ok(live) => {
                    state.failures = 0;
                    state.last_failure = None;
                    state.live = Some(live);
                }
                Err(error) => {
                    state.failures = state.failures.saturating_add(1);
                    state.last_failure = Some(Instant::now());
                    return Err(error);
                }
            }
        }
        state.live.as_ref().ok_or_else(|| Error::BrokerRefused("no connection".into()))
    }

    async fn open(&self) -> Result<Live> {
        let connection = connect(&self.url, &self.name).await?;
        let confirms = connection.create_channel().await?;
        confirms.confirm_select(ConfirmSelectOptions::default()).await?;
        self.topology.declare(&confirms).await?;
        let events = connection.create_channel().await?;
        tracing::info!(name = %self.name, "connected to the broker");
        Ok(Live { connection, confirms, events })
    }

    async fn drop_connection(&self, state: &mut State) {
        if let Some(live) = state.live.take() {
            let _ = live.connection.close(320, "publisher reset".into()).await;
        }
        state.failures = state.failures.saturating_add(1);
        state.last_failure = Some(Instant::now());
    }
}

async fn publish_all(channel: &Channel, messages: &[Outgoing]) -> Result<()> {
    let mut confirms = Vec::with_capacity(messages.len());
    for message in messages {
        let confirm = channel
            .basic_publish(
                message.exchange.clone().into(),
                message.routing_key.clone().into(),
                BasicPublishOptions { mandatory: true, ..Default::default() },
                &message.body,
                message.properties(),
            )
            .await?;
        confirms.push(confirm);
    }
    for confirm in confirms {
        let confirmation = confirm.await?;
        if !confirmation.is_ack() {
            return Err(Error::BrokerRefused("message nacked".into()));
        }
        if let Some(returned) = confirmation.take_message() {
            return Err(Error::BrokerRefused(format!(
                "unroutable: {} (routing key `{}`)",
                returned.reply_text, returned.delivery.routing_key
            )));
        }
    }
    Ok(())
}

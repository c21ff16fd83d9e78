//! `worker-content`: consumes the `content` queue.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::main_for(shared::tasks::Queue::Content).await
}

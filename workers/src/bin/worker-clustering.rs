//! `worker-clustering`: consumes the `clustering` queue.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::main_for(shared::tasks::Queue::Clustering).await
}

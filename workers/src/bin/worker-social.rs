//! `worker-social`: consumes the `social` queue.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::main_for(shared::tasks::Queue::Social).await
}

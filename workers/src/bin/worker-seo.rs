//! `worker-seo`: consumes the `seo` queue.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::main_for(shared::tasks::Queue::Seo).await
}

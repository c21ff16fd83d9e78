//! `worker-odoo`: consumes the `odoo` queue.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::main_for(shared::tasks::Queue::Odoo).await
}

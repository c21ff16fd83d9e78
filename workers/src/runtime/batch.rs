//! Group commit for the worker's hot path. Tasks finish one by one, but their database
//! writes (claims, completions) are collected and executed as one statement and one commit
//! for everything that arrived while the running batches executed: no added latency when
//! idle, large batches under load. Up to `concurrency` batches run at once, each on its own
//! pooled connection.

use std::{future::Future, sync::Arc};

use tokio::sync::{Semaphore, mpsc, oneshot};

type Job<I, O> = (I, oneshot::Sender<O>);

pub struct Batcher<I, O> {
    sender: mpsc::UnboundedSender<Job<I, O>>,
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// Starts the batching loop; `run` gets the batch and must answer every item, in order.
    /// The loop ends when every `Batcher` handle is dropped.
    pub fn spawn<F, Fut>(max_batch: usize, concurrency: usize, run: F) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<O>> + Send + 'static,
    {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Job<I, O>>();
        let slots = Arc::new(Semaphore::new(concurrency.max(1)));
        tokio::spawn(async move {
            loop {
                // Collect only once a slot is free, so waiting items pile up into one batch.
                let Ok(slot) = slots.clone().acquire_owned().await else { break };
                let Some(first) = receiver.recv().await else { break };
                let mut items = Vec::with_capacity(max_batch.min(64));
                let mut replies = Vec::with_capacity(max_batch.min(64));
                let (item, reply) = first;
                items.push(item);
                replies.push(reply);
                while items.len() < max_batch {
                    let Ok((item, reply)) = receiver.try_recv() else { break };
                    items.push(item);
                    replies.push(reply);
                }
                let batch = run(items);
                tokio::spawn(async move {
                    let outputs = batch.await;
                    for (reply, output) in replies.into_iter().zip(outputs) {
                        // The submitter may have been aborted (shutdown); nothing to do then.
                        let _ = reply.send(output);
                    }
                    drop(slot);
                });
            }
        });
        Self { sender }
    }

    /// Submits one item and waits for its answer; `None` if the loop is gone.
    pub async fn submit(&self, item: I) -> Option<O> {
        let (reply, answer) = oneshot::channel();
        self.sender.send((item, reply)).ok()?;
        answer.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test]
    async fn answers_every_item_and_groups_concurrent_ones() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let recorded = sizes.clone();
        let batcher = Arc::new(Batcher::spawn(100, 2, move |items: Vec<u32>| {
            recorded.lock().expect("lock").push(items.len());
            async move {
                tokio::task::yield_now().await;
                items.into_iter().map(|n| n * 2).collect()
            }
        }));
        let mut handles = Vec::new();
        for n in 0..50 {
            let batcher = batcher.clone();
            handles.push(tokio::spawn(async move { batcher.submit(n).await }));
        }
        for (n, handle) in handles.into_iter().enumerate() {
            assert_eq!(handle.await.expect("join"), Some(n as u32 * 2));
        }
        let sizes = sizes.lock().expect("lock");
        assert_eq!(sizes.iter().sum::<usize>(), 50);
        assert!(sizes.len() < 50, "some items shared a batch: {sizes:?}");
    }
}

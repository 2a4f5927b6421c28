//! Group commit: concurrent writes of one kind share a statement and a transaction.
//!
//! A [`Batcher`] queues the items callers submit. One task takes everything queued (up
//! to a maximum), hands it to the write function as one batch, and answers each caller
//! with its own item's outcome. While a batch is being written, the next one gathers,
//! so under load the batch size grows with the queue and the number of statements and
//! commits per item falls; with a single caller a batch is that caller's one item, and
//! nothing waits for company.
//!
//! This matters most on SQLite, where every statement is a round trip to the
//! connection's worker thread and every commit writes the pages it touched to the WAL:
//! one multi-row insert and one commit for thirty guests costs little more than for one.
//!
//! The write function decides what a failure means for each item, typically by writing
//! the items one by one after the batch statement fails, so one bad item (a username
//! already taken) never fails the others.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

/// Why a submitted item has no answer.
#[derive(Debug, thiserror::Error)]
#[error("the {0} batch writer stopped before answering")]
pub struct BatcherGone(&'static str);

/// A store whose batch writer is gone has failed like a crashed connection worker.
impl From<BatcherGone> for sqlx::Error {
    fn from(_: BatcherGone) -> Self {
        sqlx::Error::WorkerCrashed
    }
}

type Write<I, O> = dyn Fn(Vec<I>) -> Pin<Box<dyn Future<Output = Vec<O>> + Send>> + Send + Sync;
type Queue<I, O> = mpsc::Sender<(I, oneshot::Sender<O>)>;

/// Queues items for a task that writes them in batches. Cheap to clone; the clones share
/// one queue and one task.
pub struct Batcher<I, O> {
    shared: Arc<Shared<I, O>>,
}

struct Shared<I, O> {
    name: &'static str,
    max: usize,
    write: Arc<Write<I, O>>,
    /// Started by the first submit, on the runtime that submits.
    queue: OnceLock<Queue<I, O>>,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<I, O> std::fmt::Debug for Batcher<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("name", &self.shared.name)
            .field("max", &self.shared.max)
            .finish_non_exhaustive()
    }
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// A batcher whose writing task starts with the first [`Batcher::submit`], on that
    /// caller's runtime, so stores can be built outside one. `write` receives at most
    /// `max` items in arrival order and returns one outcome per item, in the same order.
    /// Each batch runs in a task of its own, so a panic fails that batch's callers and not
    /// the batcher. The task ends when every clone of the batcher is dropped.
    pub fn new<F, Fut>(name: &'static str, max: usize, write: F) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<O>> + Send + 'static,
    {
        let write: Arc<Write<I, O>> = Arc::new(move |items| Box::pin(write(items)));
        Self {
            shared: Arc::new(Shared {
                name,
                max: max.max(1),
                write,
                queue: OnceLock::new(),
            }),
        }
    }

    /// Queues `item` and waits for its outcome.
    pub async fn submit(&self, item: I) -> Result<O, BatcherGone> {
        let name = self.shared.name;
        let queue = self.shared.queue.get_or_init(|| self.start());
        let (reply, answer) = oneshot::channel();
        queue
            .send((item, reply))
            .await
            .map_err(|_| BatcherGone(name))?;
        answer.await.map_err(|_| BatcherGone(name))
    }

    /// Spawns the writing task. It holds the write function, not the batcher, so
    /// dropping the last batcher closes the queue and ends it.
    fn start(&self) -> Queue<I, O> {
        let (name, max, write) = (self.shared.name, self.shared.max, self.shared.write.clone());
        let (queue, mut receiver) = mpsc::channel::<(I, oneshot::Sender<O>)>(max * 4);
        tokio::spawn(async move {
            let mut queued = Vec::with_capacity(max);
            while receiver.recv_many(&mut queued, max).await > 0 {
                let (items, replies): (Vec<I>, Vec<oneshot::Sender<O>>) = queued.drain(..).unzip();
                metrics::histogram!("store_batch_size", "batch" => name).record(items.len() as f64);
                match tokio::spawn(write(items)).await {
                    Ok(outcomes) => {
                        debug_assert_eq!(outcomes.len(), replies.len(), "one outcome per item");
                        for (outcome, reply) in outcomes.into_iter().zip(replies) {
                            // The caller may have given up; the write stands either way.
                            let _ = reply.send(outcome);
                        }
                    }
                    // Dropping the replies tells each caller the batch failed.
                    Err(err) => tracing::error!(batch = name, %err, "batch write panicked"),
                }
            }
        });
        queue
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn each_caller_gets_its_own_outcome_and_batches_form_under_load() {
        let batches = Arc::new(AtomicUsize::new(0));
        let counted = batches.clone();
        let batcher = Batcher::new("test", 16, move |items: Vec<u32>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                // Long enough that the other callers queue behind the first batch.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                items.into_iter().map(|i| i * 10).collect::<Vec<_>>()
            }
        });
        let calls: Vec<_> = (0..40)
            .map(|i| {
                let batcher = batcher.clone();
                tokio::spawn(async move { (i, batcher.submit(i).await.unwrap()) })
            })
            .collect();
        for call in calls {
            let (i, out) = call.await.unwrap();
            assert_eq!(out, i * 10);
        }
        let batches = batches.load(Ordering::SeqCst);
        assert!(
            (3..40).contains(&batches),
            "40 items at most 16 per batch took {batches} batches"
        );
    }

    #[tokio::test]
    async fn a_panicking_batch_fails_its_callers_and_not_the_next_batch() {
        let batcher = Batcher::new("test", 1, |items: Vec<u32>| async move {
            assert_ne!(items[0], 13, "unlucky");
            items
        });
        assert!(batcher.submit(13).await.is_err());
        assert_eq!(batcher.submit(7).await.unwrap(), 7);
    }
}

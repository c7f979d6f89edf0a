//! The batching producer: logs are grouped into LogGroups per [`BatchKey`] (logstore, topic,
//! source, hash key), sent when a batch is full or has waited `linger`, retried with
//! exponential backoff and jitter while [`crate::Error::is_retryable`], and each log's
//! [`Delivery`] resolves once its batch is stored (or finally failed).
//!
//! Guarantees: a log whose delivery is `Ok` is stored (at least once: a retry after a lost
//! answer can store a batch twice; batches carry a `__pack_id__` tag so readers can spot
//! that). Memory is bounded by `max_buffer_bytes`: [`Producer::send`] waits for room
//! (backpressure). With `ordered`, batches of one key are sent one at a time, in order.

mod accumulator;
mod config;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{oneshot, Semaphore};

use crate::error::{Error, Result};
use crate::{Client, Log};
pub use accumulator::BatchKey;
pub use config::ProducerConfig;

/// A pending log's result: resolves when its batch is stored or has failed for good.
#[derive(Debug)]
pub struct Delivery(oneshot::Receiver<Result<(), Arc<Error>>>);

impl Delivery {
    /// Waits for the outcome.
    pub async fn wait(self) -> Result<(), Arc<Error>> {
        self.0
            .await
            .unwrap_or_else(|_| Err(Arc::new(Error::ProducerClosed("dropped before delivering"))))
    }
}

/// An asynchronous, thread-safe batching producer. Clones share one producer.
#[derive(Debug, Clone)]
pub struct Producer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ProducerConfig,
    buffer: Arc<Semaphore>,
    acc: accumulator::Accumulator,
    closed: AtomicBool,
    linger_task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Producer {
    /// A producer sending through `client`. Must be called inside a tokio runtime (it starts
    /// the linger timer).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a configuration that cannot work (zero sizes).
    pub fn new(client: Client, config: ProducerConfig) -> Result<Producer> {
        config.validate()?;
        let permits = config.max_buffer_bytes.min(Semaphore::MAX_PERMITS);
        let inner = Arc::new(Inner {
            acc: accumulator::Accumulator::new(client, config),
            buffer: Arc::new(Semaphore::new(permits)),
            config,
            closed: AtomicBool::new(false),
            linger_task: std::sync::Mutex::new(None),
        });
        let weak = Arc::downgrade(&inner);
        let tick = inner.config.linger.max(std::time::Duration::from_millis(1)) / 2;
        let task = tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                inner.acc.send_due(false);
            }
        });
        *inner.linger_task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        Ok(Producer { inner })
    }

    /// Queues one log. Waits while the buffer is full (backpressure); returns the log's
    /// [`Delivery`].
    ///
    /// # Errors
    /// [`Error::ProducerClosed`] after [`Producer::close`] (also for a send still waiting for room when
    /// `close` is called), or [`Error::InvalidArgument`] for a log larger than a batch.
    pub async fn send(&self, key: &BatchKey, log: Log) -> Result<Delivery> {
        let closed = || Error::ProducerClosed("closed by Producer::close");
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let size = accumulator::log_size(&log).max(1);
        // `validate` makes a batch at most the buffer, so this also bounds the buffer.
        if size > self.inner.config.max_batch_bytes {
            return Err(Error::InvalidArgument(format!(
                "a log of {size} bytes is larger than the producer's buffer or batch"
            )));
        }
        let permits =
            u32::try_from(size).map_err(|_| Error::InvalidArgument("log too large".into()))?;
        let permit = self
            .inner
            .buffer
            .clone()
            .acquire_many_owned(permits)
            .await
            .map_err(|_| closed())?;
        let (tx, rx) = oneshot::channel();
        // Refused when `close` ran while we waited: its flush may already be over.
        self.inner
            .acc
            .add(key, log, size, permit, tx)
            .map_err(|accumulator::Closed| closed())?;
        Ok(Delivery(rx))
    }

    /// Sends every batch now and waits until the producer is idle: no batch open or in
    /// flight, including those of logs queued (by any task) while it waits. Each log's outcome
    /// is in its [`Delivery`].
    pub async fn flush(&self) {
        self.inner.acc.send_due(true);
        self.inner.acc.wait_idle().await;
    }

    /// Refuses new logs (sends waiting for buffer room fail too), flushes, and stops the
    /// linger timer. Every [`Delivery`] returned before resolves.
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.buffer.close();
        self.inner.acc.close();
        self.flush().await;
        if let Some(t) = self
            .inner
            .linger_task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            t.abort();
        }
    }
}

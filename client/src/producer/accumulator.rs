//! Batching and sending: open batches per key, dispatch when full or due, one lane per key
//! (sequential in ordered mode, concurrent otherwise), retries with backoff and jitter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::Rng;
use sls_protocol::proto::{LogGroup, LogTag};
use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit};

use super::ProducerConfig;
use crate::error::Error;
use crate::{Client, Log};

/// Where a log goes and what it shares with its batch-mates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BatchKey {
    /// Project.
    pub project: String,
    /// Logstore.
    pub logstore: String,
    /// LogGroup topic.
    pub topic: String,
    /// LogGroup source.
    pub source: String,
    /// Route to the shard holding this hash key (hex); `None` load-balances.
    pub hash_key: Option<String>,
}

impl BatchKey {
    /// A load-balanced key with an empty topic and source.
    pub fn new(project: &str, logstore: &str) -> BatchKey {
        BatchKey {
            project: project.into(),
            logstore: logstore.into(),
            topic: String::new(),
            source: String::new(),
            hash_key: None,
        }
    }
}

type Reply = oneshot::Sender<Result<(), Arc<Error>>>;

/// A queued log's buffer room and reply; the log itself goes into its batch's `logs`.
#[derive(Debug)]
struct Pending {
    _permit: OwnedSemaphorePermit,
    reply: Reply,
}

#[derive(Debug)]
struct Batch {
    logs: Vec<Log>,
    items: Vec<Pending>,
    bytes: usize,
    started: Instant,
}

#[derive(Debug)]
struct Ready {
    key: BatchKey,
    group: LogGroup,
    items: Vec<Pending>,
}

/// The open batches, and whether the producer is closed: one lock, so a log is either added
/// before the closing flush takes the batches or refused.
#[derive(Debug, Default)]
struct Open {
    batches: HashMap<BatchKey, Batch>,
    closed: bool,
}

/// A log refused because the producer is closed.
#[derive(Debug)]
pub(super) struct Closed;

/// The approximate serialized size of a log.
pub(super) fn log_size(log: &Log) -> usize {
    8 + log
        .contents
        .iter()
        .map(|c| c.key.len() + c.value.len() + 4)
        .sum::<usize>()
}

#[derive(Debug)]
pub(super) struct Accumulator {
    client: Client,
    config: ProducerConfig,
    open: Mutex<Open>,
    lanes: Mutex<HashMap<BatchKey, mpsc::UnboundedSender<Ready>>>,
    in_flight: Arc<AtomicUsize>,
    idle: Arc<Notify>,
    pack_prefix: String,
    pack_seq: AtomicU64,
}

impl Accumulator {
    pub(super) fn new(client: Client, config: ProducerConfig) -> Accumulator {
        Accumulator {
            client,
            config,
            open: Mutex::new(Open::default()),
            lanes: Mutex::new(HashMap::new()),
            in_flight: Arc::new(AtomicUsize::new(0)),
            idle: Arc::new(Notify::new()),
            pack_prefix: format!("{:016X}", rand::thread_rng().gen::<u64>()),
            pack_seq: AtomicU64::new(0),
        }
    }

    /// Queues a log. `Err(Closed)` (nothing queued) once [`Accumulator::close`] has run.
    pub(super) fn add(
        &self,
        key: &BatchKey,
        log: Log,
        size: usize,
        permit: OwnedSemaphorePermit,
        reply: Reply,
    ) -> Result<(), Closed> {
        let mut guard = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if guard.closed {
            return Err(Closed);
        }
        let open = &mut guard.batches;
        if let Some(b) = open.get(key) {
            if b.bytes + size > self.config.max_batch_bytes {
                if let Some(full) = open.remove(key) {
                    self.dispatch(key.clone(), full);
                }
            }
        }
        let batch = open.entry(key.clone()).or_insert_with(|| Batch {
            logs: Vec::new(),
            items: Vec::new(),
            bytes: 0,
            started: Instant::now(),
        });
        batch.logs.push(log);
        batch.items.push(Pending {
            _permit: permit,
            reply,
        });
        batch.bytes += size;
        if batch.logs.len() >= self.config.max_batch_logs
            || batch.bytes >= self.config.max_batch_bytes
        {
            if let Some(full) = open.remove(key) {
                self.dispatch(key.clone(), full);
            }
        }
        Ok(())
    }

    /// Refuses every later [`Accumulator::add`]. Logs added before stay open until the next
    /// [`Accumulator::send_due`].
    pub(super) fn close(&self) {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
    }

    /// Dispatches batches that waited `linger` (or all of them).
    pub(super) fn send_due(&self, all: bool) {
        let mut guard = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let open = &mut guard.batches;
        let due: Vec<BatchKey> = open
            .iter()
            .filter(|(_, b)| all || b.started.elapsed() >= self.config.linger)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            if let Some(b) = open.remove(&key) {
                self.dispatch(key, b);
            }
        }
    }

    /// Waits until no batch is open or in flight.
    pub(super) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            let open = self
                .open
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .batches
                .len();
            if open == 0 && self.in_flight.load(Ordering::Acquire) == 0 {
                return;
            }
            if open > 0 {
                self.send_due(true);
            }
            notified.await;
        }
    }

    fn dispatch(&self, key: BatchKey, batch: Batch) {
        let seq = self.pack_seq.fetch_add(1, Ordering::Relaxed);
        let group = LogGroup {
            logs: batch.logs,
            topic: Some(key.topic.clone().into()),
            source: Some(key.source.clone().into()),
            log_tags: vec![LogTag {
                key: "__pack_id__".into(),
                value: format!("{}-{seq:X}", self.pack_prefix).into(),
            }],
            ..Default::default()
        };
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let ready = Ready {
            key: key.clone(),
            group,
            items: batch.items,
        };
        if !self.config.ordered {
            tokio::spawn(deliver(
                self.client.clone(),
                self.config,
                ready,
                self.in_flight.clone(),
                self.idle.clone(),
            ));
            return;
        }
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        let lane = lanes.entry(key).or_insert_with(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<Ready>();
            let (client, config, in_flight, idle) = (
                self.client.clone(),
                self.config,
                self.in_flight.clone(),
                self.idle.clone(),
            );
            // One batch at a time per key, in dispatch order.
            tokio::spawn(async move {
                while let Some(r) = rx.recv().await {
                    deliver(client.clone(), config, r, in_flight.clone(), idle.clone()).await;
                }
            });
            tx
        });
        if let Err(mpsc::error::SendError(r)) = lane.send(ready) {
            // The lane's task is gone (runtime shutting down): fail the batch, don't lose it silently.
            finish(
                r.items,
                Err(Arc::new(Error::ProducerClosed("its send task stopped"))),
                &self.in_flight,
                &self.idle,
            );
        }
    }
}

fn finish(
    items: Vec<Pending>,
    result: Result<(), Arc<Error>>,
    in_flight: &AtomicUsize,
    idle: &Notify,
) {
    for p in items {
        let _ = p.reply.send(result.clone());
    }
    if in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
        idle.notify_waiters();
    }
}

/// Sends one batch, retrying retryable errors with exponential backoff and ±50 % jitter.
async fn deliver(
    client: Client,
    config: ProducerConfig,
    r: Ready,
    in_flight: Arc<AtomicUsize>,
    idle: Arc<Notify>,
) {
    let mut delay = config.base_backoff;
    let mut attempt = 1;
    let result = loop {
        match client
            .put_logs(
                &r.key.project,
                &r.key.logstore,
                &r.group,
                r.key.hash_key.as_deref(),
            )
            .await
        {
            Ok(()) => break Ok(()),
            Err(e) if e.is_retryable() && attempt < config.max_attempts => {
                let jittered = delay.mul_f64(rand::thread_rng().gen_range(0.5..1.5));
                tracing::debug!(attempt, error = %e, ?jittered, "batch send failed; retrying");
                tokio::time::sleep(jittered).await;
                delay = (delay * 2).min(config.max_backoff);
                attempt += 1;
            }
            Err(e) => break Err(Arc::new(e)),
        }
    };
    finish(r.items, result, &in_flight, &idle);
}

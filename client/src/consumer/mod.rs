//! The consumer-group worker: one [`Processor`] per shard the group assigns to this consumer.
//!
//! - A heartbeat loop reports every shard the worker still holds (assigned *or* still shutting
//!   down) and starts/stops shard loops from the answer: a shard that leaves the answer is
//!   drained (its current batch finishes, its checkpoint is saved, the processor shuts down) and
//!   only then dropped from the heartbeat, so the server never hands it to another consumer
//!   while this one still reads it (the transfer handshake).
//! - A shard loop resumes from the group's checkpoint (or the configured start position), pulls
//!   with backoff while the shard is empty, hands each batch to the processor, and checkpoints
//!   (the *next* cursor) at most every `checkpoint_interval` and on shutdown. When it reaches
//!   the end of the shard it also checkpoints the end, so a readonly shard is marked finished
//!   and, in ordered groups, its children get assigned (SLS-API.md §9).
//! - [`Worker::shutdown`] stops every shard loop, saving their checkpoints, before the last
//!   heartbeat stops.
//!
//! Windows closed (CONSUMERS-AND-PRODUCERS.md §3.7): checkpoints are never forced, so a
//! consumer the server has dropped cannot overwrite the new owner's checkpoint (D3), and stops
//! a shard at the first rejected checkpoint (D2); shutdown keeps heartbeating until every shard
//! has drained, so a slow shutdown cannot outlive the group timeout (D4); an out-of-range cursor
//! resumes from the checkpoint or the start position, or from the oldest data when the
//! checkpoint itself is out of range, never from the end, and with a pause (L2); an empty
//! readonly shard is still finished (S1).
//!
//! Windows that remain: work processed but not yet checkpointed is processed again by the next
//! owner after a crash (D1; `checkpoint_interval` bounds it, `Processed::Commit` closes it per
//! batch); a worker cut off from the server keeps processing until its next checkpoint is
//! refused or `group_timeout` passes without a heartbeat, while the server may already have moved
//! its shards (D2); two processes with one consumer name share shards (D6, misconfiguration).

mod shard;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::ConsumerGroup;
use crate::error::Result;
use crate::{Client, LogGroup};

/// Where a shard without a checkpoint starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartPosition {
    /// The oldest retained data.
    Begin,
    /// Only data written from now on.
    End,
    /// Data received at or after this unix time (seconds).
    Time(i64),
}

/// A batch handed to a processor.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The shard.
    pub shard: u32,
    /// The cursor the batch was read from.
    pub cursor: String,
    /// The cursor after it (what gets checkpointed once processed).
    pub next_cursor: String,
    /// The LogGroups.
    pub groups: Vec<LogGroup>,
}

/// What a processor tells the worker after a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// Go on after the batch.
    Done,
    /// Go on after the batch and save the checkpoint now, whatever `checkpoint_interval` says.
    Commit,
    /// Read again from this cursor (roll back).
    RollbackTo(String),
}

/// The application's per-shard code. One instance per shard, created by the worker's factory.
pub trait Processor: Send + 'static {
    /// Called once before the first batch of a shard.
    fn initialize(&mut self, _shard: u32) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Handles one batch. Errors are the processor's to handle; a returned cursor rolls back.
    fn process(&mut self, batch: &Batch) -> impl Future<Output = Processed> + Send;

    /// Called once when the shard is released (after its last checkpoint was saved).
    fn shutdown(&mut self, _shard: u32) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// Worker settings.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Project.
    pub project: String,
    /// Logstore.
    pub logstore: String,
    /// Consumer group (created, or updated to these settings, at start).
    pub group: String,
    /// This consumer's name, unique in the group.
    pub consumer: String,
    /// Heartbeat period (default 2 s).
    pub heartbeat_interval: Duration,
    /// The group's timeout: the server drops a consumer silent this long (default 3 heartbeats).
    pub group_timeout: Duration,
    /// Pause between pulls of an empty shard, doubled up to `max_fetch_backoff` (default 200 ms).
    pub fetch_interval: Duration,
    /// Longest pause between pulls of an empty shard (default 2 s).
    pub max_fetch_backoff: Duration,
    /// LogGroups per pull (1–1000, default 1000).
    pub batch_count: u32,
    /// Where shards without a checkpoint start (default `Begin`).
    pub start: StartPosition,
    /// Most time between checkpoint saves of a busy shard (default 5 s; 0 = after every batch).
    pub checkpoint_interval: Duration,
    /// Ordered group: children only after their ancestors are finished.
    pub ordered: bool,
}

impl ConsumerConfig {
    /// Defaults for one consumer of a group.
    pub fn new(project: &str, logstore: &str, group: &str, consumer: &str) -> ConsumerConfig {
        ConsumerConfig {
            project: project.into(),
            logstore: logstore.into(),
            group: group.into(),
            consumer: consumer.into(),
            heartbeat_interval: Duration::from_secs(2),
            group_timeout: Duration::from_secs(6),
            fetch_interval: Duration::from_millis(200),
            max_fetch_backoff: Duration::from_secs(2),
            batch_count: 1000,
            start: StartPosition::Begin,
            checkpoint_interval: Duration::from_secs(5),
            ordered: false,
        }
    }
}

/// A running consumer. Dropping it without [`Worker::shutdown`] stops nothing cleanly: call
/// `shutdown` to save checkpoints.
#[derive(Debug)]
pub struct Worker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Worker {
    /// Creates or updates the group, then starts heartbeating and consuming.
    ///
    /// # Errors
    /// The group could not be created or updated.
    pub async fn start<P, F>(client: Client, config: ConsumerConfig, factory: F) -> Result<Worker>
    where
        P: Processor,
        F: Fn(u32) -> P + Send + Sync + 'static,
    {
        let group = ConsumerGroup {
            name: config.group.clone(),
            timeout: u32::try_from(config.group_timeout.as_secs().max(1)).unwrap_or(u32::MAX),
            order: config.ordered,
        };
        match client
            .create_consumer_group(&config.project, &config.logstore, &group)
            .await
        {
            Err(e) if e.code() == Some("ConsumerGroupAlreadyExist") => {
                client
                    .update_consumer_group(&config.project, &config.logstore, &group)
                    .await?
            }
            other => other?,
        }
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(heartbeat_loop(
            client,
            Arc::new(config),
            Arc::new(factory),
            stopped,
        ));
        Ok(Worker { stop, task })
    }

    /// Stops every shard (each saves its checkpoint and shuts its processor down), then stops
    /// heartbeating.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Stops at once, like a crash: no checkpoint is saved, no processor is shut down, and the
    /// server keeps this consumer until its timeout (or until the same name rejoins). For
    /// tests and fault scenarios.
    pub async fn abort(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// A shard loop the heartbeat loop started. Dropping it aborts the loop, so a worker that
/// is aborted (or whose runtime ends) leaves no shard loop running behind it.
struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn heartbeat_loop<P, F>(
    client: Client,
    config: Arc<ConsumerConfig>,
    factory: Arc<F>,
    mut stopped: watch::Receiver<bool>,
) where
    P: Processor,
    F: Fn(u32) -> P + Send + Sync + 'static,
{
    let mut running: BTreeMap<u32, Running> = BTreeMap::new();
    let mut last_ok = Instant::now();
    loop {
        // Finished shard loops (released, lost or done) leave the held set.
        running.retain(|_, r| !r.task.is_finished());
        match beat(&client, &config, &running).await {
            Ok(assigned) => {
                last_ok = Instant::now();
                let assigned: BTreeSet<u32> = assigned.into_iter().collect();
                for (shard, r) in &running {
                    if !assigned.contains(shard) {
                        let _ = r.stop.send(true);
                    }
                }
                for shard in assigned {
                    running.entry(shard).or_insert_with(|| {
                        let (stop, shard_stopped) = watch::channel(false);
                        let task = tokio::spawn(shard::run(
                            client.clone(),
                            config.clone(),
                            shard,
                            factory(shard),
                            shard_stopped,
                        ));
                        Running { stop, task }
                    });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, consumer = %config.consumer, "heartbeat failed");
                // The server forgot us (expired) or we could not reach it for a whole timeout:
                // give up every shard before someone else reads them, then rejoin empty.
                if e.code() == Some("NotExistConsumerWithBody")
                    || last_ok.elapsed() > config.group_timeout
                {
                    stop_all(&mut running).await;
                }
            }
        }
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(config.heartbeat_interval) => {}
        }
    }
    // Drain every shard, heartbeating meanwhile: a slow shutdown must not let the server
    // expire us and hand the shards over while they are still being processed.
    for r in running.values() {
        let _ = r.stop.send(true);
    }
    loop {
        running.retain(|_, r| !r.task.is_finished());
        if running.is_empty() {
            break;
        }
        if let Err(e) = beat(&client, &config, &running).await {
            tracing::debug!(error = %e, "heartbeat while draining failed");
        }
        tokio::time::sleep(
            config
                .heartbeat_interval
                .min(std::time::Duration::from_millis(200)),
        )
        .await;
    }
}

/// One heartbeat reporting every shard still held (assigned or draining).
async fn beat(
    client: &Client,
    config: &ConsumerConfig,
    running: &BTreeMap<u32, Running>,
) -> Result<Vec<u32>> {
    let held: Vec<u32> = running.keys().copied().collect();
    client
        .heartbeat(
            &config.project,
            &config.logstore,
            &config.group,
            &config.consumer,
            &held,
        )
        .await
}

async fn stop_all(running: &mut BTreeMap<u32, Running>) {
    for r in running.values() {
        let _ = r.stop.send(true);
    }
    for (_, mut r) in std::mem::take(running) {
        let _ = (&mut r.task).await;
    }
}

//! The writers: our producer, the official Rust producer, the official Python SDK's put_logs.
//! Each log carries a unique id; each write is recorded Jepsen-style (invoke, then ok / fail /
//! unknown).

use std::time::Duration;

use sls_client::{BatchKey, Client, Producer, ProducerConfig};
use sls_e2e::history::{Outcome, WriteOp};

use sls_e2e::workers::{harness_command, run_producer, run_writer, Lang, ProducerOptions, Program};

use crate::support::{
    log, Rec, Res, Target, LOGSTORE, OUR_PRODUCER, PROJECT, PY_PUT_LOGS, RUST_PRODUCER,
};

/// Our producer: logs `<prefix>-<i>` for `i` in `0..n`, spread over the key space, `pace`
/// between sends (to keep a stream going while faults happen), one WriteOp per log.
pub async fn ours(rec: Rec, c: Client, prefix: String, n: usize, pace: Duration) -> Res<()> {
    let config = ProducerConfig {
        linger: Duration::from_millis(5),
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(500),
        // Enough to ride out an emulator restart (a few seconds) without giving up.
        max_attempts: 30,
        ..ProducerConfig::default()
    };
    let producer = Producer::new(c, config)?;
    // One task per log waits for its delivery, so each outcome is stamped when it is known.
    let mut pending = tokio::task::JoinSet::new();
    for i in 0..n {
        let id = format!("{prefix}-{i}");
        let key = BatchKey {
            hash_key: Some(format!("{:02x}", (i * 97) % 256)),
            ..BatchKey::new(PROJECT, LOGSTORE)
        };
        let invoke_ms = rec.ms();
        let delivery = producer.send(&key, log(&id)).await?;
        rec.sent(1);
        let r = rec.clone();
        pending.spawn(async move {
            let result = delivery.wait().await;
            let complete_ms = r.ms();
            let (outcome, error) = match result {
                Ok(()) => (Outcome::Ok, None),
                // A retryable error after the last retry may still have been committed.
                Err(e) if e.is_retryable() => (Outcome::Unknown, Some(e.to_string())),
                Err(e) => (Outcome::Fail, Some(e.to_string())),
            };
            r.with(|h| {
                h.writes.push(WriteOp {
                    writer: OUR_PRODUCER.into(),
                    ids: vec![id],
                    invoke_ms,
                    complete_ms,
                    outcome,
                    error,
                })
            });
        });
        if !pace.is_zero() && i % 10 == 9 {
            tokio::time::sleep(pace).await;
        }
    }
    producer.close().await;
    while let Some(done) = pending.join_next().await {
        done?;
    }
    Ok(())
}

/// The official Rust producer (`aliyun-log-producer`): `n` logs, one WriteOp per log from its
/// delivery callback. A failed delivery is `Unknown`: the callback does not say whether an
/// attempt was committed before the producer gave up.
pub async fn official_rust(rec: Rec, target: Target, prefix: String, n: usize) -> Res<()> {
    use aliyun_log_producer::{log, Producer, ProducerConfig, ProducerError, SendOptions};
    let cfg = ProducerConfig::default()
        .with_endpoint(target.endpoint.clone())
        .with_access_key(
            target.access_key_id.clone(),
            target.access_key_secret.clone(),
        )
        .with_linger(Duration::from_millis(20))
        // Small batches: many requests, so the seeded faults hit many of them.
        .with_batch_count_threshold(50)
        .with_base_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(1));
    let r = rec.clone();
    tokio::task::spawn_blocking(move || -> Res<()> {
        let producer = Producer::create(cfg).map_err(|e| format!("producer: {e:?}"))?;
        let writer = producer
            .writer(PROJECT, LOGSTORE)
            .map_err(|e| format!("producer writer: {e:?}"))?;
        for i in 0..n {
            let id = format!("{prefix}-{i}");
            let invoke_ms = r.ms();
            // The input queue is bounded: EnqueueFull is backpressure, so offer it again.
            loop {
                let (r2, id2) = (r.clone(), id.clone());
                let sent = writer.send_with_options_and_callback(
                    log!("id": id.clone()),
                    SendOptions::default().with_topic("chaos"),
                    move |res| {
                        let (outcome, error) = match res {
                            Ok(_) => (Outcome::Ok, None),
                            Err(e) => (Outcome::Unknown, Some(format!("{e:?}"))),
                        };
                        let complete_ms = r2.ms();
                        r2.with(|h| {
                            h.writes.push(WriteOp {
                                writer: RUST_PRODUCER.into(),
                                ids: vec![id2],
                                invoke_ms,
                                complete_ms,
                                outcome,
                                error,
                            })
                        });
                    },
                );
                match sent {
                    Ok(()) => {
                        r.sent(1);
                        break;
                    }
                    Err(ProducerError::EnqueueFull { .. }) => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Err(e) => return Err(format!("send: {e:?}").into()),
                }
            }
        }
        producer
            .close_blocking()
            .map_err(|e| format!("producer close: {e:?}"))?;
        Ok(())
    })
    .await??;
    Ok(())
}

/// The official Python SDK's `put_logs` (`tests/python/put_logs_writer.py`): `n` logs in
/// batches of `batch`, `pace` after each call, one WriteOp per call, as the script recorded it.
pub async fn python_put_logs(
    rec: Rec,
    target: Target,
    prefix: String,
    n: usize,
    batch: usize,
    pace: Duration,
) -> Res<()> {
    let mut cmd = harness_command(Lang::Python, Program::Producer)?;
    cmd.args(["--endpoint", &target.endpoint])
        .args(["--access-key-id", &target.access_key_id])
        .args(["--access-key-secret", &target.access_key_secret])
        .args(["--project", PROJECT, "--logstore", LOGSTORE])
        .args(["--count", &n.to_string(), "--batch", &batch.to_string()])
        .args(["--prefix", &prefix])
        .args(["--pace", &pace.as_secs_f64().to_string()]);
    // Progress: each record is one finished call of `batch` logs.
    let mut reported = 0;
    let ops = run_writer(cmd, PY_PUT_LOGS, rec.epoch_ms, |calls| {
        rec.sent(calls.saturating_sub(reported) * batch);
        reported = reported.max(calls);
    })
    .await?;
    rec.with(|h| h.writes.extend(ops));
    Ok(())
}

/// The official Java or Go producer (`tests/java/producer`, `sls-go producer-writer`) in its
/// own process: `o.count` logs, one WriteOp per log from its callback. A failed callback is
/// `Fail`: the producer reports the log as not delivered (its attempts are in the error).
pub async fn official_producer(
    rec: Rec,
    lang: Lang,
    target: Target,
    o: ProducerOptions,
) -> Res<()> {
    let mut reported = 0;
    let ops = run_producer(lang, &target, PROJECT, LOGSTORE, &o, rec.epoch_ms, |n| {
        rec.sent(n.saturating_sub(reported));
        reported = reported.max(n);
    })
    .await?;
    rec.with(|h| h.writes.extend(ops));
    Ok(())
}

//! Producer settings.

use std::time::Duration;

use crate::error::{Error, Result};

/// How the producer batches, buffers and retries.
#[derive(Debug, Clone, Copy)]
pub struct ProducerConfig {
    /// Longest a log waits for its batch to fill (default 200 ms).
    pub linger: Duration,
    /// Most logs per LogGroup (default 4096).
    pub max_batch_logs: usize,
    /// Most (approximate, uncompressed) bytes per LogGroup (default 512 KiB).
    pub max_batch_bytes: usize,
    /// Most bytes queued or in flight; `send` waits beyond it (default 64 MiB).
    pub max_buffer_bytes: usize,
    /// Attempts per batch, the first included (default 10).
    pub max_attempts: u32,
    /// First retry delay, doubled each time, with ±50 % jitter (default 100 ms).
    pub base_backoff: Duration,
    /// Longest retry delay (default 10 s).
    pub max_backoff: Duration,
    /// One batch in flight per key, so each key's logs are stored in send order.
    pub ordered: bool,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            linger: Duration::from_millis(200),
            max_batch_logs: 4096,
            max_batch_bytes: 512 * 1024,
            max_buffer_bytes: 64 * 1024 * 1024,
            max_attempts: 10,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            ordered: false,
        }
    }
}

impl ProducerConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.max_batch_logs == 0
            || self.max_batch_bytes == 0
            || self.max_buffer_bytes == 0
            || self.max_attempts == 0
        {
            return Err(Error::InvalidConfig(
                "producer sizes and max_attempts must be at least 1".into(),
            ));
        }
        if self.max_batch_bytes > self.max_buffer_bytes {
            return Err(Error::InvalidConfig(
                "max_batch_bytes must not exceed max_buffer_bytes".into(),
            ));
        }
        Ok(())
    }
}

//! The client's error type and the one retry rule shared by the producer and the consumer.

/// Everything a call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SLS answered with an error. Codes stay strings: the service sends codes we don't model.
    #[error("{code} ({status}): {message} [request id {}]", request_id.as_deref().unwrap_or("-"))]
    Server {
        /// `errorCode`.
        code: String,
        /// `errorMessage`.
        message: String,
        /// HTTP status.
        status: u16,
        /// `x-log-requestid`, when the answer carried one.
        request_id: Option<String>,
    },
    /// The request did not complete: connection refused or reset, timeout, DNS.
    #[error("network: {0}")]
    Network(#[source] reqwest::Error),
    /// The answer could not be understood (bad JSON, protobuf, compression, headers).
    #[error("cannot decode the answer: {0}")]
    Decode(String),
    /// The configuration cannot work (endpoint, sizes, credentials, HTTP client setup).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// An argument cannot be sent (a header value, a URL, a log larger than a batch).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The request body could not be compressed (an I/O failure inside the compressor).
    #[error("compression failed: {0}")]
    Compression(String),
    /// The producer was closed (or dropped) before it could take or deliver the log.
    #[error("the producer is closed: {0}")]
    ProducerClosed(&'static str),
    /// The exactly-once sink failed; nothing of the batch was applied.
    #[error("sink: {0}")]
    Sink(String),
}

impl Error {
    /// Whether trying the same request again may succeed: any 5xx, throttling (403 quota
    /// codes), timeouts and connection failures. Never for 4xx client errors, whose answer
    /// would not change. A retried write may be stored twice if the first attempt was
    /// committed but its answer lost: retries give at-least-once, not exactly-once.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Server { code, status, .. } => sls_protocol::codes::is_retryable(*status, code),
            Error::Network(_) => true,
            Error::Decode(_)
            | Error::InvalidConfig(_)
            | Error::InvalidArgument(_)
            | Error::Compression(_)
            | Error::ProducerClosed(_)
            | Error::Sink(_) => false,
        }
    }

    /// The SLS error code, for server errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Server { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The client's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: &str, status: u16) -> Error {
        Error::Server {
            code: code.into(),
            message: "m".into(),
            status,
            request_id: None,
        }
    }

    #[test]
    fn retry_rule() {
        assert!(server("InternalServerError", 500).is_retryable());
        assert!(server("Whatever", 502).is_retryable());
        assert!(server("ServerBusy", 503).is_retryable());
        assert!(server("ShardWriteQuotaExceed", 403).is_retryable());
        assert!(server("WriteQuotaExceed", 403).is_retryable());
        assert!(!server("ProjectNotExist", 404).is_retryable());
        assert!(!server("SignatureNotMatch", 401).is_retryable());
        assert!(!server("PostBodyInvalid", 400).is_retryable());
        assert!(!Error::Decode("x".into()).is_retryable());
    }
}

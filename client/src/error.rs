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
    /// The configuration or the arguments cannot work.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Error codes worth retrying: the service is busy or throttling, or failed internally.
const RETRYABLE_CODES: &[&str] = &[
    "InternalServerError",
    "ServerBusy",
    "RequestTimeout",
    "WriteQuotaExceed",
    "ShardWriteQuotaExceed",
    "ReadQuotaExceed",
    "ShardReadQuotaExceed",
];

impl Error {
    /// Whether trying the same request again may succeed: any 5xx, throttling (403 quota
    /// codes), timeouts and connection failures. Never for 4xx client errors, whose answer
    /// would not change. A retried write may be stored twice if the first attempt was
    /// committed but its answer lost: retries give at-least-once, not exactly-once.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Server { code, status, .. } => {
                *status >= 500 || RETRYABLE_CODES.contains(&code.as_str())
            }
            Error::Network(_) => true,
            Error::Decode(_) | Error::Config(_) => false,
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

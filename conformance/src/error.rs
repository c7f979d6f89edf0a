//! The one error type of this crate: what can stop the suite itself (not a case failing).
//!
//! A case that observes the wrong behaviour is not an error: it becomes a failed
//! [`Outcome`](crate::Outcome). Errors here are about reaching the endpoint, setting up and
//! writing reports.

/// Everything that can go wrong while running the suite.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `--endpoint` value cannot be used; `reason` says why.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The value given.
        endpoint: String,
        /// Why it was refused.
        reason: String,
    },
    /// The HTTP client could not be built (TLS backend initialisation).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// A request URL could not be formed (a path or project that is not URL-safe).
    #[error("invalid request URL {url:?}: {reason}")]
    Url {
        /// The URL text.
        url: String,
        /// The parser's message.
        reason: String,
    },
    /// No response: connection refused, TLS failure, timeout, unreadable body.
    #[error("{method} {url}: {chain}", chain = error_chain(.source))]
    Transport {
        /// HTTP method.
        method: String,
        /// Full URL.
        url: String,
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// A raw (hand-written HTTP/1.1) exchange failed: no connection, no answer, or an answer
    /// whose head cannot be read.
    #[error("{url}: {reason}")]
    Raw {
        /// Full URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A header value could not be put on the wire (not visible ASCII).
    #[error("header {name}: value {value:?} cannot be sent")]
    Header {
        /// Header name.
        name: String,
        /// Offending value.
        value: String,
    },
    /// Compressing a request body or decompressing a response failed.
    #[error(transparent)]
    Protocol(#[from] sls_protocol::ProtocolError),
    /// The run could not prepare its project or logstores; `step` names what was attempted and
    /// `observed` what the endpoint answered.
    #[error("setup: {step}: {observed}")]
    Setup {
        /// What was attempted, e.g. `CreateProject sls-conf-1a2b`.
        step: String,
        /// What came back (status, errorCode, message) or the transport error.
        observed: String,
    },
    /// A report could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A report could not be serialized.
    #[error("cannot serialize the report: {0}")]
    Json(#[from] serde_json::Error),
}

/// An error and its sources, `: `-separated (reqwest's own message omits the cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

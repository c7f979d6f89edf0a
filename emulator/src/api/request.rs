//! The SLS request path up to the handler: stamp a request id, find the project in the Host,
//! buffer the body, authenticate (key, STS token, signature), parse the [`Action`], authorize
//! it against the key's policies, apply fault rules, dispatch;
//! and [`Ctx`], what handlers see of all that.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sls_protocol::headers;
use sls_protocol::signature::{self, Authorization, SignRequest};
use sls_protocol::types::UnixNanos;
use tracing::Instrument;

use super::{dispatch, Call};
use crate::access::Credential;
use crate::action::{Action, Query};
use crate::config::AuthMode;
use crate::error::{error_response, ApiError, ErrorCode, ErrorTag};
use crate::faults::{AfterCommit, Decision, RequestInfo};
use crate::model::host::project_from_host;
use crate::state::AppState;

/// What the request path learned about a request before its handler.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The project named by the Host (or absolute-form target), if any.
    pub project: Option<String>,
    /// Decoded query parameters in order.
    pub query: Query,
    /// The request's `now`, read once from the clock.
    pub now: UnixNanos,
    /// The client's address.
    pub client: Option<SocketAddr>,
}

impl Ctx {
    /// First value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name)
    }

    /// The project from the Host, or `ParameterInvalid` explaining the addressing.
    pub fn project(&self) -> Result<&str, ApiError> {
        self.project.as_deref().ok_or_else(|| {
            ApiError::param(
                "the Host header names no project: send requests to <project>.<endpoint> \
                 (e.g. myproject.localhost:18080)",
            )
        })
    }

    /// An integer query parameter with a default and an inclusive range.
    pub fn int_param(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        match self.param(name) {
            None | Some("") => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::param(format!(
                    "{name} must be an integer in [{min}, {max}], got {v:?}"
                ))),
            },
        }
    }
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);

fn new_request_id(now: UnixNanos) -> String {
    // 24 upper-case hex digits like SLS: seconds, then a process-wide counter.
    let n = REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:08X}{:016X}", now.secs() as u32, n)
}

/// Serves one SLS request; see the module docs. Every response leaves with
/// `x-log-requestid`, errors and unknown paths included. Fault rules (if any) act around the
/// handler: before it (errors, latency, drops) or after it (the answer to a committed request
/// lost).
pub(super) async fn serve(State(st): State<AppState>, req: Request) -> Response {
    // One wall-clock read: the base time checks signature dates, the emulator's (possibly
    // moved) time is the request's `now`.
    let base_nanos = st.clock.base_nanos();
    let now = UnixNanos(st.clock.at_base(base_nanos));
    let request_id = new_request_id(now);
    let span = tracing::debug_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        action = tracing::field::Empty,
        request_id = %request_id
    );
    async move {
        let mut resp = match prepare(&st, req, base_nanos, now).await {
            Ok(p) => {
                tracing::Span::current().record("action", tracing::field::debug(p.action.kind()));
                let call = Call {
                    st: &st,
                    ctx: &p.ctx,
                    headers: &p.headers,
                    body: &p.body,
                };
                match p.fault {
                    None => into_response(dispatch(&p.action, &call).await),
                    Some(decision) => with_fault(decision, &p.action, &call).await,
                }
            }
            Err(e) => e.into_response(),
        };
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert(headers::X_LOG_REQUESTID, v);
        }
        let status = resp.status();
        match resp.extensions().get::<ErrorTag>() {
            Some(ErrorTag(code)) if status.is_server_error() => {
                tracing::error!(status = status.as_u16(), code = &**code, "request failed")
            }
            Some(ErrorTag(code)) => {
                tracing::debug!(status = status.as_u16(), code = &**code, "request rejected")
            }
            None => tracing::trace!(status = status.as_u16(), "request served"),
        }
        resp
    }
    .instrument(span)
    .await
}

fn into_response(r: Result<Response, ApiError>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// Applies a fault decision around the handler.
async fn with_fault(decision: Decision, action: &Action, call: &Call<'_>) -> Response {
    match decision {
        Decision::Error {
            status,
            code,
            message,
        } => injected_error(status, &code, &message),
        Decision::Delay(d) => {
            tokio::time::sleep(d).await;
            into_response(dispatch(action, call).await)
        }
        Decision::Drop => lost_answer(),
        Decision::After(after) => {
            // The request runs to completion (and commits) whatever happens to its answer.
            drop(dispatch(action, call).await);
            match after {
                AfterCommit::Error => ApiError::new(
                    ErrorCode::InternalServerError,
                    "fault injected after commit",
                )
                .into_response(),
                AfterCommit::Reset => lost_answer(),
                AfterCommit::Hang(d) => {
                    tokio::time::sleep(d).await;
                    lost_answer()
                }
            }
        }
    }
}

/// An SLS error with any status and code (fault injection).
fn injected_error(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_response(status, code.to_string(), message)
}

/// A response whose body fails at once: hyper then closes the connection without sending
/// anything, so the client sees the connection drop with no answer.
fn lost_answer() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("answer lost (fault injection)"))
    });
    Response::new(Body::from_stream(stream))
}

/// A request that passed every check, ready for its handler.
struct Prepared {
    action: Action,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
    fault: Option<Decision>,
}

/// Reads and checks everything about a request before its handler; decides its fault, if any.
async fn prepare(
    st: &AppState,
    req: Request,
    base_nanos: i64,
    now: UnixNanos,
) -> Result<Prepared, ApiError> {
    let (parts, body) = req.into_parts();
    let authority = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| header_str(&parts.headers, headers::HOST).map(str::to_string))
        .unwrap_or_default();
    let project = project_from_host(&authority, &st.config.endpoint_domain);
    let query = Query::parse(parts.uri.query().unwrap_or(""));
    if let Some(len) =
        header_str(&parts.headers, "content-length").and_then(|v| v.parse::<usize>().ok())
    {
        if len > super::MAX_WIRE_BODY {
            return Err(too_large(len));
        }
    }
    let body = axum::body::to_bytes(body, super::MAX_WIRE_BODY)
        .await
        .map_err(|_| too_large(super::MAX_WIRE_BODY + 1))?;
    // Clients date their requests by their own clocks: skew is checked against the base
    // clock, so moving the emulator's virtual time does not break signatures.
    let who = check_auth(st, &parts, query.pairs(), base_nanos, now)?;
    let action = Action::parse(&parts.method, parts.uri.path(), &query, project.is_some())?;
    let client = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    // Authorization comes before fault rules and the handler: a refused request does nothing.
    if let Some(who) = &who {
        st.access.authorize(
            who,
            &action,
            project.as_deref(),
            &body,
            client.map(|c| c.ip()),
            now,
        )?;
    }
    let fault = if st.faults.active() {
        let info = RequestInfo::of(&action, &query, project.as_deref());
        st.faults.decide(&info, now)
    } else {
        None
    };
    Ok(Prepared {
        action,
        ctx: Ctx {
            project,
            query,
            now,
            client,
        },
        headers: parts.headers,
        body,
        fault,
    })
}

fn too_large(len: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PostBodyTooLarge,
        format!(
            "request body of {len} bytes is larger than sls-emu accepts ({} bytes)",
            super::MAX_WIRE_BODY
        ),
    )
}

/// A header as text, if present and visible ASCII.
pub fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Authenticates a request: `Ok(None)` when signatures are off (anyone may call), else the
/// credential that signed it (known, enabled, its STS token and expiry checked, signature
/// verified).
fn check_auth(
    st: &AppState,
    parts: &Parts,
    query: &[(String, String)],
    base_nanos: i64,
    now: UnixNanos,
) -> Result<Option<Arc<Credential>>, ApiError> {
    let Some(raw) = parts.headers.get(headers::AUTHORIZATION) else {
        return match st.config.auth {
            AuthMode::Off => Ok(None),
            AuthMode::Verify => Err(ApiError::new(
                ErrorCode::Unauthorized,
                "missing Authorization header (sign requests with the emulator's access key, or start it with --auth off)",
            )),
        };
    };
    let raw = raw
        .to_str()
        .map_err(|_| ApiError::new(ErrorCode::Unauthorized, "Authorization header is not ASCII"))?;
    let auth = Authorization::parse(raw)?;
    if st.config.auth == AuthMode::Off {
        return Ok(None);
    }
    let who = st.access.authenticate(
        auth.access_key_id(),
        header_str(&parts.headers, headers::X_ACS_SECURITY_TOKEN),
        now,
    )?;
    check_skew(st, &parts.headers, &auth, base_nanos)?;
    let header_pairs: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let host_pair;
    let mut headers_with_host = header_pairs;
    // An absolute-form request may arrive without a Host header; V4 signs the host.
    if !headers_with_host
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("host"))
    {
        if let Some(a) = parts.uri.authority() {
            host_pair = ("host".to_string(), a.as_str().to_string());
            headers_with_host.push(host_pair);
        }
    }
    let sign_req = SignRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query,
        headers: &headers_with_host,
    };
    signature::verify(&auth, who.secret(), &sign_req).map_err(|e| match e {
        sls_protocol::ProtocolError::SignatureMismatch => ApiError::new(
            ErrorCode::SignatureNotMatch,
            "signature does not match: check the AccessKeySecret",
        ),
        other => ApiError::from(other),
    })?;
    Ok(Some(who))
}

fn check_skew(
    st: &AppState,
    h: &HeaderMap,
    auth: &Authorization,
    now_nanos: i64,
) -> Result<(), ApiError> {
    if st.config.max_skew_secs == 0 {
        return Ok(());
    }
    let when = match auth {
        Authorization::V4 { .. } => {
            let v = header_str(h, headers::X_LOG_DATE).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::MissingDate,
                    "x-log-date header is required with SLS4-HMAC-SHA256",
                )
            })?;
            chrono::NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%SZ")
                .map(|t| t.and_utc().timestamp())
                .map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidDateFormat,
                        format!("x-log-date {v:?} is not yyyyMMddTHHmmssZ"),
                    )
                })?
        }
        Authorization::V1 { .. } => {
            let v = header_str(h, headers::DATE)
                .ok_or_else(|| ApiError::new(ErrorCode::MissingDate, "Date header is required"))?;
            chrono::DateTime::parse_from_rfc2822(v)
                .map(|t| t.timestamp())
                .map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidDateFormat,
                        format!("Date {v:?} is not an RFC 1123 date"),
                    )
                })?
        }
    };
    let now = now_nanos.div_euclid(1_000_000_000);
    let skew = now.abs_diff(when);
    if skew > st.config.max_skew_secs {
        return Err(ApiError::new(
            ErrorCode::RequestTimeExpired,
            format!(
                "request time is {skew} s away from the server time (limit {} s)",
                st.config.max_skew_secs
            ),
        ));
    }
    Ok(())
}

/// Parses a JSON request body into an object, or `PostBodyInvalid`.
pub fn json_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::new(
            ErrorCode::PostBodyInvalid,
            "request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::new(
            ErrorCode::PostBodyInvalid,
            format!("request body is not valid JSON: {e}"),
        )),
    }
}

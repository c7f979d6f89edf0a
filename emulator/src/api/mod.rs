//! HTTP only: the router, the request middleware (request id, addressing, auth, body limit)
//! and one module per API group. Handlers extract validated input, call the store, and shape
//! the wire answer; rules live in `model`, persistence in `storage`.

mod admin;
mod consumer_group;
mod extract;
mod logs;
mod logstore;
mod project;
mod shard;

use axum::routing::any;
use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;

/// Largest request body read off the wire (10 MiB raw limit plus room for incompressible
/// compressed bodies); anything larger gets `PostBodyTooLarge` before it is buffered.
pub const MAX_WIRE_BODY: usize = 10 * 1024 * 1024 + 64 * 1024;

/// The SLS API router. Paths are dispatched on method and query (`type=`, `action=`) inside
/// each handler, as SLS overloads them (SLS-API.md §4.1).
pub fn router(state: AppState) -> Router {
    let sls = Router::new()
        .route("/", any(project::root))
        .route("/logstores", any(logstore::collection))
        .route("/logstores/{logstore}", any(logstore::item))
        .route("/logstores/{logstore}/shards", any(shard::collection))
        .route("/logstores/{logstore}/shards/{shard}", any(shard::item))
        .route(
            "/logstores/{logstore}/consumergroups",
            any(consumer_group::collection),
        )
        .route(
            "/logstores/{logstore}/consumergroups/{group}",
            any(consumer_group::item),
        )
        .fallback(unknown_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            extract::middleware,
        ));
    Router::new()
        .nest("/_sls-emu", admin::router())
        .merge(sls)
        .with_state(state)
}

async fn unknown_route(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    unsupported(&method, uri.path())
}

/// The answer for a route/method the emulator does not serve.
pub(crate) fn unsupported(method: &axum::http::Method, path: &str) -> ApiError {
    ApiError::param(format!(
        "sls-emu does not support {method} {path} (see the supported API table in the README)"
    ))
}

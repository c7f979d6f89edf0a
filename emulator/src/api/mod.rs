//! HTTP only. Every SLS request goes through [`serve`]: request id, Host → project, body
//! limit, signature check, [`Action`] parse, fault rules, then one exhaustive `match` on the
//! action ([`dispatch`]) to its handler. Handlers take validated input, call one store
//! method, and shape the wire answer; rules live in `model`, persistence in `storage`.
//!
//! Handlers by file: `project` (the five `/` APIs), `logstore`, `shard` (ListShards and the
//! shard lifecycle), `put` (PutLogs), `read` (GetCursor, GetCursorTime, PullLogs),
//! `consumer_group` (the group's CRUD, heartbeats and checkpoints), `query` (indexes,
//! GetLogs, GetHistograms, GetProjectLogs); `admin` is the emulator's
//! own `/_sls-emu` API.

mod admin;
mod consumer_group;
mod logstore;
mod project;
mod put;
mod query;
mod read;
mod request;
mod shard;

use axum::http::HeaderMap;
use axum::response::Response;
use axum::Router;
use bytes::Bytes;

use crate::action::Action;
use crate::error::ApiError;
use crate::state::AppState;
pub use request::Ctx;

/// Largest request body read off the wire (10 MiB raw limit plus room for incompressible
/// compressed bodies); anything larger gets `PostBodyTooLarge` before it is buffered.
pub const MAX_WIRE_BODY: usize = 10 * 1024 * 1024 + 64 * 1024;

/// The emulator's HTTP application: the admin API under `/_sls-emu`, every other path is
/// the SLS API. Serve it on any listener, or call it without a socket in tests
/// (`tower::ServiceExt::oneshot`).
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest("/_sls-emu", admin::router())
        .fallback(request::serve)
        .with_state(state)
}

/// One SLS request after the checks: what a handler gets.
pub(crate) struct Call<'a> {
    /// Shared state.
    pub st: &'a AppState,
    /// Project, query, time, client address.
    pub ctx: &'a Ctx,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// The buffered body.
    pub body: &'a Bytes,
}

/// Runs an action's handler. Exhaustive: a new [`Action`] does not compile until it is
/// served here.
pub(crate) async fn dispatch(action: &Action, c: &Call<'_>) -> Result<Response, ApiError> {
    match action {
        Action::CreateProject => project::create(c).await,
        Action::ListProject => project::list(c),
        Action::GetProject => project::get(c),
        Action::UpdateProject => project::update(c).await,
        Action::DeleteProject => project::delete(c).await,
        Action::CreateLogStore => logstore::create(c).await,
        Action::ListLogStores => logstore::list(c),
        Action::GetLogStore { logstore } => logstore::get(c, logstore),
        Action::UpdateLogStore { logstore } => logstore::update(c, logstore).await,
        Action::DeleteLogStore { logstore } => logstore::delete(c, logstore).await,
        Action::PutLogs { logstore, route } => put::put_logs(c, logstore, *route).await,
        Action::ListShards { logstore } => shard::list(c, logstore),
        Action::SplitShard { logstore, shard } => shard::split(c, logstore, *shard).await,
        Action::MergeShards { logstore, shard } => shard::merge(c, logstore, *shard).await,
        Action::DeleteShard { logstore, shard } => shard::delete(c, logstore, *shard).await,
        Action::GetCursor { logstore, shard } => read::get_cursor(c, logstore, *shard).await,
        Action::GetCursorTime { logstore, shard } => read::get_cursor_time(c, logstore, *shard),
        Action::PullLogs { logstore, shard } => read::pull_logs(c, logstore, *shard).await,
        Action::CreateConsumerGroup { logstore } => consumer_group::create(c, logstore).await,
        Action::ListConsumerGroup { logstore } => consumer_group::list(c, logstore),
        Action::UpdateConsumerGroup { logstore, group } => {
            consumer_group::update(c, logstore, group).await
        }
        Action::DeleteConsumerGroup { logstore, group } => {
            consumer_group::delete(c, logstore, group).await
        }
        Action::ConsumerGroupHeartBeat { logstore, group } => {
            consumer_group::heartbeat(c, logstore, group)
        }
        Action::ConsumerGroupUpdateCheckPoint { logstore, group } => {
            consumer_group::update_checkpoint(c, logstore, group).await
        }
        Action::GetCheckPoint { logstore, group } => {
            consumer_group::get_checkpoints(c, logstore, group)
        }
        Action::CreateIndex { logstore } => query::create_index(c, logstore).await,
        Action::UpdateIndex { logstore } => query::update_index(c, logstore).await,
        Action::GetIndex { logstore } => query::get_index(c, logstore),
        Action::DeleteIndex { logstore } => query::delete_index(c, logstore).await,
        Action::GetLogs { logstore, v2 } => query::get_logs(c, logstore, *v2).await,
        Action::GetHistograms { logstore } => query::get_histograms(c, logstore).await,
        Action::GetProjectLogs => query::get_project_logs(c).await,
    }
}

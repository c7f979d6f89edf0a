//! The action table: every SLS API the emulator serves, parsed once per request from
//! `(method, path, query, Host)` into an [`Action`].
//!
//! SLS overloads its paths (SLS-API.md §4.1): `/` is five APIs told apart by method and Host,
//! `/shards/{id}` carries PutLogs, GetCursor, PullLogs and SplitShard by method, `type=` and
//! `action=`. This is the only place that knows those rules. The request path then matches
//! exhaustively on the [`Action`] (api/mod.rs), fault rules match on it ([`crate::faults`]),
//! and the request's tracing span names it, so a new endpoint is a variant here plus its
//! handler, and the compiler points at everything else.

use std::borrow::Cow;

use axum::http::Method;
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use sls_protocol::hash::parse_hash_key;
use sls_protocol::types::ShardId;

use crate::error::ApiError;
pub use crate::storage::Route;

/// One SLS API call with the names its path and query carry. Projects come from the Host
/// (see [`crate::model::host`]). [`ActionKind`], the same list without the data (what fault
/// rules and logs name), is derived from it.
#[derive(Debug, Clone, PartialEq, Eq, strum::EnumDiscriminants)]
#[strum_discriminants(name(ActionKind), derive(Hash, Serialize, Deserialize))]
#[strum_discriminants(doc = "An [`Action`] without its data: what fault rules and logs name.")]
pub enum Action {
    /// `POST /` (name in the body, else the Host).
    CreateProject,
    /// `GET /` without a project in the Host.
    ListProject,
    /// `GET /` on a project host.
    GetProject,
    /// `PUT /` on a project host.
    UpdateProject,
    /// `DELETE /` on a project host.
    DeleteProject,
    /// `POST /logstores`.
    CreateLogStore,
    /// `GET /logstores`.
    ListLogStores,
    /// `GET /logstores/{ls}`.
    GetLogStore {
        /// Logstore.
        logstore: String,
    },
    /// `PUT /logstores/{ls}`.
    UpdateLogStore {
        /// Logstore.
        logstore: String,
    },
    /// `DELETE /logstores/{ls}`.
    DeleteLogStore {
        /// Logstore.
        logstore: String,
    },
    /// PutLogs (PostLogStoreLogs): `POST /logstores/{ls}/shards/lb|route`, `POST /logstores/{ls}`.
    PutLogs {
        /// Logstore.
        logstore: String,
        /// Shard choice.
        route: Route,
    },
    /// `GET /logstores/{ls}/shards`.
    ListShards {
        /// Logstore.
        logstore: String,
    },
    /// `POST /logstores/{ls}/shards/{id}?action=split`.
    SplitShard {
        /// Logstore.
        logstore: String,
        /// The shard to split.
        shard: ShardId,
    },
    /// `POST /logstores/{ls}/shards/{id}?action=merge`.
    MergeShards {
        /// Logstore.
        logstore: String,
        /// The left shard of the pair.
        shard: ShardId,
    },
    /// `DELETE /logstores/{ls}/shards/{id}`.
    DeleteShard {
        /// Logstore.
        logstore: String,
        /// Shard.
        shard: ShardId,
    },
    /// `GET /logstores/{ls}/shards/{id}?type=cursor`.
    GetCursor {
        /// Logstore.
        logstore: String,
        /// Shard.
        shard: ShardId,
    },
    /// `GET /logstores/{ls}/shards/{id}?type=cursor_time`.
    GetCursorTime {
        /// Logstore.
        logstore: String,
        /// Shard.
        shard: ShardId,
    },
    /// `GET /logstores/{ls}/shards/{id}?type=log|logs`.
    PullLogs {
        /// Logstore.
        logstore: String,
        /// Shard.
        shard: ShardId,
    },
    /// `POST /logstores/{ls}/consumergroups`.
    CreateConsumerGroup {
        /// Logstore.
        logstore: String,
    },
    /// `GET /logstores/{ls}/consumergroups`.
    ListConsumerGroup {
        /// Logstore.
        logstore: String,
    },
    /// `PUT /logstores/{ls}/consumergroups/{cg}`.
    UpdateConsumerGroup {
        /// Logstore.
        logstore: String,
        /// Consumer group.
        group: String,
    },
    /// `DELETE /logstores/{ls}/consumergroups/{cg}`.
    DeleteConsumerGroup {
        /// Logstore.
        logstore: String,
        /// Consumer group.
        group: String,
    },
    /// `POST /logstores/{ls}/consumergroups/{cg}?type=heartbeat&consumer=`.
    ConsumerGroupHeartBeat {
        /// Logstore.
        logstore: String,
        /// Consumer group.
        group: String,
    },
    /// `POST /logstores/{ls}/consumergroups/{cg}?type=checkpoint`.
    ConsumerGroupUpdateCheckPoint {
        /// Logstore.
        logstore: String,
        /// Consumer group.
        group: String,
    },
    /// `GET /logstores/{ls}/consumergroups/{cg}[?shard=]`.
    GetCheckPoint {
        /// Logstore.
        logstore: String,
        /// Consumer group.
        group: String,
    },
    /// `POST /logstores/{ls}/index`.
    CreateIndex {
        /// Logstore.
        logstore: String,
    },
    /// `PUT /logstores/{ls}/index`.
    UpdateIndex {
        /// Logstore.
        logstore: String,
    },
    /// `GET /logstores/{ls}/index`.
    GetIndex {
        /// Logstore.
        logstore: String,
    },
    /// `DELETE /logstores/{ls}/index`.
    DeleteIndex {
        /// Logstore.
        logstore: String,
    },
    /// GetLogs: `GET /logstores/{ls}?type=log` (v1) or `POST /logstores/{ls}/logs` (v2, JSON
    /// body).
    GetLogs {
        /// Logstore.
        logstore: String,
        /// The v2 call (parameters in a JSON body, answer `{"meta","data"}`).
        v2: bool,
    },
    /// `GET /logstores/{ls}?type=histogram`, and `GET /logstores/{ls}/index?type=histogram`
    /// (the Java SDK's path).
    GetHistograms {
        /// Logstore.
        logstore: String,
    },
    /// `GET /logs` on a project host: SQL over the project's logstores.
    GetProjectLogs,
}

/// The query parameters of a request, decoded, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Decodes a raw query string (`a=1&b=2`).
    pub fn parse(raw: &str) -> Query {
        Query(
            form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// First value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// First value of a parameter, if present and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Every pair, in order (what signatures cover).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

impl Action {
    /// Parses a request line. `has_project` says whether the Host named a project (it tells
    /// GetProject from ListProject). Requests the emulator does not serve get the SLS error
    /// a client can act on (`ParameterInvalid` naming what is wrong).
    pub fn parse(
        method: &Method,
        path: &str,
        query: &Query,
        has_project: bool,
    ) -> Result<Action, ApiError> {
        let segments = path_segments(path)?;
        let seg: Vec<&str> = segments.iter().map(|s| s.as_ref()).collect();
        let m = method;
        let unsupported = || unsupported(method, path);
        let ls = |s: &str| s.to_string();
        Ok(match seg.as_slice() {
            [] => match (m, has_project) {
                (&Method::GET, false) => Action::ListProject,
                (&Method::GET, true) => Action::GetProject,
                (&Method::POST, _) => Action::CreateProject,
                (&Method::PUT, true) => Action::UpdateProject,
                (&Method::DELETE, true) => Action::DeleteProject,
                _ => return Err(unsupported()),
            },
            ["logstores"] => match *m {
                Method::GET => Action::ListLogStores,
                Method::POST => Action::CreateLogStore,
                _ => return Err(unsupported()),
            },
            ["logstores", l] => {
                let logstore = ls(l);
                match (m, query.get("type")) {
                    (&Method::GET, None) => Action::GetLogStore { logstore },
                    (&Method::GET, Some("log" | "logs")) => Action::GetLogs {
                        logstore,
                        v2: false,
                    },
                    (&Method::GET, Some("histogram")) => Action::GetHistograms { logstore },
                    (&Method::GET, Some(t)) => {
                        return Err(ApiError::param(format!(
                            "type must be log or histogram, got {t:?}"
                        )))
                    }
                    (&Method::PUT, _) => Action::UpdateLogStore { logstore },
                    (&Method::DELETE, _) => Action::DeleteLogStore { logstore },
                    (&Method::POST, _) => put_logs(logstore, Route::LoadBalance, query)?,
                    _ => return Err(unsupported()),
                }
            }
            ["logstores", l, "index"] => {
                let logstore = ls(l);
                match (m, query.get("type")) {
                    (&Method::GET, Some("histogram")) => Action::GetHistograms { logstore },
                    (&Method::GET, _) => Action::GetIndex { logstore },
                    (&Method::POST, _) => Action::CreateIndex { logstore },
                    (&Method::PUT, _) => Action::UpdateIndex { logstore },
                    (&Method::DELETE, _) => Action::DeleteIndex { logstore },
                    _ => return Err(unsupported()),
                }
            }
            ["logstores", l, "logs"] => match *m {
                Method::POST => Action::GetLogs {
                    logstore: ls(l),
                    v2: true,
                },
                _ => return Err(unsupported()),
            },
            ["logs"] => match (m, has_project) {
                (&Method::GET, true) => Action::GetProjectLogs,
                (&Method::GET, false) => {
                    return Err(ApiError::param(
                        "GetProjectLogs needs a project in the Host (<project>.<endpoint>)",
                    ))
                }
                _ => return Err(unsupported()),
            },
            ["logstores", l, "shards"] => match *m {
                Method::GET => Action::ListShards { logstore: ls(l) },
                _ => return Err(unsupported()),
            },
            ["logstores", l, "shards", id] => shard_action(m, ls(l), id, query, &unsupported)?,
            ["logstores", l, "consumergroups"] => match *m {
                Method::GET => Action::ListConsumerGroup { logstore: ls(l) },
                Method::POST => Action::CreateConsumerGroup { logstore: ls(l) },
                _ => return Err(unsupported()),
            },
            ["logstores", l, "consumergroups", g] => {
                let (logstore, group) = (ls(l), g.to_string());
                match (m, query.get("type")) {
                    (&Method::POST, Some("heartbeat")) => {
                        Action::ConsumerGroupHeartBeat { logstore, group }
                    }
                    (&Method::POST, Some("checkpoint")) => {
                        Action::ConsumerGroupUpdateCheckPoint { logstore, group }
                    }
                    (&Method::POST, other) => {
                        return Err(ApiError::param(format!(
                            "type must be heartbeat or checkpoint, got {:?}",
                            other.unwrap_or("")
                        )))
                    }
                    (&Method::GET, _) => Action::GetCheckPoint { logstore, group },
                    (&Method::PUT, _) => Action::UpdateConsumerGroup { logstore, group },
                    (&Method::DELETE, _) => Action::DeleteConsumerGroup { logstore, group },
                    _ => return Err(unsupported()),
                }
            }
            _ => return Err(unsupported()),
        })
    }

    /// The variant without its data.
    pub fn kind(&self) -> ActionKind {
        ActionKind::from(self)
    }

    /// The logstore the action names, if any.
    pub fn logstore(&self) -> Option<&str> {
        match self {
            Action::CreateProject
            | Action::ListProject
            | Action::GetProject
            | Action::UpdateProject
            | Action::DeleteProject
            | Action::CreateLogStore
            | Action::ListLogStores
            | Action::GetProjectLogs => None,
            Action::GetLogStore { logstore }
            | Action::UpdateLogStore { logstore }
            | Action::DeleteLogStore { logstore }
            | Action::PutLogs { logstore, .. }
            | Action::ListShards { logstore }
            | Action::SplitShard { logstore, .. }
            | Action::MergeShards { logstore, .. }
            | Action::DeleteShard { logstore, .. }
            | Action::GetCursor { logstore, .. }
            | Action::GetCursorTime { logstore, .. }
            | Action::PullLogs { logstore, .. }
            | Action::CreateConsumerGroup { logstore }
            | Action::ListConsumerGroup { logstore }
            | Action::UpdateConsumerGroup { logstore, .. }
            | Action::DeleteConsumerGroup { logstore, .. }
            | Action::ConsumerGroupHeartBeat { logstore, .. }
            | Action::ConsumerGroupUpdateCheckPoint { logstore, .. }
            | Action::GetCheckPoint { logstore, .. }
            | Action::CreateIndex { logstore }
            | Action::UpdateIndex { logstore }
            | Action::GetIndex { logstore }
            | Action::DeleteIndex { logstore }
            | Action::GetLogs { logstore, .. }
            | Action::GetHistograms { logstore } => Some(logstore),
        }
    }

    /// The shard the path names, if any.
    pub fn shard(&self) -> Option<ShardId> {
        match self {
            Action::SplitShard { shard, .. }
            | Action::MergeShards { shard, .. }
            | Action::DeleteShard { shard, .. }
            | Action::GetCursor { shard, .. }
            | Action::GetCursorTime { shard, .. }
            | Action::PullLogs { shard, .. } => Some(*shard),
            _ => None,
        }
    }
}

/// The SLS API a request calls (what rules match on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Api {
    /// PutLogs / PostLogStoreLogs.
    PostLogStoreLogs,
    /// PullLogs.
    PullLogs,
    /// GetCursor.
    GetCursor,
    /// GetCursorTime.
    GetCursorTime,
    /// ListShards.
    ListShards,
    /// SplitShard / MergeShards / DeleteShard.
    ShardLifecycle,
    /// ConsumerGroupHeartBeat.
    Heartbeat,
    /// ConsumerGroupUpdateCheckPoint.
    UpdateCheckPoint,
    /// GetCheckPoint.
    GetCheckPoint,
    /// Consumer group create/update/delete/list.
    ConsumerGroupAdmin,
    /// Project, logstore and index management.
    Metadata,
    /// GetLogs, GetHistograms, GetProjectLogs.
    Query,
}

impl ActionKind {
    /// The API group fault rules have matched on since before the action table (rules keep
    /// working: `PullLogs`, `Heartbeat`, `ShardLifecycle`, `Metadata`, …).
    pub fn api(self) -> Api {
        use ActionKind as K;
        match self {
            K::PutLogs => Api::PostLogStoreLogs,
            K::PullLogs => Api::PullLogs,
            K::GetCursor => Api::GetCursor,
            K::GetCursorTime => Api::GetCursorTime,
            K::ListShards => Api::ListShards,
            K::SplitShard | K::MergeShards | K::DeleteShard => Api::ShardLifecycle,
            K::ConsumerGroupHeartBeat => Api::Heartbeat,
            K::ConsumerGroupUpdateCheckPoint => Api::UpdateCheckPoint,
            K::GetCheckPoint => Api::GetCheckPoint,
            K::CreateConsumerGroup
            | K::ListConsumerGroup
            | K::UpdateConsumerGroup
            | K::DeleteConsumerGroup => Api::ConsumerGroupAdmin,
            K::CreateProject
            | K::ListProject
            | K::GetProject
            | K::UpdateProject
            | K::DeleteProject
            | K::CreateLogStore
            | K::ListLogStores
            | K::GetLogStore
            | K::UpdateLogStore
            | K::DeleteLogStore
            | K::CreateIndex
            | K::UpdateIndex
            | K::GetIndex
            | K::DeleteIndex => Api::Metadata,
            K::GetLogs | K::GetHistograms | K::GetProjectLogs => Api::Query,
        }
    }
}

/// `/shards/{id}`: PutLogs (`lb`, `route`), the readers, split/merge, delete.
fn shard_action(
    m: &Method,
    logstore: String,
    id: &str,
    query: &Query,
    unsupported: &dyn Fn() -> ApiError,
) -> Result<Action, ApiError> {
    if *m == Method::POST && id == "lb" {
        return put_logs(logstore, Route::LoadBalance, query);
    }
    if *m == Method::POST && id == "route" {
        let key = query
            .non_empty("key")
            .ok_or_else(|| ApiError::param("PutLogs to /shards/route needs a key parameter"))?;
        let key = parse_hash_key(key)?;
        return put_logs(logstore, Route::HashKey { key, seqid: None }, query);
    }
    if !matches!(*m, Method::GET | Method::POST | Method::DELETE) {
        return Err(unsupported());
    }
    let shard = ShardId::parse(id)?;
    Ok(match *m {
        Method::GET => match query.get("type") {
            Some("cursor") => Action::GetCursor { logstore, shard },
            Some("cursor_time") => Action::GetCursorTime { logstore, shard },
            Some("log" | "logs") => Action::PullLogs { logstore, shard },
            other => {
                return Err(ApiError::param(format!(
                    "type must be cursor, cursor_time, log or logs, got {:?}",
                    other.unwrap_or("")
                )))
            }
        },
        Method::POST => match query.get("action") {
            Some("split") => Action::SplitShard { logstore, shard },
            Some("merge") => Action::MergeShards { logstore, shard },
            other => {
                return Err(ApiError::param(format!(
                    "action must be split or merge, got {:?}",
                    other.unwrap_or("")
                )))
            }
        },
        _ => Action::DeleteShard { logstore, shard },
    })
}

/// A PutLogs, with its `seqid=` checked against its route.
///
/// Public sources only show clients sending `seqid`: the Java SDK adds it (a Java `Integer`)
/// to `/shards/route` requests alone (aliyun/aliyun-log-java-sdk `Client.java`, `PutLogs`).
/// So: a decimal u64 (no sign, no spaces), and a `seqid` without a hash key is refused rather
/// than ignored, since the writer believes its replays are safe.
fn put_logs(logstore: String, route: Route, query: &Query) -> Result<Action, ApiError> {
    let route =
        match (route, query.get("seqid")) {
            (route, None) => route,
            (Route::HashKey { key, .. }, Some(text)) => Route::HashKey {
                key,
                seqid: Some(parse_seqid(text)?),
            },
            (Route::LoadBalance, Some(_)) => return Err(ApiError::param(
                "seqid needs a hash key: send the write to /shards/route?key=<hash key>&seqid=<n>",
            )),
        };
    Ok(Action::PutLogs { logstore, route })
}

/// A `seqid` value: decimal digits only, at most `u64::MAX`.
fn parse_seqid(text: &str) -> Result<u64, ApiError> {
    let invalid = || {
        ApiError::param(format!(
            "seqid must be a non-negative decimal integer of at most {}, got {text:?}",
            u64::MAX
        ))
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    text.parse().map_err(|_| invalid())
}

/// The path's segments, percent-decoded. `/` has none; an empty segment (`//`, a trailing
/// `/`) makes the path unknown, as SLS serves no such path.
fn path_segments(path: &str) -> Result<Vec<Cow<'_, str>>, ApiError> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    trimmed
        .split('/')
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .ok()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiError::param(format!("invalid path {path:?}")))
        })
        .collect()
}

/// The answer for a path/method the emulator does not serve.
pub fn unsupported(method: &Method, path: &str) -> ApiError {
    ApiError::param(format!(
        "sls-emu does not support {method} {path} (see the supported API table in the README)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::faults::RequestInfo;

    fn parse(method: Method, path: &str, query: &str, has_project: bool) -> Action {
        Action::parse(&method, path, &Query::parse(query), has_project).unwrap()
    }

    fn refuse(method: Method, path: &str, query: &str) -> ApiError {
        Action::parse(&method, path, &Query::parse(query), true).unwrap_err()
    }

    #[test]
    fn the_root_is_five_apis() {
        assert_eq!(parse(Method::GET, "/", "", false), Action::ListProject);
        assert_eq!(parse(Method::GET, "/", "", true), Action::GetProject);
        assert_eq!(parse(Method::POST, "/", "", false), Action::CreateProject);
        assert_eq!(parse(Method::PUT, "/", "", true), Action::UpdateProject);
        assert_eq!(parse(Method::DELETE, "/", "", true), Action::DeleteProject);
        assert!(Action::parse(&Method::PUT, "/", &Query::default(), false).is_err());
    }

    #[test]
    fn shard_paths_carry_puts_readers_and_the_lifecycle() {
        let ls = || "ls".to_string();
        let s3 = ShardId(3);
        assert_eq!(
            parse(Method::POST, "/logstores/ls/shards/lb", "", true),
            Action::PutLogs {
                logstore: ls(),
                route: Route::LoadBalance
            }
        );
        assert_eq!(
            parse(Method::POST, "/logstores/ls", "", true),
            Action::PutLogs {
                logstore: ls(),
                route: Route::LoadBalance
            }
        );
        assert_eq!(
            parse(
                Method::POST,
                "/logstores/ls/shards/route",
                "key=ff&seqid=7",
                true
            ),
            Action::PutLogs {
                logstore: ls(),
                route: Route::HashKey {
                    key: 0xff << 120,
                    seqid: Some(7)
                }
            }
        );
        assert_eq!(
            parse(Method::GET, "/logstores/ls/shards/3", "type=log", true),
            Action::PullLogs {
                logstore: ls(),
                shard: s3
            }
        );
        assert_eq!(
            parse(
                Method::GET,
                "/logstores/ls/shards/3",
                "type=cursor_time",
                true
            )
            .kind(),
            ActionKind::GetCursorTime
        );
        assert_eq!(
            parse(Method::POST, "/logstores/ls/shards/3", "action=merge", true).kind(),
            ActionKind::MergeShards
        );
        assert_eq!(
            parse(Method::DELETE, "/logstores/ls/shards/3", "", true).shard(),
            Some(s3)
        );
        for (m, path, q) in [
            (Method::POST, "/logstores/ls/shards/route", ""),
            (Method::POST, "/logstores/ls/shards/lb", "seqid=1"),
            (Method::POST, "/logstores/ls/shards/route", "key=1&seqid=-1"),
            (Method::GET, "/logstores/ls/shards/x", "type=log"),
            (Method::GET, "/logstores/ls/shards/3", "type=what"),
            (Method::POST, "/logstores/ls/shards/3", "action=join"),
            (Method::PUT, "/logstores/ls/shards/3", ""),
            (Method::GET, "/logstores/ls", "type=what"),
            (Method::PUT, "/logstores/ls/logs", ""),
            (Method::GET, "/logstores/", ""),
            (Method::GET, "/nope", ""),
        ] {
            let e = refuse(m.clone(), path, q);
            assert_eq!(e.code, ErrorCode::ParameterInvalid, "{m} {path}?{q}");
        }
    }

    #[test]
    fn query_paths_tell_apart_by_method_and_type() {
        let ls = || "ls".to_string();
        let kind = |m: Method, path: &str, q: &str| parse(m, path, q, true).kind();
        assert_eq!(
            parse(Method::GET, "/logstores/ls", "type=log&from=1", true),
            Action::GetLogs {
                logstore: ls(),
                v2: false
            }
        );
        assert_eq!(
            parse(Method::POST, "/logstores/ls/logs", "", true),
            Action::GetLogs {
                logstore: ls(),
                v2: true
            }
        );
        assert_eq!(
            kind(Method::GET, "/logstores/ls", "type=histogram"),
            ActionKind::GetHistograms
        );
        // The Java SDK asks for histograms on the index path.
        assert_eq!(
            kind(Method::GET, "/logstores/ls/index", "type=histogram"),
            ActionKind::GetHistograms
        );
        assert_eq!(
            kind(Method::GET, "/logstores/ls/index", ""),
            ActionKind::GetIndex
        );
        assert_eq!(
            kind(Method::POST, "/logstores/ls/index", ""),
            ActionKind::CreateIndex
        );
        assert_eq!(
            kind(Method::PUT, "/logstores/ls/index", ""),
            ActionKind::UpdateIndex
        );
        assert_eq!(
            kind(Method::DELETE, "/logstores/ls/index", ""),
            ActionKind::DeleteIndex
        );
        assert_eq!(
            kind(Method::GET, "/logs", "query=x"),
            ActionKind::GetProjectLogs
        );
        assert_eq!(ActionKind::GetLogs.api(), Api::Query);
        assert_eq!(ActionKind::CreateIndex.api(), Api::Metadata);
        // GetProjectLogs needs the project in the Host.
        let e = Action::parse(&Method::GET, "/logs", &Query::parse(""), false).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParameterInvalid);
    }

    #[test]
    fn consumer_group_paths_tell_apart_by_type() {
        let a = parse(
            Method::POST,
            "/logstores/ls/consumergroups/g",
            "type=heartbeat&consumer=c1",
            true,
        );
        assert_eq!(a.kind(), ActionKind::ConsumerGroupHeartBeat);
        let info = RequestInfo::of(&a, &Query::parse("type=heartbeat&consumer=c1"), Some("p"));
        assert_eq!(
            (info.api, info.consumer.as_deref(), info.logstore.as_deref()),
            (Some(Api::Heartbeat), Some("c1"), Some("ls"))
        );
        let get = parse(
            Method::GET,
            "/logstores/ls/consumergroups/g",
            "shard=2",
            true,
        );
        assert_eq!(
            RequestInfo::of(&get, &Query::parse("shard=2"), None).shard,
            Some(ShardId(2))
        );
        assert!(Action::parse(
            &Method::POST,
            "/logstores/ls/consumergroups/g",
            &Query::parse("type=x"),
            true
        )
        .is_err());
    }

    #[test]
    fn seqid_is_a_plain_decimal_u64() {
        assert_eq!(parse_seqid("0").unwrap(), 0);
        assert_eq!(parse_seqid("007").unwrap(), 7);
        assert_eq!(parse_seqid("18446744073709551615").unwrap(), u64::MAX);
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1.0",
            "0x10",
            "1e3",
            "abc",
            "18446744073709551616",
        ] {
            let e = parse_seqid(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::ParameterInvalid, "{bad:?}");
            assert!(e.message.contains("seqid"), "{bad:?}: {}", e.message);
        }
    }

    #[test]
    fn path_segments_are_percent_decoded() {
        assert_eq!(
            parse(Method::GET, "/logstores/my%2Dls", "", true).logstore(),
            Some("my-ls")
        );
    }
}

//! The application without a socket: requests go straight into [`sls_emulator::app`]
//! (`tower::ServiceExt::oneshot`), so routing, the action table and the error shape are
//! tested without ports, listeners or a client.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use sls_emulator::action::ActionKind;
use sls_emulator::clock::SystemClock;
use sls_emulator::config::{AuthMode, Config, Durability};
use sls_emulator::faults::{Action as Fault, Matcher, Rule, When};
use sls_emulator::state::AppState;
use sls_emulator::storage::Store;
use tower::ServiceExt;

struct App {
    state: AppState,
    _dir: tempfile::TempDir,
}

impl App {
    fn new() -> App {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data"), Durability::Buffered).unwrap();
        let config = Config {
            auth: AuthMode::Off,
            ..Config::default()
        };
        App {
            state: AppState::new(store, Arc::new(SystemClock), config),
            _dir: dir,
        }
    }

    /// Sends one request to a fresh router over the same state.
    async fn send(&self, method: &str, host: &str, uri: &str, body: Option<Value>) -> Response {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", host);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        sls_emulator::app(self.state.clone())
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap()
    }
}

async fn json_of(resp: Response) -> Value {
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

const HOST: &str = "router-test.localhost";

#[tokio::test]
async fn unknown_paths_get_an_sls_error_with_a_request_id() {
    let app = App::new();
    for (method, uri) in [
        ("GET", "/nope"),
        ("PATCH", "/logstores"),
        ("GET", "/logstores/"),
        ("PUT", "/logstores/ls/shards/0"),
    ] {
        let resp = app.send(method, HOST, uri, None).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{method} {uri}");
        assert!(resp.headers().contains_key("x-log-requestid"));
        let body = json_of(resp).await;
        assert_eq!(body["errorCode"], "ParameterInvalid", "{method} {uri}");
    }
    // The admin API shares the router but not the SLS request path.
    let resp = app.send("GET", HOST, "/_sls-emu/faults", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(!resp.headers().contains_key("x-log-requestid"));
}

#[tokio::test]
async fn metadata_round_trip_without_a_socket() {
    let app = App::new();
    let ok = |r: &Response| assert_eq!(r.status(), StatusCode::OK);
    ok(&app
        .send(
            "POST",
            HOST,
            "/",
            Some(json!({"projectName": "router-test"})),
        )
        .await);
    let body = json!({"logstoreName": "ls", "shardCount": 2, "ttl": 1});
    ok(&app.send("POST", HOST, "/logstores", Some(body)).await);
    let shards = json_of(app.send("GET", HOST, "/logstores/ls/shards", None).await).await;
    assert_eq!(shards.as_array().map(Vec::len), Some(2));
    let cursor = json_of(
        app.send(
            "GET",
            HOST,
            "/logstores/ls/shards/1?type=cursor&from=end",
            None,
        )
        .await,
    )
    .await;
    assert!(cursor["cursor"].is_string(), "{cursor}");
    let resp = app.send(
        "GET",
        HOST,
        "/logstores/ls/shards/9?type=cursor&from=end",
        None,
    );
    assert_eq!(json_of(resp.await).await["errorCode"], "ShardNotExist");
    let listed = json_of(app.send("GET", "localhost", "/", None).await).await;
    assert_eq!(listed["total"], 1);
}

/// A rule naming one exact action fires for it and for nothing else of its API group.
#[tokio::test]
async fn fault_rules_match_the_parsed_action() {
    let app = App::new();
    let created = app
        .send(
            "POST",
            HOST,
            "/",
            Some(json!({"projectName": "router-test"})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let body = json!({"logstoreName": "ls-a", "shardCount": 1, "ttl": 1});
    let created = app.send("POST", HOST, "/logstores", Some(body)).await;
    assert_eq!(created.status(), StatusCode::OK);
    app.state
        .faults
        .add(Rule {
            id: "no-delete".into(),
            matcher: Matcher {
                action: Some(ActionKind::DeleteLogStore),
                ..Matcher::default()
            },
            when: When::Always,
            action: Fault::Error {
                status: 503,
                code: "ServerBusy".into(),
                message: None,
            },
            times: None,
        })
        .unwrap();
    let get = app.send("GET", HOST, "/logstores/ls-a", None).await;
    assert_eq!(get.status(), StatusCode::OK, "same API group, other action");
    let del = app.send("DELETE", HOST, "/logstores/ls-a", None).await;
    assert_eq!(del.status(), StatusCode::SERVICE_UNAVAILABLE);
    let journal = app.state.faults.journal();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].info.action, Some(ActionKind::DeleteLogStore));
    assert_eq!(journal[0].info.logstore.as_deref(), Some("ls-a"));
    // Nothing was executed.
    let get = app.send("GET", HOST, "/logstores/ls-a", None).await;
    assert_eq!(get.status(), StatusCode::OK);
}

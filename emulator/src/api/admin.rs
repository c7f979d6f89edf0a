//! The admin API, `/_sls-emu/...` on any host, unsigned: fault rules, their journal, the seed,
//! the emulator's clock and per-shard quotas. SLS paths never start with `/_`, so it cannot be
//! mistaken for the SLS API. Answers are JSON; mistakes get 400 `{"error": "..."}`.
//!
//! | method and path | body / answer |
//! | --- | --- |
//! | `GET /_sls-emu/faults` | `{"seed", "rules": [{rule, "matched", "fired"}]}` |
//! | `POST /_sls-emu/faults` | a rule (see `faults::Rule`) → `{"id"}` |
//! | `DELETE /_sls-emu/faults[/{id}]` | remove all rules, or one |
//! | `GET /_sls-emu/journal` | every fault that fired, in order |
//! | `POST /_sls-emu/seed` | `{"seed": n}`: reseed, reset the journal and rule counters |
//! | `GET /_sls-emu/clock` | `{"now_ms", "offset_ms"}` |
//! | `POST /_sls-emu/clock` | `{"advance_secs": n}` or `{"set_secs": n}` |
//! | `GET`/`PUT /_sls-emu/quotas` | `faults::QuotaConfig` / its status with counters |
//! | `GET /_sls-emu/keys` | `{"account_id", "keys": [access::KeyInfo]}` (never secrets or tokens) |
//! | `PUT /_sls-emu/keys/{id}` | `access::KeySpec`: add or replace a key or STS credential |
//! | `DELETE /_sls-emu/keys/{id}` | remove a key |
//! | `PUT /_sls-emu/keys/{id}/policies/{name}` | a RAM policy document: attach or replace |
//! | `DELETE /_sls-emu/keys/{id}/policies/{name}` | detach (revoke) a policy |
//!
//! Key changes take effect on the next request. The owner key (`--access-key-id`) cannot be
//! changed here.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::access::{KeyError, KeySpec, PolicyDocument};
use crate::clock::Clock;
use crate::faults::{QuotaConfig, Rule};
use crate::state::AppState;

/// The admin routes (mounted under `/_sls-emu`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/faults",
            get(list_rules).post(add_rule).delete(clear_rules),
        )
        .route("/faults/{id}", delete(remove_rule))
        .route("/journal", get(journal))
        .route("/seed", axum::routing::post(reseed))
        .route("/clock", get(clock).post(move_clock))
        .route("/quotas", get(quotas).put(set_quotas))
        .route("/keys", get(list_keys))
        .route("/keys/{id}", put(put_key).delete(remove_key))
        .route(
            "/keys/{id}/policies/{name}",
            put(attach_policy).delete(detach_policy),
        )
}

fn bad(msg: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": msg.to_string()})),
    )
        .into_response()
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

async fn list_rules(State(st): State<AppState>) -> Json<Value> {
    let rules: Vec<Value> = st
        .faults
        .rules()
        .into_iter()
        .map(|(r, matched, fired)| {
            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("matched".into(), json!(matched));
                m.insert("fired".into(), json!(fired));
            }
            v
        })
        .collect();
    Json(json!({"seed": st.faults.seed(), "rules": rules}))
}

async fn add_rule(State(st): State<AppState>, body: axum::body::Bytes) -> Response {
    let rule: Rule = match parse(&body) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    match st.faults.add(rule) {
        Ok(id) => Json(json!({"id": id})).into_response(),
        Err(e) => bad(e),
    }
}

async fn clear_rules(State(st): State<AppState>) -> StatusCode {
    st.faults.clear();
    StatusCode::OK
}

async fn remove_rule(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    if st.faults.remove(&id) {
        StatusCode::OK.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no rule {id}")})),
        )
            .into_response()
    }
}

async fn journal(State(st): State<AppState>) -> Json<Value> {
    Json(serde_json::to_value(st.faults.journal()).unwrap_or(Value::Null))
}

async fn reseed(State(st): State<AppState>, body: axum::body::Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct Seed {
        seed: u64,
    }
    match parse::<Seed>(&body) {
        Ok(s) => {
            st.faults.reseed(s.seed);
            StatusCode::OK.into_response()
        }
        Err(e) => bad(e),
    }
}

fn clock_json(st: &AppState) -> Json<Value> {
    Json(json!({
        "now_ms": st.clock.now_nanos().div_euclid(1_000_000),
        "offset_ms": st.clock.offset_nanos().div_euclid(1_000_000),
    }))
}

async fn clock(State(st): State<AppState>) -> Json<Value> {
    clock_json(&st)
}

async fn move_clock(State(st): State<AppState>, body: axum::body::Bytes) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Move {
        advance_secs: Option<i64>,
        set_secs: Option<i64>,
    }
    match parse::<Move>(&body) {
        Ok(Move {
            advance_secs: Some(a),
            set_secs: None,
        }) => st.clock.advance_secs(a),
        Ok(Move {
            advance_secs: None,
            set_secs: Some(s),
        }) => st.clock.set_secs(s),
        Ok(_) => return bad("give exactly one of advance_secs and set_secs"),
        Err(e) => return bad(e),
    }
    clock_json(&st).into_response()
}

async fn quotas(State(st): State<AppState>) -> Json<Value> {
    Json(serde_json::to_value(st.faults.quotas().status()).unwrap_or(Value::Null))
}

async fn set_quotas(State(st): State<AppState>, body: axum::body::Bytes) -> Response {
    match parse::<QuotaConfig>(&body) {
        Ok(cfg) => {
            st.faults.quotas().set(cfg);
            StatusCode::OK.into_response()
        }
        Err(e) => bad(e),
    }
}

async fn list_keys(State(st): State<AppState>) -> Json<Value> {
    Json(json!({"account_id": st.access.account_id(), "keys": st.access.list()}))
}

fn key_result(r: Result<(), KeyError>) -> Response {
    match r {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e @ KeyError::NotFound(_)) => {
            (StatusCode::NOT_FOUND, Json(json!({"error": e.to_string()}))).into_response()
        }
        Err(e) => bad(e),
    }
}

async fn put_key(
    State(st): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    match parse::<KeySpec>(&body) {
        Ok(spec) => key_result(st.access.put(&id, spec, st.clock.now_secs())),
        Err(e) => bad(e),
    }
}

async fn remove_key(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    key_result(st.access.remove(&id))
}

async fn attach_policy(
    State(st): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    match parse::<PolicyDocument>(&body) {
        Ok(doc) => key_result(st.access.attach(&id, &name, doc)),
        Err(e) => bad(format!("not a RAM policy document: {e}")),
    }
}

async fn detach_policy(
    State(st): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    key_result(st.access.detach(&id, &name))
}

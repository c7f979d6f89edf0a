//! Projects: CreateProject, GetProject, UpdateProject, DeleteProject, ListProject — all on
//! `/`, told apart by method and by whether the Host names a project (SLS-API.md §4.2).

use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::extract::{json_object, Ctx, RawBody};
use crate::error::ApiError;
use crate::model::names::ProjectName;
use crate::state::AppState;
use crate::storage::ProjectRecord;

/// `/`: dispatch on method and Host.
pub async fn root(
    State(st): State<AppState>,
    ctx: Ctx,
    method: Method,
    body: RawBody,
) -> Result<Response, ApiError> {
    match (method.clone(), ctx.project.is_some()) {
        (Method::GET, false) => list(&st, &ctx),
        (Method::GET, true) => get(&st, &ctx),
        (Method::POST, _) => create(&st, &ctx, &body).await,
        (Method::PUT, true) => update(&st, &ctx, &body).await,
        (Method::DELETE, true) => delete(&st, &ctx).await,
        _ => Err(super::unsupported(&method, "/")),
    }
}

fn project_json(p: &ProjectRecord, region: &str) -> Value {
    json!({
        "projectName": p.name,
        "description": p.description,
        "status": "Normal",
        "owner": "",
        "region": region,
        "createTime": p.create_time.to_string(),
        "lastModifyTime": p.last_modify_time.to_string(),
        "dataRedundancyType": p.data_redundancy_type,
        "resourceGroupId": p.resource_group_id,
        "location": "",
    })
}

/// CreateProject: the name comes from the body (`projectName`), else from the Host.
async fn create(st: &AppState, ctx: &Ctx, body: &[u8]) -> Result<Response, ApiError> {
    let obj = json_object(body)?;
    let name = match obj.get("projectName") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ApiError::param("projectName must be a string")),
        None => ctx.project()?.to_string(),
    };
    let name = ProjectName::parse(&name)?;
    let description = str_field(&obj, "description")?.unwrap_or_default();
    if description.chars().count() > 512 {
        return Err(ApiError::param("description is longer than 512 characters"));
    }
    let redundancy = str_field(&obj, "dataRedundancyType")?.unwrap_or_else(|| "LRS".into());
    if redundancy != "LRS" && redundancy != "ZRS" {
        return Err(ApiError::param("dataRedundancyType must be LRS or ZRS"));
    }
    let now = ctx.now_secs();
    st.store
        .create_project(ProjectRecord {
            description,
            resource_group_id: str_field(&obj, "resourceGroupId")?.unwrap_or_default(),
            data_redundancy_type: redundancy,
            ..ProjectRecord::new(name.as_str(), now)
        })
        .await?;
    Ok(().into_response())
}

fn get(st: &AppState, ctx: &Ctx) -> Result<Response, ApiError> {
    let p = st.store.get_project(ctx.project()?)?;
    Ok(Json(project_json(&p, &st.config.region)).into_response())
}

/// ListProject: `offset`, `size` (≤ 500), optional `projectName` substring filter.
fn list(st: &AppState, ctx: &Ctx) -> Result<Response, ApiError> {
    let offset = ctx.int_param("offset", 0, 0, i64::MAX)?;
    let size = ctx.int_param("size", 100, 0, 500)?;
    let filter = ctx.param("projectName").unwrap_or("");
    let all: Vec<ProjectRecord> = st
        .store
        .list_projects()
        .into_iter()
        .filter(|p| p.name.contains(filter))
        .collect();
    let page: Vec<Value> = all
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(size).unwrap_or(0))
        .map(|p| project_json(p, &st.config.region))
        .collect();
    Ok(Json(json!({"count": page.len(), "total": all.len(), "projects": page})).into_response())
}

/// UpdateProject: only `description` can change.
async fn update(st: &AppState, ctx: &Ctx, body: &[u8]) -> Result<Response, ApiError> {
    let obj = json_object(body)?;
    let description = str_field(&obj, "description")?;
    let now = ctx.now_secs();
    st.store
        .update_project(ctx.project()?, |p| {
            if let Some(d) = description {
                p.description = d;
            }
            p.last_modify_time = now;
        })
        .await?;
    Ok(().into_response())
}

async fn delete(st: &AppState, ctx: &Ctx) -> Result<Response, ApiError> {
    st.store.delete_project(ctx.project()?).await?;
    Ok(().into_response())
}

/// An optional string field of a JSON body.
pub(super) fn str_field(
    obj: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::param(format!("{key} must be a string"))),
    }
}

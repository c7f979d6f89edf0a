//! Projects: CreateProject, GetProject, UpdateProject, DeleteProject, ListProject — all on
//! `/`, told apart by method and by whether the Host names a project (SLS-API.md §4.2; the
//! action table tells them apart).

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::request::json_object;
use super::Call;
use crate::error::ApiError;
use crate::model::names::ProjectName;
use crate::storage::ProjectRecord;

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
pub(super) async fn create(c: &Call<'_>) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    let obj = json_object(c.body)?;
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
    let now = ctx.now.secs();
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

/// GetProject.
pub(super) fn get(c: &Call<'_>) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    let p = st.store.get_project(ctx.project()?)?;
    Ok(Json(project_json(&p, &st.config.region)).into_response())
}

/// ListProject: `offset`, `size` (≤ 500), optional `projectName` substring filter.
pub(super) fn list(c: &Call<'_>) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
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
pub(super) async fn update(c: &Call<'_>) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
    let obj = json_object(c.body)?;
    let description = str_field(&obj, "description")?;
    let now = ctx.now.secs();
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

/// DeleteProject, with every logstore and its data.
pub(super) async fn delete(c: &Call<'_>) -> Result<Response, ApiError> {
    let (st, ctx) = (c.st, c.ctx);
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

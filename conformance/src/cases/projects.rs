//! Projects: ListProject vs GetProject on `/` (told apart by the Host), the project JSON,
//! create/update/delete, and the Host forms clients send (SLS-API.md §2.1–2.2, §4.2).

use serde_json::{json, Value};

use super::{check_fields, Kind};
use crate::case::{BoxFuture, Case, CaseCtx, CaseResult, Group, Resource};
use crate::client::{HostForm, Method, Request};
use crate::runner::poll_until;
use sls_protocol::proto::Message;

/// Fields of a GetProject object and of ListProject entries (§4.2; Rust SDK, REPORT §2.6).
const PROJECT_FIELDS: &[(&str, Kind)] = &[
    ("projectName", Kind::Str),
    ("description", Kind::Str),
    ("status", Kind::Str),
    ("owner", Kind::Str),
    ("region", Kind::Str),
    ("createTime", Kind::DigitStr),
    ("lastModifyTime", Kind::DigitStr),
    ("dataRedundancyType", Kind::Str),
];

pub(super) const CASES: &[Case] = &[
    Case {
        id: "projects.list-on-bare-host",
        group: Group::Projects,
        checks: "GET / with the bare endpoint as Host is ListProject: 200 JSON object with integer count and total and a projects array",
        source: "SLS-API.md §2.1, §4.1, §4.2, §13 pitfall 1; captures/python-sdk/ep_localhost_nss_myhostname/list_project",
        run: list_on_bare_host,
    },
    Case {
        id: "projects.get-on-project-host",
        group: Group::Projects,
        checks: "GET / with Host <project>.<endpoint> is GetProject: 200 JSON object whose projectName is that project",
        source: "SLS-API.md §2.1, §4.1, §4.2, §13 pitfall 1; captures/python-sdk/ep_localhost_nss_myhostname/get_project",
        run: get_on_project_host,
    },
    Case {
        id: "projects.get-fields",
        group: Group::Projects,
        checks: "GetProject carries projectName, description, status, owner, region, dataRedundancyType as strings and createTime/lastModifyTime as strings of unix seconds (not numbers)",
        source: "SLS-API.md §4.2, §12.10; clients/REPORT.md §2.6 (Rust SDK, Go unmarshals a string)",
        run: get_fields,
    },
    Case {
        id: "projects.list-entry-fields",
        group: Group::Projects,
        checks: "ListProject filtered by projectName lists the project, each entry with the GetProject fields and types",
        source: "SLS-API.md §4.2; clients/REPORT.md §2.6",
        run: list_entry_fields,
    },
    Case {
        id: "projects.list-paging",
        group: Group::Projects,
        checks: "ListProject size=1 returns count == len(projects) <= 1 and total >= 1; offset=total returns count 0 and no projects",
        source: "SLS-API.md §4.2",
        run: list_paging,
    },
    Case {
        id: "projects.create-update-delete",
        group: Group::Projects,
        checks: "CreateProject, UpdateProject and DeleteProject answer an empty 200 (no application/json); the description changes; afterwards GetProject is 404 ProjectNotExist",
        source: "SLS-API.md §2.6, §4.2, §13 pitfall 9; captures/node-alicloud-log/ep_localhost_nss_myhostname/createProject",
        run: create_update_delete,
    },
    Case {
        id: "projects.create-on-bare-host",
        group: Group::Projects,
        checks: "CreateProject sent to the bare endpoint Host with projectName in the body (Node, Rust) creates that project",
        source: "SLS-API.md §4.1, §4.2; clients/REPORT.md §1.2; captures/rust-sdk/ep_localhost_nss_myhostname/create_project",
        run: create_on_bare_host,
    },
    Case {
        id: "projects.host-without-port",
        group: Group::Projects,
        checks: "A project Host without the port (Python), while connecting to the endpoint's port, still addresses the project",
        source: "SLS-API.md §2.2, §12.5, §13 pitfall 1; clients/REPORT.md §1.2; captures/python-sdk/ep_localhost_nss_myhostname/get_project",
        run: host_without_port,
    },
    Case {
        id: "projects.host-with-port",
        group: Group::Projects,
        checks: "A project Host with an explicit port (Go, Rust, Node) addresses the project; the port is not part of the project name",
        source: "SLS-API.md §2.2, §2.3, §13 pitfall 1; clients/REPORT.md §1.2; captures/rust-sdk/ep_localhost_nss_myhostname/get_project",
        run: host_with_port,
    },
    Case {
        id: "projects.absolute-form-target",
        group: Group::Projects,
        checks: "A request whose target is the absolute URL http://<project>.<host>/path with no port (the Java SDK through ClientConfiguration's proxy) addresses the project, for a read and for a write (ListLogStores, then PutLogs and GetCursor)",
        source: "JAVA-GO-FLINK.md §2 (Java: proxy only via setProxyHost/Port; requests arrive in absolute form); RFC 9112 §3.2.2",
        run: absolute_form_target,
    },
];

/// GetProject with a given Host form; returns the JSON object.
async fn get_project(
    ctx: &mut CaseCtx,
    what: &str,
    project: &str,
    host: HostForm,
) -> Result<Value, crate::case::Stop> {
    let req = Request::new(Method::GET, "/").project(project).host(host);
    let resp = ctx.send(req).await?;
    ctx.require_json(what, &resp)
}

fn list_on_bare_host(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        // Exactly what the Python SDK sends (captures/.../list_project).
        let req = Request::new(Method::GET, "/")
            .query("offset", "0")
            .query("size", "100")
            .query("resourceGroupId", "");
        let resp = ctx.send(req).await?;
        let body = ctx.require_json("ListProject on the bare endpoint Host", &resp)?;
        check_fields(
            ctx,
            "ListProject",
            &body,
            &[
                ("count", Kind::Int),
                ("total", Kind::Int),
                ("projects", Kind::Array),
            ],
        )
    })
}

fn get_on_project_host(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let project = ctx.project().to_owned();
        let body = get_project(ctx, "GetProject", &project, HostForm::Default).await?;
        ctx.check_eq(
            "GetProject projectName",
            Some(project.as_str()),
            body.get("projectName").and_then(Value::as_str),
        )
    })
}

fn get_fields(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let project = ctx.project().to_owned();
        let body = get_project(ctx, "GetProject", &project, HostForm::Default).await?;
        check_fields(ctx, "GetProject", &body, PROJECT_FIELDS)
    })
}

fn list_entry_fields(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let project = ctx.project().to_owned();
        let req = Request::new(Method::GET, "/")
            .query("offset", "0")
            .query("size", "100")
            .query("projectName", project.clone());
        let resp = ctx.send(req).await?;
        let body = ctx.require_json("ListProject projectName=<run project>", &resp)?;
        let projects = body
            .get("projects")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let entry = projects
            .iter()
            .find(|p| p.get("projectName").and_then(Value::as_str) == Some(project.as_str()));
        ctx.check(
            "ListProject lists the run's project",
            format!("an entry with projectName {project:?}"),
            body.to_string(),
            entry.is_some(),
        )?;
        let entry = entry.cloned().unwrap_or(Value::Null);
        check_fields(ctx, "ListProject entry", &entry, PROJECT_FIELDS)
    })
}

fn list_paging(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let req = Request::new(Method::GET, "/")
            .query("offset", "0")
            .query("size", "1");
        let resp = ctx.send(req).await?;
        let body = ctx.require_json("ListProject size=1", &resp)?;
        let count = body.get("count").and_then(Value::as_u64);
        let total = body.get("total").and_then(Value::as_u64);
        let listed = body.get("projects").and_then(Value::as_array).map(Vec::len);
        ctx.check(
            "ListProject size=1: count equals the projects listed and is at most 1",
            "count == len(projects) <= 1",
            format!("count {count:?}, {listed:?} projects"),
            count.is_some() && count == listed.map(|n| n as u64) && count <= Some(1),
        )?;
        ctx.check(
            "ListProject size=1: total counts every project (the run's at least)",
            ">= 1",
            format!("{total:?}"),
            total.is_some_and(|t| t >= 1),
        )?;
        let total = total.unwrap_or(0);
        let req = Request::new(Method::GET, "/")
            .query("offset", total.to_string())
            .query("size", "100");
        let resp = ctx.send(req).await?;
        let body = ctx.require_json(format!("ListProject offset={total}"), &resp)?;
        ctx.check_eq(
            format!("ListProject offset={total}: count"),
            Some(0),
            body.get("count").and_then(Value::as_u64),
        )?;
        ctx.check_eq(
            format!("ListProject offset={total}: projects"),
            Some(0),
            body.get("projects").and_then(Value::as_array).map(Vec::len),
        )
    })
}

fn create_update_delete(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let name = ctx.temp_name("p");
        let req = Request::new(Method::POST, "/")
            .project(name.clone())
            .json(&json!({"projectName": name, "description": "sls-conformance temporary"}));
        let resp = ctx.send(req).await?;
        ctx.track(Resource::Project(name.clone()));
        ctx.check_empty_ok("CreateProject", &resp)?;
        let req = Request::new(Method::PUT, "/")
            .project(name.clone())
            .json(&json!({"description": "updated by sls-conformance"}));
        let resp = ctx.send(req).await?;
        ctx.check_empty_ok("UpdateProject", &resp)?;
        let body = get_project(ctx, "GetProject after update", &name, HostForm::Default).await?;
        ctx.check_eq(
            "GetProject description after UpdateProject",
            Some("updated by sls-conformance"),
            body.get("description").and_then(Value::as_str),
        )?;
        let resp = ctx
            .send(Request::new(Method::DELETE, "/").project(name.clone()))
            .await?;
        ctx.check_empty_ok("DeleteProject", &resp)?;
        // Real SLS may take a moment to forget a project.
        let client = ctx.client().clone();
        let req = Request::new(Method::GET, "/").project(name.clone());
        let resp = poll_until(ctx.settle(), || client.send(&req), |r| r.status == 404).await?;
        ctx.check_error(
            "GetProject after DeleteProject",
            &resp,
            &[404],
            &["ProjectNotExist"],
        )
    })
}

fn create_on_bare_host(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let name = ctx.temp_name("p");
        let req = Request::new(Method::POST, "/")
            .json(&json!({"projectName": name, "description": "sls-conformance temporary"}));
        let resp = ctx.send(req).await?;
        ctx.track(Resource::Project(name.clone()));
        ctx.check_empty_ok("CreateProject on the bare endpoint Host", &resp)?;
        let body = get_project(
            ctx,
            "GetProject of the new project",
            &name,
            HostForm::Default,
        )
        .await?;
        ctx.check_eq(
            "GetProject projectName",
            Some(name.as_str()),
            body.get("projectName").and_then(Value::as_str),
        )
    })
}

fn host_without_port(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let project = ctx.project().to_owned();
        let body = get_project(
            ctx,
            "GetProject with Host <project>.<host> (no port)",
            &project,
            HostForm::WithoutPort,
        )
        .await?;
        ctx.check_eq(
            "GetProject projectName",
            Some(project.as_str()),
            body.get("projectName").and_then(Value::as_str),
        )
    })
}

fn host_with_port(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let project = ctx.project().to_owned();
        let body = get_project(
            ctx,
            "GetProject with Host <project>.<host>:<port>",
            &project,
            HostForm::WithPort,
        )
        .await?;
        ctx.check_eq(
            "GetProject projectName",
            Some(project.as_str()),
            body.get("projectName").and_then(Value::as_str),
        )
    })
}

fn absolute_form_target(ctx: &mut CaseCtx) -> BoxFuture<'_, CaseResult> {
    Box::pin(async move {
        let project = ctx.project().to_owned();
        let body = get_project(
            ctx,
            "GetProject with an absolute-form target",
            &project,
            HostForm::Proxied,
        )
        .await?;
        ctx.check_eq(
            "GetProject projectName",
            Some(project.as_str()),
            body.get("projectName").and_then(Value::as_str),
        )?;
        let (logstore, _) = ctx.fixtures().all()[0];
        let logstore = logstore.to_owned();
        let req = Request::new(Method::POST, format!("/logstores/{logstore}/shards/lb"))
            .project(&project)
            .host(HostForm::Proxied)
            .protobuf(super::sample_group(ctx.case_id(), 2).encode_to_vec());
        let resp = ctx.send(req).await?;
        ctx.check_empty_ok("PutLogs with an absolute-form target", &resp)?;
        let req = Request::new(Method::GET, format!("/logstores/{logstore}/shards/0"))
            .project(&project)
            .host(HostForm::Proxied)
            .query("type", "cursor")
            .query("from", "begin");
        let resp = ctx.send(req).await?;
        let body = ctx.require_json("GetCursor with an absolute-form target", &resp)?;
        ctx.check(
            "GetCursor with an absolute-form target answers a cursor",
            "a cursor string",
            &body,
            body.get("cursor").and_then(Value::as_str).is_some(),
        )
    })
}

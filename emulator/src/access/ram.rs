//! Each entry of the action table as RAM sees it: the action name a policy must allow and the
//! resource ARN it is checked against, as the SLS "RAM authorization" page lists them
//! (alibabacloud.com/help/en/sls/developer-reference/api-sls-2020-12-30-ram, and each API's
//! "Authorization information" table). Names that live in the body (CreateProject,
//! CreateLogStore, CreateConsumerGroup) are read from it.

use serde_json::Value;

use crate::action::{Action, ActionKind};

/// Where a request is evaluated: its RAM action and resource ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RamRequest {
    /// `log:...`.
    pub action: &'static str,
    /// `acs:log:{region}:{account}:project/...`.
    pub resource: String,
}

impl ActionKind {
    /// The RAM action SLS checks for this API. GetCursor, GetCursorTime and PullLogs share
    /// `log:GetCursorOrData`; PutLogs is `log:PostLogStoreLogs`, GetCheckPoint
    /// `log:GetConsumerGroupCheckPoint`, MergeShards `log:MergeShard`, GetLogs
    /// `log:GetLogStoreLogs`, GetHistograms `log:GetLogStoreHistogram`. DeleteShard has no
    /// documented action; `log:DeleteShard` follows the pattern of the others.
    pub fn ram_action(self) -> &'static str {
        use ActionKind as K;
        match self {
            K::CreateProject => "log:CreateProject",
            K::ListProject => "log:ListProject",
            K::GetProject => "log:GetProject",
            K::UpdateProject => "log:UpdateProject",
            K::DeleteProject => "log:DeleteProject",
            K::CreateLogStore => "log:CreateLogStore",
            K::ListLogStores => "log:ListLogStores",
            K::GetLogStore => "log:GetLogStore",
            K::UpdateLogStore => "log:UpdateLogStore",
            K::DeleteLogStore => "log:DeleteLogStore",
            K::PutLogs => "log:PostLogStoreLogs",
            K::ListShards => "log:ListShards",
            K::SplitShard => "log:SplitShard",
            K::MergeShards => "log:MergeShard",
            K::DeleteShard => "log:DeleteShard",
            K::GetCursor | K::GetCursorTime | K::PullLogs => "log:GetCursorOrData",
            K::CreateConsumerGroup => "log:CreateConsumerGroup",
            K::ListConsumerGroup => "log:ListConsumerGroup",
            K::UpdateConsumerGroup => "log:UpdateConsumerGroup",
            K::DeleteConsumerGroup => "log:DeleteConsumerGroup",
            K::ConsumerGroupHeartBeat => "log:ConsumerGroupHeartBeat",
            K::ConsumerGroupUpdateCheckPoint => "log:ConsumerGroupUpdateCheckPoint",
            K::GetCheckPoint => "log:GetConsumerGroupCheckPoint",
            K::CreateIndex => "log:CreateIndex",
            K::UpdateIndex => "log:UpdateIndex",
            K::GetIndex => "log:GetIndex",
            K::DeleteIndex => "log:DeleteIndex",
            K::GetLogs => "log:GetLogStoreLogs",
            K::GetHistograms => "log:GetLogStoreHistogram",
            K::GetProjectLogs => "log:GetProjectLogs",
        }
    }
}

impl Action {
    /// The RAM action and resource of this request. `project` is the Host's; `body` is read
    /// only by the create calls that carry a name in it (a missing name reads as `*`, and the
    /// handler refuses the request once it is authorized).
    pub fn ram(
        &self,
        region: &str,
        account: &str,
        project: Option<&str>,
        body: &[u8],
    ) -> RamRequest {
        let body_name = |field: &str| -> Option<String> {
            match serde_json::from_slice::<Value>(body).ok()?.get(field)? {
                Value::String(s) => Some(s.clone()),
                _ => None,
            }
        };
        let project = match self {
            Action::CreateProject => body_name("projectName").or(project.map(str::to_string)),
            _ => project.map(str::to_string),
        };
        let p = project.as_deref().unwrap_or("*");
        let base = format!("acs:log:{region}:{account}:project/{p}");
        let resource = match self {
            Action::ListProject => format!("acs:log:{region}:{account}:project/*"),
            Action::CreateProject
            | Action::GetProject
            | Action::UpdateProject
            | Action::DeleteProject
            | Action::GetProjectLogs => base,
            Action::ListLogStores => format!("{base}/logstore/*"),
            Action::CreateLogStore => {
                let ls = body_name("logstoreName");
                format!("{base}/logstore/{}", ls.as_deref().unwrap_or("*"))
            }
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
            | Action::CreateIndex { logstore }
            | Action::UpdateIndex { logstore }
            | Action::GetIndex { logstore }
            | Action::DeleteIndex { logstore }
            | Action::GetLogs { logstore, .. }
            | Action::GetHistograms { logstore } => format!("{base}/logstore/{logstore}"),
            Action::ListConsumerGroup { logstore } => {
                format!("{base}/logstore/{logstore}/consumergroup/*")
            }
            Action::CreateConsumerGroup { logstore } => {
                let g = body_name("consumerGroup");
                format!(
                    "{base}/logstore/{logstore}/consumergroup/{}",
                    g.as_deref().unwrap_or("*")
                )
            }
            Action::UpdateConsumerGroup { logstore, group }
            | Action::DeleteConsumerGroup { logstore, group }
            | Action::ConsumerGroupHeartBeat { logstore, group }
            | Action::ConsumerGroupUpdateCheckPoint { logstore, group }
            | Action::GetCheckPoint { logstore, group } => {
                format!("{base}/logstore/{logstore}/consumergroup/{group}")
            }
        };
        RamRequest {
            action: self.kind().ram_action(),
            resource,
        }
    }
}

//! The data plane: PutLogs, GetCursor, GetCursorTime, PullLogs.

use bytes::Bytes;
use reqwest::Method;
use sls_protocol::body::{CursorBody, CursorTimeBody};
use sls_protocol::compression::{decompress, CompressType};
use sls_protocol::cursor::decode_cursor;
use sls_protocol::headers as h;
use sls_protocol::proto::{LogGroup, LogGroupList, Message};
use sls_protocol::types::ShardId;
use sls_protocol::ProtocolError;

use super::ls_path;
use crate::client::{Body, Client, Request};
use crate::error::{Error, Result};

/// Where GetCursor points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorFrom {
    /// The oldest retained LogGroup.
    Begin,
    /// After the newest (where the next write goes).
    End,
    /// The first LogGroup received at or after this unix time (seconds).
    Time(i64),
}

/// What PullLogs returned.
#[derive(Debug, Clone, PartialEq)]
pub struct PullResult {
    /// The LogGroups, in shard order.
    pub groups: Vec<LogGroup>,
    /// The cursor to read from next (equals the request cursor when nothing was returned).
    pub next_cursor: String,
    /// `x-log-end-of-cursor`: the shard's end was reached.
    pub end_of_cursor: bool,
}

impl Client {
    /// PutLogs: one LogGroup, load-balanced or (with `hash_key`, 32 hex digits or fewer) to the
    /// shard whose range holds the key. Compressed with the configured compression.
    pub async fn put_logs(
        &self,
        project: &str,
        logstore: &str,
        group: &LogGroup,
        hash_key: Option<&str>,
    ) -> Result<()> {
        let mut req = match hash_key {
            Some(k) => Request::new(
                Method::POST,
                Some(project),
                ls_path(logstore, "/shards/route"),
            )
            .query("key", k),
            None => Request::new(Method::POST, Some(project), ls_path(logstore, "/shards/lb")),
        };
        req.body = Body::LogGroup(group.encode_to_vec());
        self.send(req).await?;
        Ok(())
    }

    /// GetCursor.
    pub async fn get_cursor(
        &self,
        project: &str,
        logstore: &str,
        shard: impl Into<ShardId>,
        from: CursorFrom,
    ) -> Result<String> {
        let from = match from {
            CursorFrom::Begin => "begin".to_string(),
            CursorFrom::End => "end".to_string(),
            CursorFrom::Time(t) => t.to_string(),
        };
        let req = Request::new(
            Method::GET,
            Some(project),
            ls_path(logstore, &format!("/shards/{}", shard.into())),
        )
        .query("type", "cursor")
        .query("from", from);
        let a: CursorBody = self.send(req).await?.json()?;
        Ok(a.cursor.encode())
    }

    /// GetCursorTime: the receive time (unix seconds) of the LogGroup at `cursor`.
    pub async fn get_cursor_time(
        &self,
        project: &str,
        logstore: &str,
        shard: impl Into<ShardId>,
        cursor: &str,
    ) -> Result<i64> {
        let req = Request::new(
            Method::GET,
            Some(project),
            ls_path(logstore, &format!("/shards/{}", shard.into())),
        )
        .query("type", "cursor_time")
        .query("cursor", cursor);
        let a: CursorTimeBody = self.send(req).await?.json()?;
        Ok(a.cursor_time)
    }

    /// PullLogs: up to `count` (1–1000) LogGroups from `cursor`, stopping before `end_cursor`.
    pub async fn pull_logs(
        &self,
        project: &str,
        logstore: &str,
        shard: impl Into<ShardId>,
        cursor: &str,
        count: u32,
        end_cursor: Option<&str>,
    ) -> Result<PullResult> {
        let mut req = Request::new(
            Method::GET,
            Some(project),
            ls_path(logstore, &format!("/shards/{}", shard.into())),
        )
        .query("type", "log")
        .query("cursor", cursor)
        .query("count", count);
        if let Some(e) = end_cursor {
            req = req.query("end_cursor", e);
        }
        req.accept_encoding = Some(self.config().compression);
        let resp = self.send(req).await?;
        let header = |name: &str| {
            resp.header(name)
                .ok_or_else(|| Error::Decode(format!("PullLogs answer without {name}")))
        };
        let next_cursor = header(h::X_LOG_CURSOR)?.to_string();
        decode_cursor(&next_cursor).map_err(|e| Error::Decode(e.to_string()))?;
        let count: usize = header(h::X_LOG_COUNT)?
            .parse()
            .map_err(|_| Error::Decode("x-log-count".into()))?;
        let raw_size: usize = header(h::X_LOG_BODYRAWSIZE)?
            .parse()
            .map_err(|_| Error::Decode("x-log-bodyrawsize".into()))?;
        let kind = CompressType::from_header(resp.header(h::X_LOG_COMPRESSTYPE))
            .map_err(|e| Error::Decode(e.to_string()))?;
        let end_of_cursor = resp.header(h::X_LOG_END_OF_CURSOR) == Some("1");
        // Decoded from `Bytes`, the LogGroups' keys and values share the body's memory.
        let raw: Bytes = if kind == CompressType::None {
            if resp.body.len() != raw_size {
                let e = ProtocolError::RawSizeMismatch {
                    expected: raw_size,
                    actual: resp.body.len(),
                };
                return Err(Error::Decode(e.to_string()));
            }
            resp.body
        } else {
            decompress(kind, &resp.body, raw_size)
                .map_err(|e| Error::Decode(e.to_string()))?
                .into()
        };
        let list =
            LogGroupList::decode(raw).map_err(|e| Error::Decode(format!("LogGroupList: {e}")))?;
        if list.log_groups.len() != count {
            return Err(Error::Decode(format!(
                "x-log-count {count} but {} LogGroups in the body",
                list.log_groups.len()
            )));
        }
        Ok(PullResult {
            groups: list.log_groups,
            next_cursor,
            end_of_cursor,
        })
    }

    /// Every LogGroup stored in `logstore`, shard by shard in ListShards order, each shard from
    /// its oldest stored group to its end, with the shard it came from. For tests and tools
    /// that check what was written; a consumer reads with [`crate::Worker`] instead.
    ///
    /// # Errors
    /// The first failed ListShards, GetCursor or PullLogs.
    pub async fn read_all(
        &self,
        project: &str,
        logstore: &str,
    ) -> Result<Vec<(ShardId, LogGroup)>> {
        let mut out = Vec::new();
        for shard in self.list_shards(project, logstore).await? {
            let mut cursor = self
                .get_cursor(project, logstore, shard.id, CursorFrom::Begin)
                .await?;
            loop {
                let r = self
                    .pull_logs(project, logstore, shard.id, &cursor, 1000, None)
                    .await?;
                out.extend(r.groups.into_iter().map(|g| (shard.id, g)));
                if r.next_cursor == cursor {
                    break;
                }
                cursor = r.next_cursor;
            }
        }
        Ok(out)
    }
}

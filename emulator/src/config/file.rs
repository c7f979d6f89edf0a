//! The config file (`--config sls-emu.toml`, or `SLS_EMU_CONFIG`): access keys with their
//! policies, STS temporary credentials, and resources created at start. A commented example
//! is `sls-emu.example.toml` at the repository's root. Every mistake is reported with the line
//! it is on, and the emulator does not start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::access::{parse_expiration, Credential, Policy};
use crate::model::names::{ConsumerGroupName, LogstoreName, ProjectName};

/// A config file that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct FileError {
    /// The file.
    pub path: String,
    /// 1-based line (1 when the whole file is wrong).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The file, checked: ready to apply.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// The account id in ARNs, if set.
    pub account_id: Option<String>,
    /// Access keys and STS credentials.
    pub credentials: Vec<Credential>,
    /// Resources to create at start.
    pub projects: Vec<ProjectSpec>,
}

/// A project to create at start (if missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSpec {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Its logstores.
    pub logstores: Vec<LogstoreSpec>,
}

/// A logstore to create at start (if missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogstoreSpec {
    /// Name.
    pub name: String,
    /// Shard count (1..=256, default 2).
    pub shards: u32,
    /// Retention in days (1..=3650, default 30).
    pub ttl: u32,
    /// `appendMeta`.
    pub append_meta: bool,
    /// Its index (validated JSON, as GetIndex answers it), created at start when the
    /// logstore has none.
    pub index: Option<serde_json::Value>,
    /// Its consumer groups.
    pub consumer_groups: Vec<ConsumerGroupSpec>,
}

/// A consumer group to create at start (if missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupSpec {
    /// Name.
    pub name: String,
    /// Heartbeat timeout in seconds.
    pub timeout: u32,
    /// `order`.
    pub order: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    account_id: Option<Spanned<String>>,
    #[serde(default)]
    access_key: Vec<Spanned<RawKey>>,
    #[serde(default)]
    sts_token: Vec<Spanned<RawSts>>,
    #[serde(default)]
    policy: BTreeMap<String, Spanned<RawPolicy>>,
    #[serde(default)]
    project: Vec<Spanned<RawProject>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    id: Spanned<String>,
    secret: Spanned<String>,
    #[serde(default)]
    full_access: bool,
    #[serde(default)]
    policies: Vec<Spanned<String>>,
    #[serde(default = "yes")]
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSts {
    access_key_id: Spanned<String>,
    access_key_secret: Spanned<String>,
    security_token: Spanned<String>,
    expiration: Spanned<toml::Value>,
    #[serde(default)]
    full_access: bool,
    #[serde(default)]
    policies: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    document: Option<Spanned<String>>,
    file: Option<Spanned<PathBuf>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    logstore: Vec<Spanned<RawLogstore>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogstore {
    name: Spanned<String>,
    #[serde(default = "two")]
    shards: Spanned<u32>,
    #[serde(default = "thirty")]
    ttl: Spanned<u32>,
    #[serde(default)]
    append_meta: bool,
    /// The index JSON (what CreateIndex takes).
    index: Option<Spanned<String>>,
    #[serde(default)]
    consumer_group: Vec<Spanned<RawGroup>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: Spanned<String>,
    #[serde(default = "sixty")]
    timeout: Spanned<u32>,
    #[serde(default)]
    order: bool,
}

fn yes() -> bool {
    true
}
fn two() -> Spanned<u32> {
    Spanned::new(0..0, 2)
}
fn thirty() -> Spanned<u32> {
    Spanned::new(0..0, 30)
}
fn sixty() -> Spanned<u32> {
    Spanned::new(0..0, 60)
}

impl ConfigFile {
    /// Reads and checks a config file. Policy `file`s are relative to its folder.
    ///
    /// # Errors
    /// Unreadable, not TOML, unknown keys, bad values: each with its line.
    pub fn load(path: &Path) -> Result<ConfigFile, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError {
            path: path.display().to_string(),
            line: 1,
            message: format!("cannot read: {e}"),
        })?;
        ConfigFile::parse(&text, path)
    }

    /// Checks config text as if read from `path`.
    ///
    /// # Errors
    /// As [`ConfigFile::load`].
    pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, FileError> {
        let p = Parser { text, path };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| p.line(s.start));
            // toml's own message repeats the position and quotes the line; keep its last part.
            let message = e.message().to_string();
            p.err_at(line, message)
        })?;
        p.build(raw)
    }
}

struct Parser<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Parser<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    fn err_at(&self, line: usize, message: impl Into<String>) -> FileError {
        FileError {
            path: self.path.display().to_string(),
            line,
            message: message.into(),
        }
    }

    fn err<T>(&self, at: &Spanned<T>, message: impl Into<String>) -> FileError {
        self.err_at(self.line(at.span().start), message)
    }

    fn build(&self, raw: Raw) -> Result<ConfigFile, FileError> {
        let mut policies: BTreeMap<String, Arc<Policy>> = BTreeMap::new();
        for (name, entry) in &raw.policy {
            policies.insert(name.clone(), Arc::new(self.policy(name, entry)?));
        }
        let mut credentials = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for k in &raw.access_key {
            let k_ref = k.get_ref();
            let mut c = self.credential(&k_ref.id, &k_ref.secret, &mut seen)?;
            c.full_access = k_ref.full_access;
            c.enabled = k_ref.enabled;
            c.policies = self.attached(&k_ref.policies, &policies)?;
            if !c.full_access && c.policies.is_empty() {
                return Err(self.err(
                    k,
                    "this access key has no rights: set full_access = true or attach policies",
                ));
            }
            credentials.push(c);
        }
        for s in &raw.sts_token {
            let s_ref = s.get_ref();
            let mut c =
                self.credential(&s_ref.access_key_id, &s_ref.access_key_secret, &mut seen)?;
            if s_ref.security_token.get_ref().is_empty() {
                return Err(self.err(&s_ref.security_token, "security_token must not be empty"));
            }
            c.security_token = Some(s_ref.security_token.get_ref().clone());
            c.expires_secs = Some(self.expiration(&s_ref.expiration)?);
            c.full_access = s_ref.full_access;
            c.policies = self.attached(&s_ref.policies, &policies)?;
            credentials.push(c);
        }
        let account_id = match raw.account_id {
            Some(a) if a.get_ref().is_empty() || a.get_ref().contains(':') => {
                return Err(self.err(&a, "account_id must be non-empty and contain no ':'"))
            }
            Some(a) => Some(a.into_inner()),
            None => None,
        };
        let projects = raw
            .project
            .iter()
            .map(|p| self.project(p.get_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut names = std::collections::HashSet::new();
        for (raw_p, p) in raw.project.iter().zip(&projects) {
            if !names.insert(&p.name) {
                return Err(self.err(
                    &raw_p.get_ref().name,
                    format!("project {:?} is listed twice", p.name),
                ));
            }
        }
        Ok(ConfigFile {
            account_id,
            credentials,
            projects,
        })
    }

    fn credential(
        &self,
        id: &Spanned<String>,
        secret: &Spanned<String>,
        seen: &mut std::collections::HashSet<String>,
    ) -> Result<Credential, FileError> {
        if id.get_ref().is_empty() {
            return Err(self.err(id, "the access key id must not be empty"));
        }
        if secret.get_ref().is_empty() {
            return Err(self.err(secret, "the secret must not be empty"));
        }
        if !seen.insert(id.get_ref().clone()) {
            return Err(self.err(
                id,
                format!("access key {:?} is defined twice", id.get_ref()),
            ));
        }
        Ok(Credential::new(id.get_ref(), secret.get_ref()))
    }

    fn attached(
        &self,
        names: &[Spanned<String>],
        policies: &BTreeMap<String, Arc<Policy>>,
    ) -> Result<BTreeMap<String, Arc<Policy>>, FileError> {
        names
            .iter()
            .map(|n| match policies.get(n.get_ref()) {
                Some(p) => Ok((n.get_ref().clone(), p.clone())),
                None => Err(self.err(n, format!("no [policy.{}] is defined", n.get_ref()))),
            })
            .collect()
    }

    fn policy(&self, name: &str, entry: &Spanned<RawPolicy>) -> Result<Policy, FileError> {
        let e = entry.get_ref();
        let (text, at) = match (&e.document, &e.file) {
            (Some(doc), None) => (doc.get_ref().clone(), self.line(doc.span().start)),
            (None, Some(file)) => {
                let base = self.path.parent().unwrap_or(Path::new("."));
                let full = base.join(file.get_ref());
                let text = std::fs::read_to_string(&full).map_err(|err| {
                    self.err(
                        file,
                        format!("policy {name}: cannot read {}: {err}", full.display()),
                    )
                })?;
                (text, self.line(file.span().start))
            }
            _ => {
                return Err(self.err(
                    entry,
                    format!("policy {name}: give exactly one of document (JSON text) and file"),
                ))
            }
        };
        Policy::parse_json(&text)
            .map_err(|err| self.err_at(at, format!("policy {name}: {}", err.0)))
    }

    fn expiration(&self, v: &Spanned<toml::Value>) -> Result<i64, FileError> {
        let text = match v.get_ref() {
            toml::Value::Datetime(d) => d.to_string(),
            toml::Value::String(s) => s.clone(),
            _ => return Err(self.err(v, "expiration must be an RFC 3339 date-time")),
        };
        parse_expiration(&text).map_err(|e| self.err(v, e))
    }

    fn project(&self, p: &RawProject) -> Result<ProjectSpec, FileError> {
        ProjectName::parse(p.name.get_ref()).map_err(|e| self.err(&p.name, e.to_string()))?;
        let mut logstores: Vec<LogstoreSpec> = Vec::new();
        for l in &p.logstore {
            let l = l.get_ref();
            LogstoreName::parse(l.name.get_ref()).map_err(|e| self.err(&l.name, e.to_string()))?;
            if logstores.iter().any(|x| &x.name == l.name.get_ref()) {
                return Err(self.err(
                    &l.name,
                    format!("logstore {:?} is listed twice", l.name.get_ref()),
                ));
            }
            if !(1..=256).contains(l.shards.get_ref()) {
                return Err(self.err(&l.shards, "shards must be in [1, 256]"));
            }
            if !(1..=3650).contains(l.ttl.get_ref()) {
                return Err(self.err(&l.ttl, "ttl must be in [1, 3650] days"));
            }
            let mut consumer_groups: Vec<ConsumerGroupSpec> = Vec::new();
            for g in &l.consumer_group {
                let g = g.get_ref();
                ConsumerGroupName::parse(g.name.get_ref())
                    .map_err(|e| self.err(&g.name, e.to_string()))?;
                if *g.timeout.get_ref() == 0 {
                    return Err(self.err(&g.timeout, "timeout must be at least 1 second"));
                }
                if consumer_groups.iter().any(|x| &x.name == g.name.get_ref()) {
                    return Err(self.err(
                        &g.name,
                        format!("consumer group {:?} is listed twice", g.name.get_ref()),
                    ));
                }
                consumer_groups.push(ConsumerGroupSpec {
                    name: g.name.get_ref().clone(),
                    timeout: *g.timeout.get_ref(),
                    order: g.order,
                });
            }
            let index = match &l.index {
                Some(text) => Some(
                    sls_query::index::IndexConfig::parse(text.get_ref().as_bytes())
                        .map_err(|e| self.err(text, format!("index: {e}")))?
                        .to_json(),
                ),
                None => None,
            };
            logstores.push(LogstoreSpec {
                name: l.name.get_ref().clone(),
                shards: *l.shards.get_ref(),
                ttl: *l.ttl.get_ref(),
                append_meta: l.append_meta,
                index,
                consumer_groups,
            });
        }
        Ok(ProjectSpec {
            name: p.name.get_ref().clone(),
            description: p.description.clone(),
            logstores,
        })
    }
}

#[cfg(test)]
#[path = "file_test.rs"]
mod tests;

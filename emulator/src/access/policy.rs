//! RAM policy documents as SLS users write them (`Version`, `Statement` with `Effect`,
//! `Action`, `Resource`, optional `Condition`), parsed once into a [`Policy`] and evaluated per
//! request: an explicit `Deny` wins, otherwise some `Allow` must match, otherwise the request
//! is implicitly denied.
//!
//! Semantics follow the RAM policy-element pages (see the README's access-control section):
//! `Action` and `Resource` take one string or a list; `*` matches any run of characters and `?`
//! one; actions compare case-insensitively (`log:getcursorordata` = `log:GetCursorOrData`),
//! resources case-sensitively. Within `Condition`, every operator and every key must hold; the
//! values of one key are alternatives. Elements and condition keys the emulator cannot honour
//! are refused when the policy is loaded, never silently ignored.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use wildmatch::WildMatch;

/// A policy that does not parse or uses something the emulator does not emulate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy: {0}")]
pub struct PolicyError(pub String);

fn invalid(msg: impl Into<String>) -> PolicyError {
    PolicyError(msg.into())
}

/// One string or a list of them, as RAM accepts for `Action`, `Resource` and condition values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl OneOrMany {
    fn values(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// Grants the matching requests (unless a Deny matches too).
    Allow,
    /// Refuses the matching requests, whatever else allows them.
    Deny,
}

/// A policy document exactly as written (what the admin API echoes back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PolicyDocument {
    /// Always `"1"`.
    pub version: String,
    /// The statements.
    pub statement: Vec<StatementDocument>,
}

/// One statement as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StatementDocument {
    /// Allow or Deny.
    pub effect: Effect,
    /// RAM actions (`log:GetCursorOrData`, `log:Get*`, `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<OneOrMany>,
    /// Every action but these (instead of `Action`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_action: Option<OneOrMany>,
    /// Resource ARNs (`acs:log:*:*:project/p/logstore/*`).
    pub resource: OneOrMany,
    /// `{operator: {key: value(s)}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<BTreeMap<String, BTreeMap<String, OneOrMany>>>,
}

/// What a request asks for, as policies see it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// RAM action, e.g. `log:PostLogStoreLogs`.
    pub action: &'a str,
    /// Resource ARN.
    pub resource: &'a str,
    /// The client's address (`acs:SourceIp`), if known.
    pub source_ip: Option<IpAddr>,
    /// Unix seconds of the emulator's clock (`acs:CurrentTime`).
    pub now_secs: i64,
}

/// The outcome of evaluating policies for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Some Allow matched and no Deny did.
    Allow,
    /// A Deny statement matched.
    ExplicitDeny,
    /// Nothing matched.
    ImplicitDeny,
}

/// A parsed, checked policy, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Policy {
    document: PolicyDocument,
    statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct Statement {
    effect: Effect,
    /// `NotAction`: the statement applies to actions matching none of `actions`.
    not_action: bool,
    actions: Vec<WildMatch>,
    resources: Vec<WildMatch>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
enum Condition {
    SourceIp {
        negate: bool,
        nets: Vec<ipnet::IpNet>,
    },
    CurrentTime {
        op: DateOp,
        at: i64,
    },
    SecureTransport(bool),
}

#[derive(Debug, Clone, Copy)]
enum DateOp {
    Equals,
    NotEquals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

impl Policy {
    /// Parses a JSON policy document and checks every element.
    ///
    /// # Errors
    /// Not JSON, not the RAM shape, `Version` other than `"1"`, an empty action or resource
    /// list, or a condition the emulator does not emulate.
    pub fn parse_json(text: &str) -> Result<Policy, PolicyError> {
        let doc: PolicyDocument = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        Policy::from_document(doc)
    }

    /// Checks a document and compiles its patterns.
    ///
    /// # Errors
    /// As [`Policy::parse_json`].
    pub fn from_document(doc: PolicyDocument) -> Result<Policy, PolicyError> {
        if doc.version != "1" {
            return Err(invalid(format!(
                "Version must be \"1\", got {:?}",
                doc.version
            )));
        }
        let statements = doc
            .statement
            .iter()
            .enumerate()
            .map(|(i, s)| compile(s).map_err(|e| invalid(format!("Statement {}: {}", i + 1, e.0))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            document: doc,
            statements,
        })
    }

    /// Full rights: `Allow` `*` on `*` (what `full_access = true` attaches).
    pub fn full_access() -> Policy {
        Policy::from_document(PolicyDocument {
            version: "1".into(),
            statement: vec![StatementDocument {
                effect: Effect::Allow,
                action: Some(OneOrMany::One("*".into())),
                not_action: None,
                resource: OneOrMany::One("*".into()),
                condition: None,
            }],
        })
        .unwrap_or_else(|_| unreachable!("the full-access policy is valid"))
    }

    /// The document as written.
    pub fn document(&self) -> &PolicyDocument {
        &self.document
    }
}

/// Evaluates `policies` together, as RAM does for everything attached to one identity: any
/// matching Deny refuses, else any matching Allow grants, else the request is refused.
pub fn evaluate<'p>(policies: impl IntoIterator<Item = &'p Policy>, req: &Request<'_>) -> Verdict {
    let mut allowed = false;
    for p in policies {
        for s in &p.statements {
            if !s.matches(req) {
                continue;
            }
            match s.effect {
                Effect::Deny => return Verdict::ExplicitDeny,
                Effect::Allow => allowed = true,
            }
        }
    }
    if allowed {
        Verdict::Allow
    } else {
        Verdict::ImplicitDeny
    }
}

impl Statement {
    fn matches(&self, req: &Request<'_>) -> bool {
        self.actions.iter().any(|a| a.matches(req.action)) != self.not_action
            && self.resources.iter().any(|r| r.matches(req.resource))
            && self.conditions.iter().all(|c| c.holds(req))
    }
}

impl Condition {
    fn holds(&self, req: &Request<'_>) -> bool {
        match self {
            // Without a known address the condition cannot be shown to hold, so an Allow
            // that needs it does not apply (and a Deny that needs it does not either).
            Condition::SourceIp { negate, nets } => req
                .source_ip
                .map(canonical)
                .is_some_and(|ip| nets.iter().any(|n| n.contains(&ip)) != *negate),
            Condition::CurrentTime { op, at } => {
                let now = req.now_secs;
                match op {
                    DateOp::Equals => now == *at,
                    DateOp::NotEquals => now != *at,
                    DateOp::LessThan => now < *at,
                    DateOp::LessThanEquals => now <= *at,
                    DateOp::GreaterThan => now > *at,
                    DateOp::GreaterThanEquals => now >= *at,
                }
            }
            // The emulator speaks plain HTTP only.
            Condition::SecureTransport(want) => !*want,
        }
    }
}

/// `::ffff:a.b.c.d` (an IPv4 client on a dual-stack socket) compares as `a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn compile(s: &StatementDocument) -> Result<Statement, PolicyError> {
    let (actions, not_action) = match (&s.action, &s.not_action) {
        (Some(a), None) => (patterns(a, "Action", true)?, false),
        (None, Some(a)) => (patterns(a, "NotAction", true)?, true),
        _ => return Err(invalid("give exactly one of Action and NotAction")),
    };
    let resources = patterns(&s.resource, "Resource", false)?;
    let mut conditions = Vec::new();
    for (op, keys) in s.condition.iter().flatten() {
        for (key, values) in keys {
            conditions.push(condition(op, key, values.values())?);
        }
    }
    Ok(Statement {
        effect: s.effect,
        not_action,
        actions,
        resources,
        conditions,
    })
}

fn patterns(v: &OneOrMany, what: &str, ignore_case: bool) -> Result<Vec<WildMatch>, PolicyError> {
    let values = v.values();
    if values.is_empty() || values.iter().any(|p| p.is_empty()) {
        return Err(invalid(format!(
            "{what} must name at least one non-empty pattern"
        )));
    }
    Ok(values
        .iter()
        .map(|p| {
            if ignore_case {
                WildMatch::new_case_insensitive(p)
            } else {
                WildMatch::new(p)
            }
        })
        .collect())
}

fn condition(op: &str, key: &str, values: &[String]) -> Result<Condition, PolicyError> {
    if values.is_empty() {
        return Err(invalid(format!("condition {op} {key} has no values")));
    }
    match key.to_ascii_lowercase().as_str() {
        "acs:sourceip" => {
            let negate = match op {
                "IpAddress" => false,
                "NotIpAddress" => true,
                _ => return Err(unsupported_operator(op, key, "IpAddress, NotIpAddress")),
            };
            let nets = values
                .iter()
                .map(|v| parse_net(v))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Condition::SourceIp { negate, nets })
        }
        "acs:currenttime" => {
            let op = match op {
                "DateEquals" => DateOp::Equals,
                "DateNotEquals" => DateOp::NotEquals,
                "DateLessThan" => DateOp::LessThan,
                "DateLessThanEquals" => DateOp::LessThanEquals,
                "DateGreaterThan" => DateOp::GreaterThan,
                "DateGreaterThanEquals" => DateOp::GreaterThanEquals,
                _ => {
                    return Err(unsupported_operator(
                        op,
                        key,
                        "DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals, \
                         DateGreaterThan, DateGreaterThanEquals",
                    ))
                }
            };
            let [v] = values else {
                return Err(invalid(format!("{op:?} {key} takes exactly one date")));
            };
            let at = chrono::DateTime::parse_from_rfc3339(v)
                .map_err(|e| invalid(format!("{key} {v:?} is not an ISO 8601 time: {e}")))?
                .timestamp();
            Ok(Condition::CurrentTime { op, at })
        }
        "acs:securetransport" => {
            if op != "Bool" {
                return Err(unsupported_operator(op, key, "Bool"));
            }
            let [v] = values else {
                return Err(invalid(format!("Bool {key} takes exactly one value")));
            };
            match v.as_str() {
                "true" => Ok(Condition::SecureTransport(true)),
                "false" => Ok(Condition::SecureTransport(false)),
                _ => Err(invalid(format!("Bool {key} must be \"true\" or \"false\""))),
            }
        }
        _ => Err(invalid(format!(
            "condition key {key} is not emulated (sls-emu supports acs:SourceIp, \
             acs:CurrentTime and acs:SecureTransport)"
        ))),
    }
}

fn unsupported_operator(op: &str, key: &str, known: &str) -> PolicyError {
    invalid(format!(
        "operator {op} does not apply to {key} (use {known})"
    ))
}

fn parse_net(v: &str) -> Result<ipnet::IpNet, PolicyError> {
    if let Ok(n) = v.parse::<ipnet::IpNet>() {
        return Ok(n);
    }
    v.parse::<IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| invalid(format!("{v:?} is not an IP address or CIDR block")))
}

#[cfg(test)]
#[path = "policy_test.rs"]
mod tests;

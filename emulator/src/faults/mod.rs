//! Faults on the request path, set through the admin API (`/_sls-emu/...`) or the Rust handle
//! [`Faults`]: SLS errors before commit, the ambiguous "committed, but the answer was lost"
//! (500 after commit, connection reset, hang), latency, dropped heartbeats; per-shard quotas;
//! a journal of every fault that fired.
//!
//! One seed decides every probabilistic choice, and decisions are taken in request order under
//! one lock, so the same seed with the same request sequence gives the same journal. With no
//! rule and no quota set, a request pays one atomic load.

mod quota;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use sls_protocol::types::{ShardId, UnixNanos};

pub use crate::action::Api;
use crate::action::{Action as ApiAction, ActionKind, Query};
pub use quota::{QuotaConfig, QuotaKind, QuotaMode, QuotaStatus};

/// What a request is, for matching.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestInfo {
    /// The API group (`None`: not an SLS API the rules know).
    pub api: Option<Api>,
    /// The action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionKind>,
    /// Project.
    pub project: Option<String>,
    /// Logstore.
    pub logstore: Option<String>,
    /// Shard, when the request names one (a bare number in JSON).
    pub shard: Option<ShardId>,
    /// Consumer name (heartbeat, checkpoint).
    pub consumer: Option<String>,
}

/// Which requests a rule applies to; `None` fields match anything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Matcher {
    /// API group.
    pub api: Option<Api>,
    /// One action exactly (finer than `api`: `DeleteLogStore`, `SplitShard`, …).
    pub action: Option<ActionKind>,
    /// Project.
    pub project: Option<String>,
    /// Logstore.
    pub logstore: Option<String>,
    /// Shard (only requests addressed to a shard by id: PullLogs, GetCursor, …).
    pub shard: Option<ShardId>,
    /// Consumer name.
    pub consumer: Option<String>,
}

/// Among matching requests, which ones fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum When {
    /// Every one.
    Always,
    /// Only the n-th (1-based).
    Nth(u64),
    /// Every k-th (k, 2k, …).
    EveryKth(u64),
    /// Each with this probability, drawn from the seeded generator.
    Probability(f64),
    /// Those arriving in `[from, to)` unix seconds of the emulator's clock.
    Window {
        /// Start (inclusive).
        from: i64,
        /// End (exclusive).
        to: i64,
    },
}

/// What a firing rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Answer an SLS error instead of executing the request (nothing is committed).
    Error {
        /// HTTP status.
        status: u16,
        /// `errorCode`.
        code: String,
        /// `errorMessage` (a default names the rule).
        #[serde(default)]
        message: Option<String>,
    },
    /// Execute (and commit), then answer 500 InternalServerError.
    CommitThenError,
    /// Execute (and commit), then close the connection without an answer.
    CommitThenReset,
    /// Execute (and commit), then hold the answer for this many milliseconds and close the
    /// connection without it (past the client's timeout).
    CommitThenHang {
        /// How long.
        millis: u64,
    },
    /// Delay the request by this many milliseconds, then execute it normally.
    Latency {
        /// How long.
        millis: u64,
    },
    /// Do not execute; close the connection without an answer (a lost request).
    Drop,
}

/// A fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Name (unique; assigned if empty).
    #[serde(default)]
    pub id: String,
    /// Which requests.
    #[serde(default, rename = "match")]
    pub matcher: Matcher,
    /// Which of those fire.
    pub when: When,
    /// What happens.
    pub action: Action,
    /// Stop after firing this many times.
    #[serde(default)]
    pub times: Option<u64>,
}

/// One fired fault.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    /// Order among all requests the fault layer saw (1-based).
    pub request: u64,
    /// Emulator time, unix milliseconds.
    pub time_ms: i64,
    /// The rule.
    pub rule: String,
    /// The request.
    #[serde(flatten)]
    pub info: RequestInfo,
    /// The action taken.
    pub action: Action,
}

/// What the request path must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Answer this SLS error without executing.
    Error {
        /// Status.
        status: u16,
        /// Code.
        code: String,
        /// Message.
        message: String,
    },
    /// Wait, then execute.
    Delay(Duration),
    /// Do not execute; drop the connection.
    Drop,
    /// Execute, then replace the answer.
    After(AfterCommit),
}

/// How an executed request's answer is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCommit {
    /// 500 InternalServerError.
    Error,
    /// Connection closed, no answer.
    Reset,
    /// Held this long, then closed with no answer.
    Hang(Duration),
}

#[derive(Debug)]
struct State {
    rules: Vec<(Rule, u64, u64)>,
    rng: StdRng,
    journal: Vec<JournalEntry>,
    requests: u64,
    next_id: u64,
}

/// The fault layer's handle (cheap to clone).
#[derive(Debug, Clone)]
pub struct Faults {
    active: Arc<AtomicBool>,
    state: Arc<Mutex<State>>,
    quotas: Arc<quota::Quotas>,
    seed: Arc<AtomicU64>,
}

impl Faults {
    /// No rules, quotas off, generator seeded with `seed`.
    pub fn new(seed: u64) -> Faults {
        Faults {
            active: Arc::new(AtomicBool::new(false)),
            state: Arc::new(Mutex::new(State {
                rules: Vec::new(),
                rng: StdRng::seed_from_u64(seed),
                journal: Vec::new(),
                requests: 0,
                next_id: 1,
            })),
            quotas: Arc::new(quota::Quotas::default()),
            seed: Arc::new(AtomicU64::new(seed)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether any rule is set (the request path skips everything otherwise). Never inlined,
    /// so profilers can attribute the fault layer's cost on the request path.
    #[inline(never)]
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Adds a rule; returns its id.
    pub fn add(&self, mut rule: Rule) -> Result<String, String> {
        if let When::Probability(p) = rule.when {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("probability {p} is not in [0, 1]"));
            }
        }
        if matches!(rule.when, When::Nth(0) | When::EveryKth(0)) {
            return Err("nth and every_kth count from 1".into());
        }
        let mut st = self.lock();
        if rule.id.is_empty() {
            rule.id = format!("rule-{}", st.next_id);
            st.next_id += 1;
        }
        if st.rules.iter().any(|(r, _, _)| r.id == rule.id) {
            return Err(format!("a rule named {} exists", rule.id));
        }
        let id = rule.id.clone();
        st.rules.push((rule, 0, 0));
        self.active.store(true, Ordering::Relaxed);
        Ok(id)
    }

    /// Removes a rule; whether it existed.
    pub fn remove(&self, id: &str) -> bool {
        let mut st = self.lock();
        let before = st.rules.len();
        st.rules.retain(|(r, _, _)| r.id != id);
        self.active.store(!st.rules.is_empty(), Ordering::Relaxed);
        st.rules.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        let mut st = self.lock();
        st.rules.clear();
        // Under the lock, so a concurrent `add` cannot be left inactive.
        self.active.store(false, Ordering::Relaxed);
    }

    /// The rules, with how often each matched and fired.
    pub fn rules(&self) -> Vec<(Rule, u64, u64)> {
        self.lock().rules.clone()
    }

    /// Every fired fault, in order.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.lock().journal.clone()
    }

    /// Reseeds the generator and resets the journal and every rule's counters (rules stay).
    pub fn reseed(&self, seed: u64) {
        let mut st = self.lock();
        st.rng = StdRng::seed_from_u64(seed);
        st.journal.clear();
        st.requests = 0;
        for r in &mut st.rules {
            r.1 = 0;
            r.2 = 0;
        }
        self.seed.store(seed, Ordering::Relaxed);
    }

    /// The current seed.
    pub fn seed(&self) -> u64 {
        self.seed.load(Ordering::Relaxed)
    }

    /// Decides what happens to a request. Every matching rule counts it (so `nth` means the
    /// n-th matching request); the first rule that fires acts, later ones do not fire for it.
    pub fn decide(&self, info: &RequestInfo, now: UnixNanos) -> Option<Decision> {
        let mut st = self.lock();
        st.requests += 1;
        let request = st.requests;
        let State {
            rules,
            rng,
            journal,
            ..
        } = &mut *st;
        let mut chosen: Option<&Rule> = None;
        for (rule, matched, fired) in rules.iter_mut() {
            if !matches(&rule.matcher, info) || rule.times.is_some_and(|t| *fired >= t) {
                continue;
            }
            *matched += 1;
            if chosen.is_some() {
                continue;
            }
            let fire = match rule.when {
                When::Always => true,
                When::Nth(n) => *matched == n,
                When::EveryKth(k) => *matched % k == 0,
                When::Probability(p) => rng.gen_bool(p),
                When::Window { from, to } => {
                    let secs = now.secs();
                    secs >= from && secs < to
                }
            };
            if fire {
                *fired += 1;
                chosen = Some(rule);
            }
        }
        let rule = chosen?;
        journal.push(JournalEntry {
            request,
            time_ms: now.millis(),
            rule: rule.id.clone(),
            info: info.clone(),
            action: rule.action.clone(),
        });
        tracing::info!(rule = %rule.id, request, api = ?info.api, "fault fired");
        Some(match &rule.action {
            Action::Error {
                status,
                code,
                message,
            } => Decision::Error {
                status: *status,
                code: code.clone(),
                message: message
                    .clone()
                    .unwrap_or_else(|| format!("fault injected by rule {}", rule.id)),
            },
            Action::CommitThenError => Decision::After(AfterCommit::Error),
            Action::CommitThenReset => Decision::After(AfterCommit::Reset),
            Action::CommitThenHang { millis } => {
                Decision::After(AfterCommit::Hang(Duration::from_millis(*millis)))
            }
            Action::Latency { millis } => Decision::Delay(Duration::from_millis(*millis)),
            Action::Drop => Decision::Drop,
        })
    }

    /// Per-shard quotas.
    pub fn quotas(&self) -> &quota::Quotas {
        &self.quotas
    }
}

fn matches(m: &Matcher, info: &RequestInfo) -> bool {
    m.api.is_none_or(|a| info.api == Some(a))
        && m.action.is_none_or(|a| info.action == Some(a))
        && m.project
            .as_ref()
            .is_none_or(|p| info.project.as_ref() == Some(p))
        && m.logstore
            .as_ref()
            .is_none_or(|l| info.logstore.as_ref() == Some(l))
        && m.shard.is_none_or(|s| info.shard == Some(s))
        && m.consumer
            .as_ref()
            .is_none_or(|c| info.consumer.as_ref() == Some(c))
}

impl RequestInfo {
    /// What rules see of a parsed request.
    pub fn of(action: &ApiAction, query: &Query, project: Option<&str>) -> RequestInfo {
        // GetCheckPoint names its shard in the query; rules treat it as the request's.
        let shard = match action {
            ApiAction::GetCheckPoint { .. } => query
                .non_empty("shard")
                .and_then(|s| s.parse().ok())
                .map(ShardId),
            _ => action.shard(),
        };
        RequestInfo {
            api: Some(action.kind().api()),
            action: Some(action.kind()),
            project: project.map(str::to_string),
            logstore: action.logstore().map(str::to_string),
            shard,
            consumer: query.non_empty("consumer").map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    fn info(method: Method, path: &str, query: &str) -> RequestInfo {
        let query = Query::parse(query);
        let action = ApiAction::parse(&method, path, &query, true).unwrap();
        RequestInfo::of(&action, &query, Some("p"))
    }

    fn hb() -> RequestInfo {
        info(
            Method::POST,
            "/logstores/ls/consumergroups/g",
            "type=heartbeat&consumer=c1",
        )
    }

    #[test]
    fn rules_match_on_the_api_group_or_the_exact_action() {
        let f = Faults::new(1);
        let rule = |id: &str, api, action| Rule {
            id: id.into(),
            matcher: Matcher {
                api,
                action,
                ..Matcher::default()
            },
            when: When::Always,
            action: Action::Drop,
            times: None,
        };
        f.add(rule("split", None, Some(ActionKind::SplitShard)))
            .unwrap();
        let split = info(Method::POST, "/logstores/ls/shards/1", "action=split");
        let merge = info(Method::POST, "/logstores/ls/shards/1", "action=merge");
        assert_eq!(split.api, Some(Api::ShardLifecycle));
        assert!(f.decide(&merge, UnixNanos(0)).is_none());
        assert!(f.decide(&split, UnixNanos(0)).is_some());
        f.add(rule("meta", Some(Api::Metadata), None)).unwrap();
        assert!(f
            .decide(&info(Method::DELETE, "/logstores/ls", ""), UnixNanos(0))
            .is_some());
    }

    #[test]
    fn nth_every_kth_times_and_matchers() {
        let f = Faults::new(1);
        let rule = |when, times| Rule {
            id: String::new(),
            matcher: Matcher {
                api: Some(Api::Heartbeat),
                ..Matcher::default()
            },
            when,
            action: Action::Drop,
            times,
        };
        f.add(rule(When::Nth(2), None)).unwrap();
        f.add(rule(When::EveryKth(3), Some(1))).unwrap();
        let fired: Vec<bool> = (0..7)
            .map(|_| f.decide(&hb(), UnixNanos(0)).is_some())
            .collect();
        assert_eq!(fired, vec![false, true, true, false, false, false, false]);
        let put = info(Method::POST, "/logstores/ls/shards/lb", "");
        assert!(f.decide(&put, UnixNanos(0)).is_none(), "matcher");
    }

    #[test]
    fn windows_follow_the_emulator_clock() {
        let f = Faults::new(0);
        let rule = Rule {
            id: "w".into(),
            matcher: Matcher::default(),
            when: When::Window { from: 100, to: 200 },
            action: Action::Latency { millis: 1 },
            times: None,
        };
        f.add(rule).unwrap();
        let at = |secs: i64| f.decide(&hb(), UnixNanos::from_secs(secs)).is_some();
        assert_eq!(
            (at(99), at(100), at(199), at(200)),
            (false, true, true, false)
        );
        assert_eq!(f.journal().len(), 2);
    }

    #[test]
    fn the_same_seed_gives_the_same_journal() {
        let run = |seed| {
            let f = Faults::new(seed);
            f.add(Rule {
                id: "p".into(),
                matcher: Matcher::default(),
                when: When::Probability(0.3),
                action: Action::CommitThenError,
                times: None,
            })
            .unwrap();
            for _ in 0..200 {
                f.decide(&hb(), UnixNanos(0));
            }
            f.journal().iter().map(|e| e.request).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(!run(7).is_empty());
    }
}

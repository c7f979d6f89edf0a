//! Access control as SLS does it: who may call (access keys, STS temporary credentials) and
//! what they may do (RAM policies on each action's RAM action and resource).
//!
//! - The **owner key** (`--access-key-id`/`--access-key-secret`) is the account's own key: it
//!   is never evaluated against policies, so with no config file nothing changes.
//! - **Access keys** from the config file or the admin API carry full access (an implicit
//!   `Allow * *`) and/or named policies. **STS credentials** are keys with a security token
//!   (`x-acs-security-token` must equal it) and an expiry on the emulator's clock.
//! - A request is authenticated (key, token, signature) before its action is parsed, and
//!   authorized ([`Access::authorize`]) after, before fault rules and before the handler: a
//!   refused request executes nothing.
//!
//! Keys live in memory: the config file is read at start, admin changes last until restart.

pub mod policy;
pub mod ram;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use sls_protocol::types::UnixNanos;

use crate::action::Action;
use crate::error::{ApiError, ErrorCode};
pub use policy::{Policy, PolicyDocument, PolicyError, Verdict};

/// The account id in ARNs when the config file names none.
pub const DEFAULT_ACCOUNT_ID: &str = "1000000000000000";

/// One credential: an access key, possibly a temporary (STS) one.
#[derive(Debug, Clone)]
pub struct Credential {
    /// AccessKeyId.
    pub access_key_id: String,
    secret: String,
    /// The STS security token the request must carry, for temporary credentials.
    pub security_token: Option<String>,
    /// When a temporary credential stops working (emulator clock, unix seconds).
    pub expires_secs: Option<i64>,
    /// A disabled key is refused like an unknown one.
    pub enabled: bool,
    /// The account's own key: no policy applies.
    pub owner: bool,
    /// An implicit `Allow * *` (Deny policies still apply).
    pub full_access: bool,
    /// Attached policies by name.
    pub policies: BTreeMap<String, Arc<Policy>>,
}

impl Credential {
    /// A permanent key with no rights yet.
    pub fn new(access_key_id: impl Into<String>, secret: impl Into<String>) -> Credential {
        Credential {
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            security_token: None,
            expires_secs: None,
            enabled: true,
            owner: false,
            full_access: false,
            policies: BTreeMap::new(),
        }
    }

    /// The secret requests are signed with.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// What the admin API shows: everything but the secret and the token.
    pub fn info(&self) -> KeyInfo {
        KeyInfo {
            access_key_id: self.access_key_id.clone(),
            kind: if self.owner {
                "owner"
            } else if self.security_token.is_some() {
                "sts"
            } else {
                "access_key"
            },
            enabled: self.enabled,
            full_access: self.owner || self.full_access,
            expires_secs: self.expires_secs,
            policies: self
                .policies
                .iter()
                .map(|(k, v)| (k.clone(), v.document().clone()))
                .collect(),
        }
    }
}

/// A key as the admin API lists it (never its secret or token).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    /// AccessKeyId.
    pub access_key_id: String,
    /// `owner`, `access_key` or `sts`.
    pub kind: &'static str,
    /// Whether it can be used.
    pub enabled: bool,
    /// Whether it has full rights.
    pub full_access: bool,
    /// Expiry of a temporary credential (unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_secs: Option<i64>,
    /// Attached policies.
    pub policies: BTreeMap<String, PolicyDocument>,
}

/// A key as the admin API takes it (`PUT /_sls-emu/keys/{id}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// The secret.
    pub secret: String,
    /// Full rights.
    #[serde(default)]
    pub full_access: bool,
    /// Policies to attach, by name.
    #[serde(default)]
    pub policies: BTreeMap<String, PolicyDocument>,
    /// Makes it a temporary credential with this token.
    #[serde(default)]
    pub security_token: Option<String>,
    /// Expiry, RFC 3339.
    #[serde(default)]
    pub expiration: Option<String>,
    /// Expiry, seconds from the emulator's now.
    #[serde(default)]
    pub expires_in_secs: Option<i64>,
    /// Defaults to true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Why a key change was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The named key is not known.
    #[error("access key {0:?} is not known")]
    NotFound(String),
    /// The owner key comes from flags and cannot be changed at run time.
    #[error("{0:?} is the owner key (from --access-key-id); it cannot be changed here")]
    Owner(String),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
}

/// Every credential, shared by all requests; cheap to clone.
#[derive(Debug, Clone)]
pub struct Access {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    region: String,
    account_id: String,
    keys: RwLock<HashMap<String, Arc<Credential>>>,
}

impl Access {
    /// The owner key alone.
    pub fn new(owner_id: &str, owner_secret: &str, region: &str, account_id: &str) -> Access {
        let mut owner = Credential::new(owner_id, owner_secret);
        owner.owner = true;
        let keys = HashMap::from([(owner_id.to_string(), Arc::new(owner))]);
        Access {
            inner: Arc::new(Inner {
                region: region.to_string(),
                account_id: account_id.to_string(),
                keys: RwLock::new(keys),
            }),
        }
    }

    /// The account id in ARNs.
    pub fn account_id(&self) -> &str {
        &self.inner.account_id
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Credential>>> {
        // A panic elsewhere cannot leave the map half-written (entries are swapped whole).
        self.inner.keys.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Credential>>> {
        self.inner.keys.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The credential of an AccessKeyId.
    pub fn get(&self, access_key_id: &str) -> Option<Arc<Credential>> {
        self.read().get(access_key_id).cloned()
    }

    /// Every key, owner first, then by id.
    pub fn list(&self) -> Vec<KeyInfo> {
        let mut v: Vec<KeyInfo> = self.read().values().map(|c| c.info()).collect();
        v.sort_by(|a, b| {
            (a.kind != "owner", &a.access_key_id).cmp(&(b.kind != "owner", &b.access_key_id))
        });
        v
    }

    /// Adds a credential, or replaces a non-owner one of the same id.
    ///
    /// # Errors
    /// The id is the owner key's.
    pub fn insert(&self, c: Credential) -> Result<(), KeyError> {
        let mut keys = self.write();
        if keys.get(&c.access_key_id).is_some_and(|k| k.owner) {
            return Err(KeyError::Owner(c.access_key_id));
        }
        keys.insert(c.access_key_id.clone(), Arc::new(c));
        Ok(())
    }

    /// Adds or replaces a key from the admin API's description; `now_secs` anchors
    /// `expires_in_secs`.
    ///
    /// # Errors
    /// A bad policy, expiry or secret; the owner key.
    pub fn put(&self, id: &str, spec: KeySpec, now_secs: i64) -> Result<(), KeyError> {
        if id.is_empty() || spec.secret.is_empty() {
            return Err(KeyError::Invalid(
                "the key id and secret must not be empty".into(),
            ));
        }
        let mut c = Credential::new(id, spec.secret);
        c.full_access = spec.full_access;
        c.enabled = spec.enabled.unwrap_or(true);
        for (name, doc) in spec.policies {
            let p = Policy::from_document(doc)
                .map_err(|e| KeyError::Invalid(format!("policy {name:?}: {e}")))?;
            c.policies.insert(name, Arc::new(p));
        }
        c.expires_secs = match (spec.expiration, spec.expires_in_secs) {
            (Some(_), Some(_)) => {
                return Err(KeyError::Invalid(
                    "give expiration or expires_in_secs, not both".into(),
                ))
            }
            (Some(t), None) => Some(parse_expiration(&t).map_err(KeyError::Invalid)?),
            (None, Some(s)) => Some(now_secs.saturating_add(s)),
            (None, None) => None,
        };
        c.security_token = spec.security_token;
        if c.expires_secs.is_some() && c.security_token.is_none() {
            return Err(KeyError::Invalid(
                "an expiry needs a security_token (temporary credentials are STS tokens)".into(),
            ));
        }
        self.insert(c)
    }

    /// Removes a key.
    ///
    /// # Errors
    /// Unknown, or the owner key.
    pub fn remove(&self, id: &str) -> Result<(), KeyError> {
        let mut keys = self.write();
        match keys.get(id) {
            None => Err(KeyError::NotFound(id.into())),
            Some(k) if k.owner => Err(KeyError::Owner(id.into())),
            Some(_) => {
                keys.remove(id);
                Ok(())
            }
        }
    }

    /// Attaches (or replaces) a named policy on a key.
    ///
    /// # Errors
    /// Unknown key, owner key, invalid policy.
    pub fn attach(&self, id: &str, name: &str, doc: PolicyDocument) -> Result<(), KeyError> {
        let p = Policy::from_document(doc).map_err(|e| KeyError::Invalid(e.to_string()))?;
        self.update(id, |c| {
            c.policies.insert(name.to_string(), Arc::new(p));
            Ok(())
        })
    }

    /// Detaches a named policy (the "permission revoked" fault).
    ///
    /// # Errors
    /// Unknown key or policy, owner key.
    pub fn detach(&self, id: &str, name: &str) -> Result<(), KeyError> {
        self.update(id, |c| match c.policies.remove(name) {
            Some(_) => Ok(()),
            None => Err(KeyError::Invalid(format!(
                "access key {id:?} has no policy {name:?}"
            ))),
        })
    }

    fn update(
        &self,
        id: &str,
        f: impl FnOnce(&mut Credential) -> Result<(), KeyError>,
    ) -> Result<(), KeyError> {
        let mut keys = self.write();
        let Some(current) = keys.get(id) else {
            return Err(KeyError::NotFound(id.into()));
        };
        if current.owner {
            return Err(KeyError::Owner(id.into()));
        }
        let mut c = Credential::clone(current);
        f(&mut c)?;
        keys.insert(id.to_string(), Arc::new(c));
        Ok(())
    }

    /// Checks the parts of a credential that are not the signature: known, enabled, the
    /// security token, the expiry. Returns it for the signature check.
    ///
    /// # Errors
    /// `Unauthorized` with SLS's wording.
    // Out of line so instruction counts (callgrind) can attribute it.
    #[inline(never)]
    pub fn authenticate(
        &self,
        access_key_id: &str,
        security_token: Option<&str>,
        now: UnixNanos,
    ) -> Result<Arc<Credential>, ApiError> {
        let unauthorized = |m: String| ApiError::new(ErrorCode::Unauthorized, m);
        let c = self
            .get(access_key_id)
            .ok_or_else(|| unauthorized(format!("AccessKeyId not found: {access_key_id}")))?;
        if !c.enabled {
            return Err(unauthorized(format!(
                "AccessKeyId is disabled: {access_key_id}"
            )));
        }
        let token = security_token.filter(|t| !t.is_empty());
        match (&c.security_token, token) {
            (None, None) => {}
            (Some(want), Some(got)) if want == got => {}
            (Some(_), None) => {
                return Err(unauthorized(
                    "The security token you provided is invalid: AccessKeyId is a temporary \
                     credential and the request has no x-acs-security-token"
                        .into(),
                ))
            }
            (None, Some(_)) => {
                return Err(unauthorized(
                    "The security token you provided is invalid: AccessKeyId is not a \
                     temporary credential"
                        .into(),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(unauthorized(
                    "The security token you provided is invalid.".into(),
                ))
            }
        }
        if c.expires_secs.is_some_and(|e| now.secs() >= e) {
            return Err(unauthorized(
                "The security token you provided has expired.".into(),
            ));
        }
        Ok(c)
    }

    /// Checks the policies of `who` for `action` (before anything executes). The owner key is
    /// not evaluated.
    ///
    /// # Errors
    /// `Unauthorized` as SLS words it: `denied by sts or ram, action: log:..., resource: acs:log:...`.
    #[inline(never)]
    pub fn authorize(
        &self,
        who: &Credential,
        action: &Action,
        project: Option<&str>,
        body: &[u8],
        source_ip: Option<IpAddr>,
        now: UnixNanos,
    ) -> Result<(), ApiError> {
        if who.owner {
            return Ok(());
        }
        let ram = action.ram(&self.inner.region, &self.inner.account_id, project, body);
        let req = policy::Request {
            action: ram.action,
            resource: &ram.resource,
            source_ip,
            now_secs: now.secs(),
        };
        let full = who.full_access.then(full_access_policy);
        let verdict = policy::evaluate(
            full.into_iter().chain(who.policies.values().map(|p| &**p)),
            &req,
        );
        if verdict == Verdict::Allow {
            return Ok(());
        }
        tracing::debug!(key = %who.access_key_id, action = ram.action, resource = %ram.resource, ?verdict, "denied");
        Err(ApiError::new(
            ErrorCode::Unauthorized,
            format!(
                "denied by sts or ram, action: {}, resource: {}",
                ram.action, ram.resource
            ),
        ))
    }
}

fn full_access_policy() -> &'static Policy {
    static FULL: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    FULL.get_or_init(Policy::full_access)
}

/// An RFC 3339 time as unix seconds.
///
/// # Errors
/// Not RFC 3339.
pub fn parse_expiration(t: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.timestamp())
        .map_err(|e| format!("expiration {t:?} is not an RFC 3339 time: {e}"))
}

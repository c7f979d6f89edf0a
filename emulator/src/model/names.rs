//! SLS naming rules (SLS-API.md §11), as validated newtypes: a `ProjectName`,
//! `LogstoreName`, `ConsumerGroupName` or `ConsumerName` that exists has already passed the
//! rules. A refusal is a [`ValidationError`] (the API answers it as `ParameterInvalid`).

/// A name or value that breaks an SLS rule; the message says which rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(pub String);

/// A valid consumer group name: 1–128 chars of `[0-9a-zA-Z_-]` (the official Java client's
/// rule).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsumerGroupName(String);

/// A consumer's name within its group: any non-empty string (clients use host and process
/// ids).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsumerName(String);

/// A valid project name: 3–63 chars of `[a-z0-9-]`, starting and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProjectName(String);

/// A valid logstore name: 2–63 chars of `[a-z0-9_-]`, starting and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogstoreName(String);

fn check(name: &str, min: usize, max: usize, extra: &[u8]) -> bool {
    let b = name.as_bytes();
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (min..=max).contains(&b.len())
        && b.iter().all(|&c| edge(c) || extra.contains(&c))
        && b.first().is_some_and(|&c| edge(c))
        && b.last().is_some_and(|&c| edge(c))
}

impl ProjectName {
    /// Validates a project name; `ParameterInvalid` otherwise.
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        if check(name, 3, 63, b"-") {
            Ok(ProjectName(name.to_string()))
        } else {
            Err(ValidationError(format!(
                "project name {name:?} is invalid: 3-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit"
            )))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl LogstoreName {
    /// Validates a logstore name; `ParameterInvalid` otherwise.
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        if check(name, 2, 63, b"_-") {
            Ok(LogstoreName(name.to_string()))
        } else {
            Err(ValidationError(format!(
                "logstore name {name:?} is invalid: 2-63 characters of a-z, 0-9, '_' and '-', starting and ending with a letter or digit"
            )))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ConsumerGroupName {
    /// Validates a consumer group name; `ParameterInvalid` otherwise.
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        let ok = (1..=128).contains(&name.len())
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if ok {
            Ok(ConsumerGroupName(name.to_string()))
        } else {
            Err(ValidationError(format!(
                "consumer group name {name:?} is invalid: 1-128 characters of a-z, A-Z, 0-9, '_' and '-'"
            )))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ConsumerName {
    /// A consumer name from the `consumer` query parameter: required, not empty.
    pub fn parse(name: Option<&str>) -> Result<Self, ValidationError> {
        match name {
            Some(n) if !n.is_empty() => Ok(ConsumerName(n.to_string())),
            _ => Err(ValidationError("consumer is required".into())),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for LogstoreName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names() {
        for ok in ["abc", "my-project-1", "a1b", &"a".repeat(63)] {
            assert!(ProjectName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "ABC",
            "a_b_c",
            "a.bc",
            "",
            &"a".repeat(64),
        ] {
            assert!(ProjectName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn consumer_group_and_consumer_names() {
        for ok in ["g", "Group_1-x", &"a".repeat(128)] {
            assert!(ConsumerGroupName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a.b", "é", &"a".repeat(129)] {
            assert!(ConsumerGroupName::parse(bad).is_err(), "{bad}");
        }
        assert!(ConsumerName::parse(Some("host-1")).is_ok());
        assert!(ConsumerName::parse(Some("")).is_err());
        assert!(ConsumerName::parse(None).is_err());
    }

    #[test]
    fn logstore_names() {
        for ok in ["ls", "app_log-1", "a_b"] {
            assert!(LogstoreName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["l", "_ls", "ls_", "Ls", "l s", "l.s", &"a".repeat(64)] {
            assert!(LogstoreName::parse(bad).is_err(), "{bad}");
        }
    }
}

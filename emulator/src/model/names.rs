//! SLS naming rules (SLS-API.md §11), as validated newtypes: a `ProjectName` or
//! `LogstoreName` that exists has already passed the rules.

use crate::error::ApiError;

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
    pub fn parse(name: &str) -> Result<Self, ApiError> {
        if check(name, 3, 63, b"-") {
            Ok(ProjectName(name.to_string()))
        } else {
            Err(ApiError::param(format!(
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
    pub fn parse(name: &str) -> Result<Self, ApiError> {
        if check(name, 2, 63, b"_-") {
            Ok(LogstoreName(name.to_string()))
        } else {
            Err(ApiError::param(format!(
                "logstore name {name:?} is invalid: 2-63 characters of a-z, 0-9, '_' and '-', starting and ending with a letter or digit"
            )))
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
    fn logstore_names() {
        for ok in ["ls", "app_log-1", "a_b"] {
            assert!(LogstoreName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["l", "_ls", "ls_", "Ls", "l s", "l.s", &"a".repeat(64)] {
            assert!(LogstoreName::parse(bad).is_err(), "{bad}");
        }
    }
}

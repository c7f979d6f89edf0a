//! A logstore's index configuration (CreateIndex/UpdateIndex JSON, QUERY.md §3), its
//! validation, and the tokenizer its delimiter lists define.
//!
//! Fields the emulator does not act on (`ttl`, `max_text_len`, `log_reduce*`, `scan_index`,
//! `doc_value`, `alias`, unknown ones) are kept and echoed by GetIndex.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::FieldType;

/// An index the emulator refuses: SLS's `IndexInfoInvalid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IndexError(pub String);

impl IndexError {
    /// The SLS error code.
    pub fn code(&self) -> &'static str {
        "IndexInfoInvalid"
    }
}

/// The full-text (line) index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineIndex {
    /// Delimiter characters.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub token: Vec<String>,
    /// Whether terms compare with case.
    #[serde(rename = "caseSensitive", default)]
    pub case_sensitive: bool,
    /// Chinese segmentation (kept; not applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chn: Option<bool>,
    /// Only these keys are searched by full text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_keys: Option<Vec<String>>,
    /// These keys are not searched by full text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_keys: Option<Vec<String>>,
    /// Anything else, echoed.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A key index (`keys.{name}`), also the shape of `json_keys` entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyIndex {
    /// text, long, double or json.
    #[serde(rename = "type", default = "text_type")]
    pub kind: FieldType,
    /// Delimiter characters (text and json keys).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub token: Vec<String>,
    /// Whether terms compare with case.
    #[serde(rename = "caseSensitive", default)]
    pub case_sensitive: bool,
    /// Chinese segmentation (kept; not applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chn: Option<bool>,
    /// Statistics enabled (SQL needs it in SLS; the emulator allows SQL on every key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_value: Option<bool>,
    /// Another name for the key in SQL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Sub-keys of a json key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_keys: Option<BTreeMap<String, KeyIndex>>,
    /// Index every text sub-key of a json key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_all: Option<bool>,
    /// Depth of `index_all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<i64>,
    /// Anything else, echoed.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A token list sent as `null` is absent: the Go SDK writes `"token": null` for long and
/// double keys (its `IndexKey.Token` has no `omitempty`), also when sending back what
/// GetIndex answered.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

fn text_type() -> FieldType {
    FieldType::Text
}

/// A logstore's index configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexConfig {
    /// The full-text index, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<LineIndex>,
    /// Key indexes by key name.
    #[serde(default)]
    pub keys: BTreeMap<String, KeyIndex>,
    /// Top-level fields (`ttl`, `max_text_len`, `log_reduce`, `index_mode`, ...), echoed.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn check_tokens(what: &str, tokens: &[String]) -> Result<(), IndexError> {
    if tokens.is_empty() {
        return Err(IndexError(format!("{what}: token list must not be empty")));
    }
    for t in tokens {
        if t.chars().count() != 1 {
            return Err(IndexError(format!(
                "{what}: token {t:?} must be exactly one character"
            )));
        }
    }
    Ok(())
}

fn check_key(name: &str, k: &KeyIndex) -> Result<(), IndexError> {
    if name.is_empty() || name.len() > 128 {
        return Err(IndexError(format!(
            "key name {name:?} must be 1 to 128 bytes"
        )));
    }
    if matches!(k.kind, FieldType::Text | FieldType::Json) {
        check_tokens(&format!("key {name}"), &k.token)?;
    }
    if let Some(sub) = &k.json_keys {
        if k.kind != FieldType::Json {
            return Err(IndexError(format!("key {name}: json_keys needs type json")));
        }
        for (s, sk) in sub {
            if sk.kind == FieldType::Json {
                return Err(IndexError(format!(
                    "key {name}.{s}: json_keys entries are text, long or double"
                )));
            }
            if sk.kind == FieldType::Text && sk.token.is_empty() {
                // Sub-keys inherit the json key's delimiters.
                continue;
            }
            check_key(&format!("{name}.{s}"), sk)?;
        }
    }
    Ok(())
}

impl IndexConfig {
    /// Parses and validates a CreateIndex/UpdateIndex body.
    ///
    /// # Errors
    /// [`IndexError`] (`IndexInfoInvalid`) for bad JSON, an unknown type, an empty or
    /// multi-character token, or an index with neither `line` nor `keys`.
    pub fn parse(body: &[u8]) -> Result<IndexConfig, IndexError> {
        let cfg: IndexConfig = serde_json::from_slice(body)
            .map_err(|e| IndexError(format!("index config is not valid: {e}")))?;
        if cfg.line.is_none() && cfg.keys.is_empty() {
            return Err(IndexError(
                "index config needs a line (full-text) index or key indexes".into(),
            ));
        }
        if let Some(line) = &cfg.line {
            check_tokens("line", &line.token)?;
        }
        for (name, k) in &cfg.keys {
            check_key(name, k)?;
        }
        Ok(cfg)
    }

    /// What GetIndex answers: the configuration with `index_mode` `v2`.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(m) = v.as_object_mut() {
            m.insert("index_mode".into(), Value::String("v2".into()));
        }
        v
    }

    /// The key index of `name`: a key, or an alias of one.
    pub fn key(&self, name: &str) -> Option<&KeyIndex> {
        self.keys.get(name).or_else(|| {
            self.keys
                .values()
                .find(|k| k.alias.as_deref() == Some(name))
        })
    }

    /// The type of an indexed key, if `name` is one.
    pub fn field_type(&self, name: &str) -> Option<FieldType> {
        self.key(name).map(|k| k.kind)
    }

    /// The SQL columns the key indexes make, by key name, in name order.
    pub fn columns(&self) -> Vec<(String, FieldType)> {
        self.keys.iter().map(|(n, k)| (n.clone(), k.kind)).collect()
    }
}

/// A delimiter set: splits text into tokens.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    ascii: [bool; 128],
    other: Vec<char>,
}

impl Tokenizer {
    /// The tokenizer of a token list (one character per entry).
    pub fn new(tokens: &[String]) -> Tokenizer {
        let mut ascii = [false; 128];
        let mut other = Vec::new();
        for c in tokens.iter().filter_map(|t| t.chars().next()) {
            if c.is_ascii() {
                ascii[c as usize] = true;
            } else {
                other.push(c);
            }
        }
        Tokenizer { ascii, other }
    }

    /// Whether `c` is a delimiter.
    pub fn is_delimiter(&self, c: char) -> bool {
        if c.is_ascii() {
            self.ascii[c as usize]
        } else {
            self.other.contains(&c)
        }
    }

    /// Calls `f` with every non-empty token of `text` until it returns true; returns whether
    /// it did. ASCII delimiters split bytes directly (an ASCII byte is never inside a UTF-8
    /// sequence), so the common case walks the bytes once without decoding. Non-ASCII
    /// delimiters apply to valid UTF-8 only.
    pub fn any_token<'t>(&self, text: &'t [u8], mut f: impl FnMut(&'t [u8]) -> bool) -> bool {
        if !self.other.is_empty() {
            if let Ok(s) = std::str::from_utf8(text) {
                return s
                    .split(|c| self.is_delimiter(c))
                    .filter(|t| !t.is_empty())
                    .any(|t| f(t.as_bytes()));
            }
        }
        let mut start = 0;
        for (i, &b) in text.iter().enumerate() {
            if b < 128 && self.ascii[b as usize] {
                if i > start && f(&text[start..i]) {
                    return true;
                }
                start = i + 1;
            }
        }
        start < text.len() && f(&text[start..])
    }

    /// Whether `text` has a token equal to `term` (ASCII, lower-cased unless
    /// `case_sensitive`), found without splitting: candidates are the positions of the
    /// term's first byte (either case), kept when delimiters (or the ends) surround them.
    /// `None` when this fast path does not apply (non-ASCII term or delimiters).
    pub fn has_ascii_token(&self, text: &[u8], term: &[u8], case_sensitive: bool) -> Option<bool> {
        let (&first, _) = term.split_first()?;
        if !self.other.is_empty() || !term.is_ascii() {
            return None;
        }
        let bounded = |i: usize| {
            text.get(i)
                .is_none_or(|&b| b < 128 && self.ascii[b as usize])
        };
        let hit = |pos: usize| {
            let end = pos + term.len();
            end <= text.len()
                && (pos == 0 || bounded(pos - 1))
                && bounded(end)
                && if case_sensitive {
                    &text[pos..end] == term
                } else {
                    text[pos..end].eq_ignore_ascii_case(term)
                }
        };
        let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
        Some(if case_sensitive || lo == up {
            memchr::memchr_iter(first, text).any(hit)
        } else {
            memchr::memchr2_iter(lo, up, text).any(hit)
        })
    }

    /// Every token of `text`.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        self.tokens_keeping(text, &[])
    }

    /// Every token of `text`, where the characters of `keep` never split (a search term's
    /// `*` and `?` wildcards stay in it even when they are delimiters).
    pub fn tokens_keeping(&self, text: &str, keep: &[char]) -> Vec<String> {
        text.split(|c| self.is_delimiter(c) && !keep.contains(&c))
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[cfg(test)]
#[path = "index_test.rs"]
mod tests;

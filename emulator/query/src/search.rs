//! The search language: the part of a query before `|` (QUERY.md §4; SLS "Search syntax").
//!
//! Parsed once per request against the logstore's index into a tree, then evaluated on each
//! [`Row`]. What the parser does not understand is an error, never a guess.
//!
//! Supported: `*` (or blank) for everything; full-text terms on the line index; `key:value`
//! on key indexes (text keys by token, long/double keys by value, `key:*` for "has the key");
//! `*` and `?` wildcards inside a term (not first); `"..."` for a literal term (operators and
//! delimiters inside lose their meaning; the tokens must all be present) and `#"..."` for a
//! phrase (tokens adjacent, in order); `and`, `or`, `not` in any case (`a not b` is `a and
//! not b`), adjacency as `and`, parentheses, precedence `not` > `and` > `or`; numeric `> >= <
//! <= =` and `key in [a b]` / `(a b]` / `[a b)` / `(a b)` ranges on long and double keys;
//! `__topic__:x`, `__source__:x`, `__tag__:key:value` (or `__tag__\:key:value`). At most 30
//! conditions.

use serde_json::Value;
use wildmatch::WildMatch;

use crate::index::{IndexConfig, KeyIndex, Tokenizer};
use crate::{FieldType, Row};

/// Most conditions in one search (SLS: 30).
pub const MAX_CONDITIONS: usize = 30;

/// A search the parser refuses, with its SLS error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SearchError {
    /// The SLS error code.
    pub code: &'static str,
    /// The SLS error message.
    pub message: String,
}

fn invalid(message: impl Into<String>) -> SearchError {
    SearchError {
        code: "ParameterInvalid",
        message: message.into(),
    }
}

/// Splits a query into its search part and its SQL part at the first `|` outside quotes.
/// A blank search part means `*`.
pub fn split(query: &str) -> (&str, Option<&str>) {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in query.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (_, '\\') => escaped = true,
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '|') => return (query[..i].trim(), Some(query[i + 1..].trim())),
            _ => {}
        }
    }
    (query.trim(), None)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Colon,
    Cmp(Cmp),
    Word(String),
    Quoted(String),
    Phrase(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
}

fn lex(text: &str) -> Result<Vec<Tok>, SearchError> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let quoted = |i: &mut usize| -> Result<String, SearchError> {
        // `chars[*i]` is the opening quote.
        let mut s = String::new();
        *i += 1;
        while *i < chars.len() {
            match chars[*i] {
                '\\' if *i + 1 < chars.len() => {
                    s.push(chars[*i + 1]);
                    *i += 2;
                }
                '"' => {
                    *i += 1;
                    return Ok(s);
                }
                c => {
                    s.push(c);
                    *i += 1;
                }
            }
        }
        Err(invalid(format!("unterminated quote in search: {text}")))
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            '[' => {
                out.push(Tok::LBracket);
                i += 1;
            }
            ']' => {
                out.push(Tok::RBracket);
                i += 1;
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1;
            }
            '>' | '<' | '=' => {
                let eq = chars.get(i + 1) == Some(&'=');
                out.push(Tok::Cmp(match (c, eq) {
                    ('>', true) => Cmp::Ge,
                    ('>', false) => Cmp::Gt,
                    ('<', true) => Cmp::Le,
                    ('<', false) => Cmp::Lt,
                    _ => Cmp::Eq,
                }));
                i += if eq && c != '=' { 2 } else { 1 };
            }
            '"' => out.push(Tok::Quoted(quoted(&mut i)?)),
            '#' if chars.get(i + 1) == Some(&'"') => {
                i += 1;
                out.push(Tok::Phrase(quoted(&mut i)?));
            }
            _ => {
                let mut w = String::new();
                while i < chars.len() {
                    let c = chars[i];
                    if c == '\\' && i + 1 < chars.len() {
                        w.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    if c.is_whitespace() || "()[]:\"<>=".contains(c) {
                        break;
                    }
                    w.push(c);
                    i += 1;
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

/// A term to find among a value's tokens.
#[derive(Debug, Clone)]
enum Pattern {
    /// Equal to the token (lower-cased when case-insensitive).
    Exact(Vec<u8>),
    /// `*`/`?` pattern (lower-cased when case-insensitive).
    Wild(WildMatch),
}

impl Pattern {
    fn matches(&self, token: &[u8], case_sensitive: bool) -> bool {
        match self {
            Pattern::Exact(p) => {
                if case_sensitive {
                    token == p.as_slice()
                } else if token.is_ascii() {
                    token.eq_ignore_ascii_case(p)
                } else {
                    String::from_utf8_lossy(token).to_lowercase().as_bytes() == p.as_slice()
                }
            }
            Pattern::Wild(w) => {
                let t = String::from_utf8_lossy(token);
                if case_sensitive {
                    w.matches(&t)
                } else {
                    w.matches(&t.to_lowercase())
                }
            }
        }
    }
}

/// Where a text condition looks.
#[derive(Debug, Clone)]
enum Field {
    /// Every content value the line index covers: all keys, only `include`, or all but
    /// `exclude`.
    Line {
        include: Option<Vec<String>>,
        exclude: Vec<String>,
    },
    /// One field by name (a content key, `__topic__`, `__source__`, `__tag__:k`).
    Named(String),
    /// A sub-key of a json key: the key, then the path.
    Json(String, Vec<String>),
}

#[derive(Debug, Clone)]
enum Node {
    All,
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// Every pattern matches some token of the field (`phrase`: adjacent, in order).
    Text {
        field: Field,
        tokenizer: Tokenizer,
        case_sensitive: bool,
        patterns: Vec<Pattern>,
        phrase: bool,
    },
    /// The field is present.
    Exists(Field),
    /// A numeric comparison: the value parses and lies in the range.
    Range {
        field: Field,
        low: Option<(f64, bool)>,
        high: Option<(f64, bool)>,
    },
}

/// A parsed search.
#[derive(Debug, Clone)]
pub struct Search {
    root: Node,
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    index: &'a IndexConfig,
    conditions: usize,
    text: &'a str,
}

fn keyword(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn syntax(&self, what: &str) -> SearchError {
        invalid(format!("invalid search syntax ({what}): {}", self.text))
    }

    fn or(&mut self) -> Result<Node, SearchError> {
        let mut parts = vec![self.and()?];
        while keyword(self.peek(), "or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Node::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Node, SearchError> {
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek() {
                None | Some(Tok::RParen) => break,
                t if keyword(t, "or") => break,
                t if keyword(t, "and") => {
                    self.pos += 1;
                    parts.push(self.unary()?);
                }
                // `a not b` is `a and not b`; adjacency is `and`.
                _ => parts.push(self.unary()?),
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Node::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Node, SearchError> {
        if keyword(self.peek(), "not") {
            self.pos += 1;
            return Ok(Node::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, SearchError> {
        match self.next() {
            Some(Tok::LParen) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(inner),
                    _ => Err(self.syntax("missing )")),
                }
            }
            Some(Tok::Word(w)) if w == "*" => Ok(Node::All),
            Some(Tok::Word(w)) if ["and", "or"].iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                Err(self.syntax(&format!("{w} needs a condition on each side")))
            }
            Some(Tok::Word(w)) => self.after_word(w),
            Some(Tok::Quoted(q)) => self.full_text(&q, false, true),
            Some(Tok::Phrase(p)) => self.full_text(&p, true, true),
            Some(t) => Err(self.syntax(&format!("unexpected {t:?}"))),
            None => Err(self.syntax("a condition is missing")),
        }
    }

    /// A word: a key followed by `:`, a comparison or `in`, or a full-text term.
    fn after_word(&mut self, w: String) -> Result<Node, SearchError> {
        match self.peek() {
            Some(Tok::Colon) => {
                self.pos += 1;
                let mut key = w;
                // `__tag__:name:value`.
                if key == "__tag__" {
                    if let (Some(Tok::Word(name)), Some(Tok::Colon)) =
                        (self.peek().cloned(), self.peek_at(1))
                    {
                        key = format!("__tag__:{name}");
                        self.pos += 2;
                    }
                }
                match self.next() {
                    Some(Tok::Word(v)) => self.key_value(&key, &v, false, false),
                    Some(Tok::Quoted(v)) => self.key_value(&key, &v, false, true),
                    Some(Tok::Phrase(v)) => self.key_value(&key, &v, true, true),
                    _ => Err(self.syntax(&format!("{key}: needs a value"))),
                }
            }
            Some(Tok::Cmp(op)) => {
                let op = *op;
                self.pos += 1;
                let v = match self.next() {
                    Some(Tok::Word(v)) => v,
                    _ => return Err(self.syntax(&format!("{w} needs a number to compare with"))),
                };
                let n = self.number(&v)?;
                let (low, high) = match op {
                    Cmp::Gt => (Some((n, false)), None),
                    Cmp::Ge => (Some((n, true)), None),
                    Cmp::Lt => (None, Some((n, false))),
                    Cmp::Le => (None, Some((n, true))),
                    Cmp::Eq => (Some((n, true)), Some((n, true))),
                };
                self.range(&w, low, high)
            }
            t if keyword(t, "in")
                && matches!(self.peek_at(1), Some(Tok::LBracket | Tok::LParen)) =>
            {
                self.pos += 1;
                let low_inclusive = self.next() == Some(Tok::LBracket);
                let (a, b) = match (self.next(), self.next()) {
                    (Some(Tok::Word(a)), Some(Tok::Word(b))) => (a, b),
                    _ => return Err(self.syntax(&format!("{w} in needs two numbers"))),
                };
                let high_inclusive = match self.next() {
                    Some(Tok::RBracket) => true,
                    Some(Tok::RParen) => false,
                    _ => return Err(self.syntax(&format!("{w} in: a range ends with ] or )"))),
                };
                let (a, b) = (self.number(&a)?, self.number(&b)?);
                self.range(&w, Some((a, low_inclusive)), Some((b, high_inclusive)))
            }
            _ => self.full_text(&w, false, false),
        }
    }

    fn number(&self, v: &str) -> Result<f64, SearchError> {
        v.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| self.syntax(&format!("{v:?} is not a number")))
    }

    fn count(&mut self) -> Result<(), SearchError> {
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(invalid(format!(
                "a search has at most {MAX_CONDITIONS} conditions: {}",
                self.text
            )));
        }
        Ok(())
    }

    /// Terms of a value: tokenized, each a pattern. A term may not start with a wildcard.
    fn patterns(
        &self,
        value: &str,
        tokenizer: &Tokenizer,
        case_sensitive: bool,
        literal: bool,
    ) -> Result<Vec<Pattern>, SearchError> {
        let mut out = Vec::new();
        let keep: &[char] = if literal { &[] } else { &['*', '?'] };
        for t in tokenizer.tokens_keeping(value, keep) {
            let t = if case_sensitive { t } else { t.to_lowercase() };
            let wild = !literal && (t.contains('*') || t.contains('?'));
            if wild {
                if t.starts_with('*') || t.starts_with('?') {
                    return Err(invalid(format!(
                        "a search term cannot start with * or ?: {value}"
                    )));
                }
                out.push(Pattern::Wild(WildMatch::new(&t)));
            } else {
                out.push(Pattern::Exact(t.into_bytes()));
            }
        }
        if out.is_empty() {
            return Err(invalid(format!(
                "search term {value:?} has no token once split by the index delimiters"
            )));
        }
        Ok(out)
    }

    fn full_text(&mut self, term: &str, phrase: bool, literal: bool) -> Result<Node, SearchError> {
        self.count()?;
        let Some(line) = &self.index.line else {
            return Err(invalid(format!(
                "full text search ({term}) needs a line (full text) index; this logstore has key indexes only"
            )));
        };
        let tokenizer = Tokenizer::new(&line.token);
        let patterns = self.patterns(term, &tokenizer, line.case_sensitive, literal)?;
        Ok(Node::Text {
            field: Field::Line {
                include: line.include_keys.clone(),
                exclude: line.exclude_keys.clone().unwrap_or_default(),
            },
            tokenizer,
            case_sensitive: line.case_sensitive,
            patterns,
            phrase,
        })
    }

    /// The key index a condition on `key` uses; `__topic__`, `__source__` and tags need none
    /// (they compare whole, with case).
    fn key_index(&self, key: &str) -> Result<(Field, Option<KeyIndex>), SearchError> {
        if key == "__topic__" || key == "__source__" || key.starts_with("__tag__:") {
            return Ok((Field::Named(key.to_string()), self.index.key(key).cloned()));
        }
        if let Some(k) = self.index.key(key) {
            let name = self
                .index
                .keys
                .iter()
                .find(|(_, v)| std::ptr::eq(*v, k))
                .map(|(n, _)| n.clone())
                .unwrap_or_else(|| key.to_string());
            return Ok((Field::Named(name), Some(k.clone())));
        }
        // `a.b`: sub-key `b` of json key `a`.
        let mut parts = key.split('.');
        if let Some(first) = parts.next() {
            if let Some(k) = self
                .index
                .keys
                .get(first)
                .filter(|k| k.kind == FieldType::Json)
            {
                let path: Vec<String> = parts.map(str::to_string).collect();
                let sub = k
                    .json_keys
                    .as_ref()
                    .and_then(|j| j.get(&path.join(".")))
                    .cloned();
                if sub.is_some() || k.index_all == Some(true) {
                    let mut sub = sub.unwrap_or_else(|| k.clone());
                    if sub.token.is_empty() {
                        sub.token.clone_from(&k.token);
                    }
                    return Ok((Field::Json(first.to_string(), path), Some(sub)));
                }
            }
        }
        Err(invalid(format!(
            "key ({key}) is not config as key value config"
        )))
    }

    fn key_value(
        &mut self,
        key: &str,
        value: &str,
        phrase: bool,
        literal: bool,
    ) -> Result<Node, SearchError> {
        let (field, k) = self.key_index(key)?;
        if value == "*" && !literal {
            self.count()?;
            return Ok(Node::Exists(field));
        }
        match k.as_ref().map(|k| k.kind) {
            Some(FieldType::Long | FieldType::Double) => {
                let n = self.number(value)?;
                self.count()?;
                Ok(Node::Range {
                    field,
                    low: Some((n, true)),
                    high: Some((n, true)),
                })
            }
            Some(FieldType::Text | FieldType::Json) => {
                self.count()?;
                let (tokens, case_sensitive) = match &k {
                    Some(k) => (k.token.clone(), k.case_sensitive),
                    None => (Vec::new(), true),
                };
                let tokenizer = Tokenizer::new(&tokens);
                let patterns = self.patterns(value, &tokenizer, case_sensitive, literal)?;
                Ok(Node::Text {
                    field,
                    tokenizer,
                    case_sensitive,
                    patterns,
                    phrase,
                })
            }
            // Topic, source, tags without a key index: the whole value, with case.
            None => {
                self.count()?;
                let tokenizer = Tokenizer::new(&[]);
                let patterns = self.patterns(value, &tokenizer, true, literal)?;
                Ok(Node::Text {
                    field,
                    tokenizer,
                    case_sensitive: true,
                    patterns,
                    phrase,
                })
            }
        }
    }

    fn range(
        &mut self,
        key: &str,
        low: Option<(f64, bool)>,
        high: Option<(f64, bool)>,
    ) -> Result<Node, SearchError> {
        let (field, k) = self.key_index(key)?;
        if !matches!(k.map(|k| k.kind), Some(FieldType::Long | FieldType::Double)) {
            return Err(invalid(format!(
                "key ({key}) is not a long or double key: numeric comparisons need one"
            )));
        }
        self.count()?;
        Ok(Node::Range { field, low, high })
    }
}

impl Search {
    /// Parses the search part of a query against a logstore's index.
    ///
    /// # Errors
    /// [`SearchError`]: a syntax error, a key without a key index, a full-text term without a
    /// line index, a comparison on a key that is not long or double, more than
    /// [`MAX_CONDITIONS`] conditions.
    pub fn parse(text: &str, index: &IndexConfig) -> Result<Search, SearchError> {
        let toks = lex(text)?;
        if toks.is_empty() {
            return Ok(Search { root: Node::All });
        }
        let mut p = Parser {
            toks,
            pos: 0,
            index,
            conditions: 0,
            text,
        };
        let root = p.or()?;
        if p.pos < p.toks.len() {
            return Err(p.syntax("unbalanced )"));
        }
        Ok(Search { root })
    }

    /// Whether the search matches everything.
    pub fn is_all(&self) -> bool {
        matches!(self.root, Node::All)
    }

    /// Whether a log matches.
    pub fn matches(&self, row: &Row<'_>) -> bool {
        eval(&self.root, row)
    }
}

/// The value(s) a field has in a row (a log may repeat a key: each value counts).
fn with_values(field: &Field, row: &Row<'_>, mut f: impl FnMut(&[u8]) -> bool) -> bool {
    match field {
        Field::Line { include, exclude } => row
            .contents
            .iter()
            .filter(|c| {
                let covered = |keys: &[String]| keys.iter().any(|k| k.as_bytes() == c.key.as_ref());
                include.as_deref().is_none_or(covered) && !covered(exclude)
            })
            .any(|c| f(&c.value)),
        Field::Named(name) => match name.as_str() {
            "__topic__" | "__source__" => row.value(name).is_some_and(f),
            n if n.starts_with("__tag__:") => row.value(n).is_some_and(f),
            n => row
                .contents
                .iter()
                .filter(|c| c.key.as_ref() == n.as_bytes())
                .any(|c| f(&c.value)),
        },
        Field::Json(key, path) => row.value(key).is_some_and(|v| {
            let Ok(json) = serde_json::from_slice::<Value>(v) else {
                return false;
            };
            let mut cur = &json;
            for p in path {
                match cur.get(p) {
                    Some(next) => cur = next,
                    None => return false,
                }
            }
            match cur {
                Value::String(s) => f(s.as_bytes()),
                other => f(other.to_string().as_bytes()),
            }
        }),
    }
}

fn text_matches(
    field: &Field,
    row: &Row<'_>,
    tokenizer: &Tokenizer,
    case_sensitive: bool,
    patterns: &[Pattern],
    phrase: bool,
) -> bool {
    if phrase || patterns.len() > 1 {
        // All tokens in one value (adjacent and in order for a phrase).
        let one_value = |v: &[u8]| {
            let mut toks: Vec<&[u8]> = Vec::new();
            tokenizer.any_token(v, |t| {
                toks.push(t);
                false
            });
            if phrase {
                toks.windows(patterns.len()).any(|w| {
                    w.iter()
                        .zip(patterns)
                        .all(|(t, p)| p.matches(t, case_sensitive))
                })
            } else {
                patterns
                    .iter()
                    .all(|p| toks.iter().any(|t| p.matches(t, case_sensitive)))
            }
        };
        return with_values(field, row, one_value);
    }
    let Some(p) = patterns.first() else {
        return false;
    };
    with_values(field, row, |v| {
        if let Pattern::Exact(term) = p {
            if let Some(found) = tokenizer.has_ascii_token(v, term, case_sensitive) {
                return found;
            }
        }
        tokenizer.any_token(v, |t| p.matches(t, case_sensitive))
    })
}

fn parse_number(v: &[u8]) -> Option<f64> {
    std::str::from_utf8(v).ok()?.trim().parse::<f64>().ok()
}

fn eval(node: &Node, row: &Row<'_>) -> bool {
    match node {
        Node::All => true,
        Node::And(parts) => parts.iter().all(|n| eval(n, row)),
        Node::Or(parts) => parts.iter().any(|n| eval(n, row)),
        Node::Not(inner) => !eval(inner, row),
        Node::Text {
            field,
            tokenizer,
            case_sensitive,
            patterns,
            phrase,
        } => text_matches(field, row, tokenizer, *case_sensitive, patterns, *phrase),
        Node::Exists(field) => with_values(field, row, |_| true),
        Node::Range { field, low, high } => with_values(field, row, |v| {
            let Some(n) = parse_number(v) else {
                return false;
            };
            let above = match low {
                Some((l, true)) => n >= *l,
                Some((l, false)) => n > *l,
                None => true,
            };
            let below = match high {
                Some((h, true)) => n <= *h,
                Some((h, false)) => n < *h,
                None => true,
            };
            above && below
        }),
    }
}

#[cfg(test)]
#[path = "search_test.rs"]
mod tests;

//! SLS analytic SQL (the part of a query after `|`, and project-level SQL) on Apache
//! DataFusion (default features off: SQL planning, datetime, string and math functions).
//!
//! Logs become Arrow columns ([`TableBuilder`]): `__time__` Int64 (unix seconds),
//! `__time_ns_part__` Int64, `__topic__` and `__source__` Utf8, one Utf8 column per
//! `__tag__:key` seen, and one column per indexed key (text and json keys Utf8, long Int64,
//! double Float64; a value that does not parse is NULL, a missing key NULL).
//!
//! The SLS dialect on top of DataFusion's: `FROM log` is implied, a query without `LIMIT`
//! answers at most 100 rows, `LIMIT offset, count` works (sqlparser's generic dialect), double
//! quotes name columns and keep their case (identifier normalization is off), no trailing
//! semicolon. SLS functions DataFusion lacks are UDFs: `date_trunc(unit, bigint seconds)`
//! returns seconds, `date_format(seconds, mysql format)`.
//! Every result value is a string (SLS clients decode rows as string maps); NULL is `null`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, Float64Builder, Int64Array, Int64Builder, RecordBatch, StringArray,
    StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, LimitClause, ObjectName, Query, SetExpr, Statement, TableFactor, TableWithJoins,
    Value,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use sls_query::{FieldType, Row};

/// Rows a SQL query answers when it has no `LIMIT` (SLS: 100).
pub const DEFAULT_LIMIT: u64 = 100;

/// A query SLS would refuse: its error code and message (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SqlError {
    /// The SLS error code.
    pub code: &'static str,
    /// The SLS error message.
    pub message: String,
}

fn invalid(message: impl Into<String>) -> SqlError {
    SqlError {
        code: "ParameterInvalid",
        message: message.into(),
    }
}

/// A SQL answer: column names, and rows of string values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SqlResult {
    /// Column names, in select order.
    pub columns: Vec<String>,
    /// Rows; every value a string (`null` for NULL).
    pub rows: Vec<Vec<String>>,
}

enum Column {
    Text(StringBuilder),
    Long(Int64Builder),
    Double(Float64Builder),
}

/// Builds the Arrow table of a logstore's logs, one [`Row`] at a time.
pub struct TableBuilder {
    keys: Vec<(String, Column)>,
    time: Int64Builder,
    time_ns: Int64Builder,
    topic: StringBuilder,
    source: StringBuilder,
    /// Tag columns by key; a tag first seen at row n starts with n NULLs.
    tags: BTreeMap<String, StringBuilder>,
    rows: usize,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl TableBuilder {
    /// A table with the columns of these indexed keys (and the fixed ones).
    pub fn new(columns: &[(String, FieldType)]) -> TableBuilder {
        let keys = columns
            .iter()
            .filter(|(name, _)| !is_fixed(name) && !name.starts_with("__tag__:"))
            .map(|(name, ty)| {
                let col = match ty {
                    FieldType::Long => Column::Long(Int64Builder::new()),
                    FieldType::Double => Column::Double(Float64Builder::new()),
                    FieldType::Text | FieldType::Json => Column::Text(StringBuilder::new()),
                };
                (name.clone(), col)
            })
            .collect();
        TableBuilder {
            keys,
            time: Int64Builder::new(),
            time_ns: Int64Builder::new(),
            topic: StringBuilder::new(),
            source: StringBuilder::new(),
            tags: BTreeMap::new(),
            rows: 0,
        }
    }

    /// Adds one log.
    pub fn push(&mut self, row: &Row<'_>) {
        self.time.append_value(i64::from(row.time));
        self.time_ns.append_option(row.time_ns.map(i64::from));
        self.topic.append_value(text(row.topic));
        self.source.append_value(text(row.source));
        for t in row.tags {
            let key = format!("__tag__:{}", text(&t.key));
            let rows = self.rows;
            self.tags.entry(key).or_insert_with(|| {
                let mut b = StringBuilder::new();
                for _ in 0..rows {
                    b.append_null();
                }
                b
            });
        }
        for (key, b) in &mut self.tags {
            let name = &key["__tag__:".len()..];
            match row.tags.iter().find(|t| t.key.as_ref() == name.as_bytes()) {
                Some(t) => b.append_value(text(&t.value)),
                None => b.append_null(),
            }
        }
        for (name, col) in &mut self.keys {
            let v = row
                .contents
                .iter()
                .find(|c| c.key.as_ref() == name.as_bytes())
                .map(|c| c.value.as_ref());
            let parsed = || v.and_then(|v| std::str::from_utf8(v).ok()).map(str::trim);
            match col {
                Column::Text(b) => b.append_option(v.map(text)),
                Column::Long(b) => b.append_option(parsed().and_then(|s| {
                    s.parse::<i64>()
                        .ok()
                        .or_else(|| s.parse::<f64>().ok().map(|f| f as i64))
                })),
                Column::Double(b) => b.append_option(parsed().and_then(|s| s.parse().ok())),
            }
        }
        self.rows += 1;
    }

    /// The table.
    ///
    /// # Errors
    /// If Arrow refuses the columns (an internal inconsistency).
    pub fn finish(mut self) -> Result<Table, SqlError> {
        let mut fields = vec![
            Field::new("__time__", DataType::Int64, false),
            Field::new("__time_ns_part__", DataType::Int64, true),
            Field::new("__topic__", DataType::Utf8, false),
            Field::new("__source__", DataType::Utf8, false),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(self.time.finish()),
            Arc::new(self.time_ns.finish()),
            Arc::new(self.topic.finish()),
            Arc::new(self.source.finish()),
        ];
        for (name, b) in &mut self.tags {
            fields.push(Field::new(name, DataType::Utf8, true));
            arrays.push(Arc::new(b.finish()));
        }
        for (name, col) in &mut self.keys {
            let (ty, array): (DataType, ArrayRef) = match col {
                Column::Text(b) => (DataType::Utf8, Arc::new(b.finish())),
                Column::Long(b) => (DataType::Int64, Arc::new(b.finish())),
                Column::Double(b) => (DataType::Float64, Arc::new(b.finish())),
            };
            fields.push(Field::new(name.as_str(), ty, true));
            arrays.push(array);
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema, arrays)
            .map_err(|e| invalid(format!("building the table: {e}")))?;
        Ok(Table { batch })
    }
}

fn is_fixed(name: &str) -> bool {
    matches!(
        name,
        "__time__" | "__time_ns_part__" | "__topic__" | "__source__"
    )
}

/// A logstore's logs as one Arrow batch.
#[derive(Debug, Clone)]
pub struct Table {
    batch: RecordBatch,
}

impl Table {
    /// Rows in the table.
    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }
}

/// Parses an SLS SQL statement (one `SELECT`, no trailing semicolon).
fn parse(sql: &str) -> Result<Box<Query>, SqlError> {
    let trimmed = sql.trim();
    if trimmed.is_empty() {
        return Err(invalid("sql query is empty"));
    }
    if trimmed.ends_with(';') {
        return Err(invalid(format!(
            "a query must not end with a semicolon: {trimmed}"
        )));
    }
    let mut statements = Parser::parse_sql(&GenericDialect {}, trimmed)
        .map_err(|e| invalid(format!("SQL syntax error: {e}")))?;
    match (statements.pop(), statements.is_empty()) {
        (Some(Statement::Query(q)), true) => Ok(q),
        _ => Err(invalid(format!(
            "only one SELECT statement is allowed: {trimmed}"
        ))),
    }
}

/// The tables a project-level query names in its FROM clauses (each a logstore).
///
/// # Errors
/// A syntax error.
pub fn tables_named(sql: &str) -> Result<Vec<String>, SqlError> {
    let q = parse(sql)?;
    let mut out = Vec::new();
    collect_tables(&q, &mut out);
    out.sort();
    out.dedup();
    Ok(out)
}

fn collect_tables(q: &Query, out: &mut Vec<String>) {
    if let Some(with) = &q.with {
        for cte in &with.cte_tables {
            collect_tables(&cte.query, out);
        }
    }
    collect_set(&q.body, out);
}

fn collect_set(body: &SetExpr, out: &mut Vec<String>) {
    match body {
        SetExpr::Select(s) => {
            for t in &s.from {
                collect_factor(&t.relation, out);
                for j in &t.joins {
                    collect_factor(&j.relation, out);
                }
            }
        }
        SetExpr::Query(q) => collect_tables(q, out),
        SetExpr::SetOperation { left, right, .. } => {
            collect_set(left, out);
            collect_set(right, out);
        }
        _ => {}
    }
}

fn collect_factor(f: &TableFactor, out: &mut Vec<String>) {
    match f {
        TableFactor::Table { name, .. } => {
            if let Some(last) = name.0.last().and_then(|p| p.as_ident()) {
                out.push(last.value.clone());
            }
        }
        TableFactor::Derived { subquery, .. } => collect_tables(subquery, out),
        _ => {}
    }
}

/// `FROM log` where the outer SELECT has no FROM, and `LIMIT 100` where the query has none.
fn sls_defaults(q: &mut Query) {
    if let SetExpr::Select(s) = q.body.as_mut() {
        if s.from.is_empty() {
            s.from.push(TableWithJoins {
                relation: TableFactor::Table {
                    name: ObjectName::from(vec![Ident::new("log")]),
                    alias: None,
                    args: None,
                    with_hints: vec![],
                    version: None,
                    with_ordinality: false,
                    partitions: vec![],
                    json_path: None,
                    sample: None,
                    index_hints: vec![],
                },
                joins: vec![],
            });
        }
    }
    if q.limit_clause.is_none() && q.fetch.is_none() {
        q.limit_clause = Some(LimitClause::LimitOffset {
            limit: Some(Expr::value(Value::Number(DEFAULT_LIMIT.to_string(), false))),
            offset: None,
            limit_by: vec![],
        });
    }
}

/// The SLS error for a DataFusion failure: unknown columns and functions in SLS's words.
fn sls_error(e: DataFusionError) -> SqlError {
    let text = e.to_string();
    if let Some(rest) = text.split("No field named ").nth(1) {
        let name = rest
            .split(['.', ' '])
            .next()
            .unwrap_or(rest)
            .trim_matches(['"', '\'']);
        return invalid(format!(
            "Column '{name}' cannot be resolved;please add the column in the index attribute"
        ));
    }
    if let Some(rest) = text.split("Invalid function '").nth(1) {
        let name = rest.split('\'').next().unwrap_or(rest);
        return invalid(format!(
            "function {name} is not supported by sls-emu's SQL engine (DataFusion)"
        ));
    }
    invalid(format!("SQL error: {text}"))
}

/// Runs an SLS SQL query over named tables (`log` for a logstore query; logstore names for
/// project-level SQL).
///
/// # Errors
/// [`SqlError`]: syntax, unknown column or function, a type error, anything DataFusion
/// refuses.
pub async fn run(sql: &str, tables: Vec<(String, Table)>) -> Result<SqlResult, SqlError> {
    let mut q = parse(sql)?;
    sls_defaults(&mut q);
    let mut config = SessionConfig::new().with_target_partitions(2);
    config.options_mut().sql_parser.enable_ident_normalization = false;
    let ctx = SessionContext::new_with_config(config);
    register_functions(&ctx);
    for (name, table) in tables {
        let schema = table.batch.schema();
        let mem = MemTable::try_new(schema, vec![vec![table.batch]]).map_err(sls_error)?;
        ctx.register_table(name.as_str(), Arc::new(mem))
            .map_err(sls_error)?;
    }
    let state = ctx.state();
    let plan = state
        .statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(q))))
        .await
        .map_err(sls_error)?;
    let batches = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(sls_error)?
        .collect()
        .await
        .map_err(sls_error)?;
    let columns: Vec<String> = match batches.first() {
        Some(b) => b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
        None => Vec::new(),
    };
    let mut rows = Vec::new();
    for b in &batches {
        let cols: Vec<ArrayRef> = b
            .columns()
            .iter()
            .map(display_form)
            .collect::<Result<_, _>>()?;
        let options = FormatOptions::default().with_null("null");
        let formatters: Vec<ArrayFormatter<'_>> = cols
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(format!("formatting the result: {e}")))?;
        for r in 0..b.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    Ok(SqlResult { columns, rows })
}

/// Timestamps as SLS prints them (`2024-01-02 03:04:05.000`); other columns as they are.
fn display_form(c: &ArrayRef) -> Result<ArrayRef, SqlError> {
    let DataType::Timestamp(_, _) = c.data_type() else {
        return Ok(c.clone());
    };
    let nanos =
        datafusion::arrow::compute::cast(c, &DataType::Timestamp(TimeUnit::Nanosecond, None))
            .and_then(|a| datafusion::arrow::compute::cast(&a, &DataType::Int64))
            .map_err(|e| invalid(format!("formatting a timestamp: {e}")))?;
    let nanos = nanos
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| invalid("formatting a timestamp"))?;
    let out: StringArray = nanos
        .iter()
        .map(|v| {
            v.map(|n| {
                DateTime::from_timestamp_nanos(n)
                    .format("%Y-%m-%d %H:%M:%S%.3f")
                    .to_string()
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// `date_trunc(unit, seconds)` on bigint unix seconds (SLS returns the type it is given).
fn trunc_seconds(unit: &str, secs: i64) -> Option<i64> {
    let t = DateTime::from_timestamp(secs, 0)?.naive_utc();
    let d = t.date();
    let start = match unit.to_ascii_lowercase().as_str() {
        "second" => return Some(secs),
        "minute" => return Some(secs - secs.rem_euclid(60)),
        "hour" => return Some(secs - secs.rem_euclid(3600)),
        "day" => d,
        "week" => d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday())),
        "month" => d.with_day(1)?,
        "quarter" => d.with_day(1)?.with_month((d.month() - 1) / 3 * 3 + 1)?,
        "year" => d.with_day(1)?.with_month(1)?,
        _ => return None,
    };
    Some(start.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

/// MySQL `date_format` specifiers (what SLS's `date_format` takes) to chrono's.
fn mysql_format(secs: i64, format: &str) -> Option<String> {
    let t = DateTime::from_timestamp(secs, 0)?;
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push('%');
            break;
        };
        let piece = match spec {
            'Y' => format!("{:04}", t.year()),
            'y' => format!("{:02}", t.year() % 100),
            'm' => format!("{:02}", t.month()),
            'c' => t.month().to_string(),
            'd' => format!("{:02}", t.day()),
            'e' => t.day().to_string(),
            'H' => format!("{:02}", t.hour()),
            'k' => t.hour().to_string(),
            'h' | 'I' => format!("{:02}", (t.hour() + 11) % 12 + 1),
            'l' => ((t.hour() + 11) % 12 + 1).to_string(),
            'i' => format!("{:02}", t.minute()),
            's' | 'S' => format!("{:02}", t.second()),
            'f' => "000000".to_string(),
            'p' => if t.hour() < 12 { "AM" } else { "PM" }.to_string(),
            'T' => t.format("%H:%M:%S").to_string(),
            'r' => t.format("%I:%M:%S %p").to_string(),
            'j' => format!("{:03}", t.ordinal()),
            'M' => t.format("%B").to_string(),
            'b' => t.format("%b").to_string(),
            'W' => t.format("%A").to_string(),
            'a' => t.format("%a").to_string(),
            'w' => t.weekday().num_days_from_sunday().to_string(),
            '%' => "%".to_string(),
            other => format!("%{other}"),
        };
        out.push_str(&piece);
    }
    Some(out)
}

/// Applies `f` to every (string, seconds) pair of two columnar arguments.
fn map2<T>(
    args: &[ColumnarValue],
    f: impl Fn(&str, i64) -> Option<T>,
    build: impl FnOnce(Vec<Option<T>>) -> ArrayRef,
    string_first: bool,
) -> datafusion::error::Result<ColumnarValue> {
    let rows = args
        .iter()
        .find_map(|a| match a {
            ColumnarValue::Array(a) => Some(a.len()),
            ColumnarValue::Scalar(_) => None,
        })
        .unwrap_or(1);
    let arrays: Vec<ArrayRef> = args
        .iter()
        .map(|a| a.clone().into_array(rows))
        .collect::<datafusion::error::Result<_>>()?;
    let (s, n) = if string_first { (0, 1) } else { (1, 0) };
    let strings = datafusion::arrow::compute::cast(&arrays[s], &DataType::Utf8)?;
    let strings = strings
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| DataFusionError::Internal("expected strings".into()))?;
    let numbers = datafusion::arrow::compute::cast(&arrays[n], &DataType::Int64)?;
    let numbers = numbers
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| DataFusionError::Internal("expected integers".into()))?;
    let out: Vec<Option<T>> = (0..rows)
        .map(|i| {
            if strings.is_null(i) || numbers.is_null(i) {
                None
            } else {
                f(strings.value(i), numbers.value(i))
            }
        })
        .collect();
    let array = build(out);
    Ok(
        if rows == 1 && args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?)
        } else {
            ColumnarValue::Array(array)
        },
    )
}

fn register_functions(ctx: &SessionContext) {
    ctx.register_udf(create_udf(
        "date_trunc",
        vec![DataType::Utf8, DataType::Int64],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            map2(
                args,
                trunc_seconds,
                |v| Arc::new(Int64Array::from(v)) as ArrayRef,
                true,
            )
        }),
    ));
    ctx.register_udf(create_udf(
        "date_format",
        vec![DataType::Int64, DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            map2(
                args,
                |fmt, secs| mysql_format(secs, fmt),
                |v| Arc::new(StringArray::from(v)) as ArrayRef,
                false,
            )
        }),
    ));
}

#[cfg(test)]
#[path = "lib_test.rs"]
mod tests;

use bytes::Bytes;
use sls_protocol::proto::{LogContent, LogTag};

use super::*;

struct Log {
    time: u32,
    contents: Vec<LogContent>,
    tags: Vec<LogTag>,
}

fn logs() -> Vec<Log> {
    (0..250u32)
        .map(|i| {
            let pair = |k: &str, v: String| LogContent {
                key: Bytes::copy_from_slice(k.as_bytes()),
                value: v.into(),
            };
            let mut contents = vec![
                pair(
                    "method",
                    ["GET", "GET", "POST", "PUT", "DELETE"][(i % 5) as usize].into(),
                ),
                pair("status", if i % 10 == 0 { "500" } else { "200" }.into()),
                pair("latency", format!("{}.5", i)),
                pair("Path", format!("/api/{}", i % 3)),
            ];
            if i == 7 {
                contents[1].value = Bytes::from_static(b"not a number");
            }
            Log {
                time: 1_700_000_000 + i / 10,
                contents,
                tags: if i % 2 == 0 {
                    vec![LogTag {
                        key: Bytes::from_static(b"host"),
                        value: Bytes::from_static(b"h1"),
                    }]
                } else {
                    vec![]
                },
            }
        })
        .collect()
}

fn table() -> Table {
    let cols = vec![
        ("method".to_string(), FieldType::Text),
        ("status".to_string(), FieldType::Long),
        ("latency".to_string(), FieldType::Double),
        ("Path".to_string(), FieldType::Text),
    ];
    let mut b = TableBuilder::new(&cols);
    for l in &logs() {
        b.push(&Row {
            time: l.time,
            time_ns: None,
            topic: b"web",
            source: b"10.0.0.1",
            tags: &l.tags,
            contents: &l.contents,
        });
    }
    b.finish().unwrap()
}

async fn sql(q: &str) -> Result<SqlResult, SqlError> {
    run(q, vec![("log".to_string(), table())]).await
}

async fn ok(q: &str) -> SqlResult {
    sql(q).await.unwrap_or_else(|e| panic!("{q}: {e}"))
}

#[tokio::test]
async fn group_by_count_with_implied_from() {
    let r = ok("select method, count(*) as c group by method order by c desc, method").await;
    assert_eq!(r.columns, ["method", "c"]);
    assert_eq!(
        r.rows,
        [
            ["GET", "100"],
            ["DELETE", "50"],
            ["POST", "50"],
            ["PUT", "50"]
        ]
    );
}

#[tokio::test]
async fn default_limit_and_mysql_limit() {
    assert_eq!(
        ok("select latency").await.rows.len(),
        100,
        "LIMIT 100 by default"
    );
    assert_eq!(
        ok("select latency from log limit 1000").await.rows.len(),
        250
    );
    let r = ok("select latency order by latency limit 10, 3").await;
    assert_eq!(r.rows, [["10.5"], ["11.5"], ["12.5"]]);
}

#[tokio::test]
async fn aggregates_types_and_nulls() {
    let r = ok("select count(1), sum(status), max(latency), min(__time__), count(distinct method), approx_distinct(method) where status = 500").await;
    assert_eq!(r.rows, [["25", "12500", "240.5", "1700000000", "1", "1"]]);
    // A value that does not parse as long is NULL.
    let r = ok("select count(*) where status is null").await;
    assert_eq!(r.rows, [["1"]]);
    let r = ok("select \"__tag__:host\", count(*) group by \"__tag__:host\" order by 1 nulls last")
        .await;
    assert_eq!(r.rows, [["h1", "125"], ["null", "125"]]);
    // Quoted names keep their case.
    let r = ok("select \"Path\", count(*) as n group by \"Path\" order by \"Path\"").await;
    assert_eq!(r.rows[0], ["/api/0", "84"]);
}

#[tokio::test]
async fn time_functions() {
    // Times run from 1700000000 (:20 past a minute) to 1700000024.
    let r = ok("select __time__ - __time__ % 10 as t, count(*) group by t order by t").await;
    assert_eq!(
        r.rows,
        [
            ["1700000000", "100"],
            ["1700000010", "100"],
            ["1700000020", "50"]
        ]
    );
    let r = ok("select date_trunc('minute', __time__) as m, count(*) as c group by m").await;
    assert_eq!(r.rows, [["1699999980", "250"]]);
    let r = ok("select date_trunc('hour', max(__time__))").await;
    assert_eq!(r.rows, [["1699999200"]]);
    let r = ok("select date_format(min(__time__), '%Y-%m-%d %H:%i:%s')").await;
    assert_eq!(r.rows, [["2023-11-14 22:13:20"]]);
    let r = ok("select try_cast(max(latency) as bigint), try_cast('x' as bigint)").await;
    assert_eq!(r.rows, [["249", "null"]]);
    let r = ok("select from_unixtime(min(__time__))").await;
    assert_eq!(r.rows, [["2023-11-14 22:13:20.000"]]);
}

#[tokio::test]
async fn errors_in_sls_words() {
    let e = sql("select nokey").await.unwrap_err();
    assert_eq!(
        e.message,
        "Column 'nokey' cannot be resolved;please add the column in the index attribute"
    );
    assert_eq!(e.code, "ParameterInvalid");
    let e = sql("select compare(1, 2)").await.unwrap_err();
    assert!(e.message.contains("compare"), "{e}");
    for bad in [
        "select",
        "select 1;",
        "select 1; select 2",
        "delete from log",
        "",
    ] {
        assert_eq!(
            sql(bad).await.unwrap_err().code,
            "ParameterInvalid",
            "{bad}"
        );
    }
}

#[test]
fn project_sql_names_its_tables() {
    assert_eq!(
        tables_named("select count(*) from app join other on app.a = other.a").unwrap(),
        ["app", "other"]
    );
    assert_eq!(
        tables_named("select * from (select * from inner_ls) t").unwrap(),
        ["inner_ls"]
    );
}

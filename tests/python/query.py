"""Indexes and queries with the official Python SDK against sls-emu.

Usage: query.py --endpoint localhost:PORT --access-key-id AK --access-key-secret SK [--v1]

Creates an index (line + text/long/double keys), writes 250 logs of known content in two
topics, then checks what get_log, get_log_all (paging past 100), get_logs, get_histograms and
the index calls answer against what was written. `--v1` switches the SDK's GetLogs v2 off, so
the same checks go through `GET ?type=log`. Exits non-zero on the first failed check.
"""
import argparse
import os
import sys
import time

from aliyun.log import (GetHistogramsRequest, GetLogsRequest, GetProjectLogsRequest, IndexConfig,
                        IndexKeyConfig, IndexLineConfig, LogClient, LogException, LogItem,
                        PutLogsRequest)

TOKENS = [",", " ", "'", "\"", ";", "=", "(", ")", "[", "]", "{", "}", "?", "@", "&", "<",
          ">", "/", ":", "\n", "\t", "\r"]
METHODS = ["GET", "POST", "PUT", "DELETE", "GET"]


def check(cond, what):
    if not cond:
        print("FAIL " + what)
        sys.exit(1)
    print("PASS " + what)


def error_code(f):
    try:
        f()
    except LogException as e:
        return e.get_error_code(), e.get_error_message()
    return None, None


def written_logs(base):
    """250 logs: (time, topic, fields)."""
    out = []
    for i in range(250):
        fields = {
            "id": "log-%03d" % i,
            "method": METHODS[i % 5],
            "status": str(500 if i % 10 == 0 else 200),
            "latency": "%.1f" % (i / 10.0),
            "msg": "user-%d fetched /api/items?page=%d" % (i % 7, i),
        }
        out.append((base + i // 10, "web" if i % 2 == 0 else "batch", fields))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--access-key-id", required=True)
    ap.add_argument("--access-key-secret", required=True)
    ap.add_argument("--v1", action="store_true")
    a = ap.parse_args()
    client = LogClient(a.endpoint, a.access_key_id, a.access_key_secret)
    client.timeout = 15
    if a.v1:
        client._get_logs_v2_enabled = False
    project = "py-query-%d-%d" % (os.getpid(), int(time.time()) % 100000)
    client.create_project(project, "query")
    try:
        client.create_logstore(project, "app", ttl=1, shard_count=2)
        client.create_logstore(project, "plain", ttl=1, shard_count=1)
        run(client, project)
    finally:
        for ls in ("app", "plain"):
            try:
                client.delete_logstore(project, ls)
            except LogException:
                pass
        client.delete_project(project)


def run(client, project):
    base = int(time.time()) - 600
    logs = written_logs(base)

    code, msg = error_code(lambda: client.get_log(project, "plain", base, base + 100, query="*"))
    check(code == "IndexConfigNotExist", "a query without an index: %s %s" % (code, msg))

    index = IndexConfig(line_config=IndexLineConfig(token_list=TOKENS), key_config_list={
        "method": IndexKeyConfig(token_list=TOKENS, doc_value=True),
        "status": IndexKeyConfig(index_type="long", doc_value=True),
        "latency": IndexKeyConfig(index_type="double", doc_value=True),
        "id": IndexKeyConfig(token_list=TOKENS, doc_value=True),
    })
    client.create_index(project, "app", index)
    got = client.get_index_config(project, "app").get_index_config()
    check(sorted(got.key_config_list) == ["id", "latency", "method", "status"],
          "get_index_config echoes the keys")
    check(got.key_config_list["status"].index_type == "long", "the long key keeps its type")
    code, _ = error_code(lambda: client.create_index(project, "app", index))
    check(code == "IndexAlreadyExist", "a second create_index: %s" % code)

    for topic in ("web", "batch"):
        items = [LogItem(timestamp=t, contents=sorted(f.items())) for (t, tp, f) in logs if tp == topic]
        client.put_logs(PutLogsRequest(project, "app", topic, "10.0.0.1", items))

    def ids(resp):
        return [l.get_contents()["id"] for l in resp.get_logs()]

    frm, to = base, base + 25
    r = client.get_log(project, "app", frm, to, query="*", size=100)
    check(r.is_completed(), "progress is Complete")
    check(r.get_count() == 100, "a page holds 100 logs (got %d)" % r.get_count())
    first = r.get_logs()[0]
    check(int(first.get_time()) == base and first.get_source() == "10.0.0.1",
          "rows carry __time__ and __source__")
    check(all(isinstance(v, str) for v in first.get_contents().values()), "values are strings")

    every = []
    for page in client.get_log_all(project, "app", frm, to, query="*"):
        every.extend(ids(page))
    check(sorted(every) == sorted(f["id"] for (_, _, f) in logs),
          "get_log_all pages through all 250 logs (got %d)" % len(every))
    times = [int(l.get_time()) for l in client.get_log(project, "app", frm, to, size=300).get_logs()]
    check(times == sorted(times) and len(times) == 250, "size 300 pages in time order")

    newest = client.get_log(project, "app", frm, to, query="*", size=5, reverse=True)
    check(int(newest.get_logs()[0].get_time()) == base + 24, "reverse gives the newest first")

    def count(query, topic=None):
        total = 0
        for page in client.get_log_all(project, "app", frm, to, topic=topic, query=query):
            total += page.get_count()
        return total

    expect = lambda pred: sum(1 for (_, tp, f) in logs if pred(tp, f))
    cases = [
        ("method: GET", lambda tp, f: f["method"] == "GET"),
        ("method: get and status >= 500", lambda tp, f: f["method"] == "GET" and f["status"] == "500"),
        ("status in [200 300)", lambda tp, f: f["status"] == "200"),
        ("latency > 20.0", lambda tp, f: float(f["latency"]) > 20.0),
        ("not method: GET", lambda tp, f: f["method"] != "GET"),
        ("method: PUT or method: DELETE", lambda tp, f: f["method"] in ("PUT", "DELETE")),
        ("user-3", lambda tp, f: "user-3 " in f["msg"]),
        ("items and user-1", lambda tp, f: "user-1 " in f["msg"]),
        ("id: log-01*", lambda tp, f: f["id"].startswith("log-01")),
        ("__topic__: batch", lambda tp, f: tp == "batch"),
    ]
    for query, pred in cases:
        got, want = count(query), expect(pred)
        check(got == want, "%r matches %d logs (got %d)" % (query, want, got))
    got = count("*", topic="web")
    check(got == 125, "the topic parameter filters (got %d)" % got)
    got = count("method: POST", topic="web")
    check(got == expect(lambda tp, f: tp == "web" and f["method"] == "POST"),
          "topic and search combine (got %d)" % got)

    code, msg = error_code(lambda: client.get_log(project, "app", frm, to, query="nokey: x"))
    check(code is not None and "nokey" in msg, "a search on a key without an index: %s %s" % (code, msg))

    h = client.get_histograms(GetHistogramsRequest(project, "app", frm, to, query="method: GET"))
    check(h.is_completed(), "histograms are Complete")
    parts = h.get_histograms()
    check(1 <= len(parts) <= 60, "1 to 60 buckets (got %d)" % len(parts))
    check(sum(p.get_count() for p in parts) == count("method: GET"),
          "histogram counts add up to the GetLogs count")
    check(parts[0].get_from() == frm and parts[-1].get_to() == to, "buckets cover [from, to)")

    resp = client.get_logs(GetLogsRequest(project, "app", frm, to, query="status > 499", line=10, offset=20))
    check(resp.get_count() == 5, "get_logs honours offset (5 of 25 left, got %d)" % resp.get_count())

    # SQL after |: every value a string, FROM log implied, MySQL-style LIMIT offset, count.
    r = client.get_log(project, "app", frm, to,
                       query="* | select method, count(*) as c group by method order by c desc, method")
    got = [(l.get_contents()["method"], l.get_contents()["c"]) for l in r.get_logs()]
    check(got == [("GET", "100"), ("DELETE", "50"), ("POST", "50"), ("PUT", "50")],
          "SQL group by answers string counts (got %s)" % got)
    r = client.get_log(project, "app", frm, to, query="status: 500 | select count(1) as n, max(latency) as m")
    row = r.get_logs()[0].get_contents()
    check(row["n"] == "25" and float(row["m"]) == 24.0, "search then SQL (got %s)" % row)
    r = client.get_log(project, "app", frm, to, query="* | select id order by id limit 10, 5")
    check([l.get_contents()["id"] for l in r.get_logs()] == ["log-%03d" % i for i in range(10, 15)],
          "LIMIT offset, count")
    r = client.get_log(project, "app", frm, to, query="* | select id")
    check(r.get_count() == 100, "SQL answers 100 rows without LIMIT (got %d)" % r.get_count())
    code, msg = error_code(lambda: client.get_log(project, "app", frm, to, query="* | select nokey"))
    check(code == "ParameterInvalid" and "Column 'nokey' cannot be resolved" in msg,
          "an unknown SQL column: %s %s" % (code, msg))
    r = client.get_project_logs(GetProjectLogsRequest(
        project, "select count(*) as n from app where __time__ >= %d and __time__ < %d" % (frm, frm + 10)))
    check(r.get_logs()[0].get_contents()["n"] == "100", "get_project_logs runs SQL over a logstore")

    client.delete_index(project, "app")
    code, _ = error_code(lambda: client.get_index_config(project, "app"))
    check(code == "IndexConfigNotExist", "get_index_config after delete_index: %s" % code)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A chaos writer: the official, unmodified Python SDK's ``LogClient.put_logs``
(aliyun-log-python-sdk 0.9.52) writing logs that each carry a unique ``id``.

    .venv/bin/python tests/python/put_logs_writer.py --endpoint localhost:PORT \
        --access-key-id AK --access-key-secret SK --project P --logstore L \
        --count N --batch B --prefix PFX --out FILE [--shards S] [--pace SECS]

Log i has id "<PFX>-<i>" and is written in batches of B logs, one put_logs call
per batch, with a hash key spreading batches over S shards (0 = load balance).
Every call is one JSON line in --out, written and flushed after the call
returns, Jepsen-style:

    {"ids":[..],"invoke":T0,"complete":T1,"outcome":"ok"|"fail"|"unknown",
     "error":"Code (status): message"}

The SDK itself retries a 5xx or a connection error 10 times, 1 s apart, before
raising; such an error is "unknown" (the write may have been committed). A 4xx
answer is "fail": SLS rejected the batch before storing it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

try:
    from aliyun.log import LogClient, LogException, LogItem, PutLogsRequest
except ImportError as _ex:  # pragma: no cover - environment problem
    sys.stderr.write("put_logs_writer: cannot import the Python SDK (%s); run "
                     "scripts/setup-python.sh and use .venv/bin/python\n" % _ex)
    sys.exit(2)


def outcome_of(ex):
    """Unknown for what may have been committed (5xx, timeouts, connection errors)."""
    status = ex.get_resp_status() if isinstance(ex, LogException) else -1
    if isinstance(ex, LogException) and 400 <= status < 500 \
            and ex.get_error_code() not in ("RequestTimeout",):
        return "fail"
    return "unknown"


def describe(ex):
    if isinstance(ex, LogException):
        return "%s (%s): %s" % (ex.get_error_code(), ex.get_resp_status(), ex.get_error_message())
    return "%s: %s" % (type(ex).__name__, ex)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--access-key-id", required=True)
    ap.add_argument("--access-key-secret", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--logstore", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--prefix", default="py")
    ap.add_argument("--shards", type=int, default=4,
                    help="spread batches over this many equal hash ranges; 0: /shards/lb")
    ap.add_argument("--request-timeout", type=float, default=10.0)
    ap.add_argument("--pace", type=float, default=0.0,
                    help="seconds to sleep after each call (keeps a stream going during faults)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    client = LogClient(args.endpoint, args.access_key_id, args.access_key_secret)
    client.timeout = args.request_timeout  # public property; the SDK default is 120 s
    out = open(args.out, "a", encoding="utf-8")
    batches = 0
    for start in range(0, args.count, args.batch):
        ids = ["%s-%d" % (args.prefix, i) for i in range(start, min(start + args.batch, args.count))]
        items = []
        for lid in ids:
            item = LogItem(timestamp=int(time.time()), contents=[("id", lid)])
            items.append(item)
        hash_key = None
        if args.shards > 0:
            # The lower end of one of S equal ranges of the 128-bit key space.
            bucket = batches % args.shards
            hash_key = "%032x" % (bucket * (1 << 128) // args.shards)
        request = PutLogsRequest(args.project, args.logstore, "chaos", "put_logs_writer",
                                 items, hashKey=hash_key)
        invoke = time.time()
        record = {"ids": ids, "invoke": invoke}
        try:
            client.put_logs(request)
            record["outcome"] = "ok"
        except Exception as ex:  # every failure is recorded, none stops the run
            record["outcome"] = outcome_of(ex)
            record["error"] = describe(ex)[:300]
        record["complete"] = time.time()
        out.write(json.dumps(record, separators=(",", ":")) + "\n")
        out.flush()
        batches += 1
        if args.pace > 0:
            time.sleep(args.pace)
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

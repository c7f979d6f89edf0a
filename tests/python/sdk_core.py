#!/usr/bin/env python3
"""End-to-end check of sls-emu with the official, unmodified Python SDK
(aliyun-log-python-sdk 0.9.52, see requirements.txt).

    .venv/bin/python tests/python/sdk_core.py --endpoint localhost:PORT \
        --access-key-id AK --access-key-secret SK [--project NAME] [--sign v1|v4] \
        [--expect-auth-verify]

It creates a project and a 4-shard logstore, lists the shards, writes logs
(lz4, zstd, uncompressed, with and without a hash key), reads cursors, pulls
everything back (lz4, zstd, uncompressed), compares it field by field with what
it wrote, checks the error codes the SDK surfaces, and deletes what it made.

One line per check: "PASS name", "FAIL name: why" or "SKIP name: why", then a
closing "sdk_core: N passed, N failed, N skipped". Exit status 0 only when no
check failed; 1 when one did; 2 for a usage or environment problem.

Nothing is hard-coded as a result: everything read back is compared with what
this run wrote or with values computed from the protocol's rules
(shared/protocol/SLS-API.md).

The SDK retries every 5xx answer and every connection error 10 times, 1 s
apart, so a failing emulator makes a call take 10 s or more. The per-request
timeout (--request-timeout) and the overall --deadline keep a hung emulator
from blocking the caller for long.
"""

from __future__ import annotations

import argparse
import base64
import collections
import os
import random
import signal
import socket
import string
import sys
import time
import traceback

try:
    from aliyun.log import LogClient, LogException, LogItem, PutLogsRequest
    from aliyun.log.version import __version__ as SDK_VERSION
    from aliyun.log import compress as sdk_compress
    from aliyun.log.util import Util
except ImportError as _ex:  # pragma: no cover - environment problem
    sys.stderr.write(
        "sdk_core: cannot import the Python SDK (%s); run scripts/setup-python.sh "
        "and use .venv/bin/python\n" % _ex)
    sys.exit(2)

SHARD_COUNT = 4
TTL_CREATE = 7
TTL_UPDATE = 14
REGION_V4 = "cn-hangzhou"
KEY_SPACE = 1 << 128
LAST_END_KEY = "f" * 32  # the last shard's exclusiveEndKey is written as ff..ff, not 2^128


# --------------------------------------------------------------------------- #
# Check bookkeeping
# --------------------------------------------------------------------------- #

class CheckFailed(Exception):
    """A check's expectation did not hold."""

    def __init__(self, msg, show_http=True):
        Exception.__init__(self, msg)
        self.show_http = show_http  # False when the last HTTP exchange says nothing useful


class Abort(Exception):
    """A check that later checks depend on failed: stop and clean up."""


def fail(msg, show_http=True):
    raise CheckFailed(msg, show_http)


def expect(cond, msg):
    if not cond:
        fail(msg)


def expect_eq(actual, expected, what):
    if actual != expected:
        fail("%s: got %r, expected %r" % (what, actual, expected))


class HttpTrace(object):
    """Remembers the last HTTP exchange, to print it when a check fails.

    Uses a requests response hook on the client's session (the private
    attribute ``_session``); it only observes and changes nothing the SDK
    sends or receives. Also prints a note for every 5xx answer, because the
    SDK silently retries those for 10 s.
    """

    def __init__(self):
        self.last = None
        self.noted_5xx = False  # one note per check is enough

    def attach(self, client):
        session = getattr(client, "_session", None)
        if session is not None and hasattr(session, "hooks"):
            session.hooks.setdefault("response", []).append(self._hook)

    def _hook(self, resp, *args, **kwargs):
        try:
            req = resp.request
            ctype = resp.headers.get("Content-Type", "")
            body = resp.content or b""
            if "json" in ctype or not body or body[:1] in (b"{", b"["):
                shown = body[:400].decode("utf-8", "replace")
            else:
                shown = "<%d bytes %s, x-log-compresstype=%r>" % (
                    len(body), ctype or "no content-type", resp.headers.get("x-log-compresstype"))
            hdrs = dict((k, v) for k, v in resp.headers.items() if k.lower().startswith("x-log-"))
            self.last = "%s %s (Host: %s) -> HTTP %s %s body=%s" % (
                req.method, req.url, req.headers.get("Host"), resp.status_code, hdrs, shown)
            if resp.status_code >= 500 and not self.noted_5xx:
                self.noted_5xx = True
                print("  note: %s (the SDK retries 5xx up to 10 times, 1 s apart)" % self.last)
                sys.stdout.flush()
        except Exception:  # never let diagnostics break a check
            pass


class Runner(object):
    def __init__(self, trace):
        self.trace = trace
        self.passed = []
        self.failed = []
        self.skipped = []

    def check(self, name, fn, fatal=False):
        """Run one check; print PASS/FAIL. Returns fn's result (None on failure)."""
        self.trace.last = None
        self.trace.noted_5xx = False
        t0 = time.time()
        try:
            result = fn()
        except CheckFailed as ex:
            self._fail(name, str(ex), t0, ex.show_http)
        except LogException as ex:
            self._fail(name, "unexpected LogException %s: %s (HTTP %s, request id %r)" % (
                ex.get_error_code(), ex.get_error_message(), ex.get_resp_status(),
                ex.get_request_id()), t0)
        except Exception as ex:  # a bug in the response, or in this script
            tb = traceback.extract_tb(sys.exc_info()[2])
            where = "; ".join("%s:%d %s" % (os.path.basename(f.filename), f.lineno, f.name)
                              for f in tb[-3:])
            self._fail(name, "%s: %s (at %s)" % (type(ex).__name__, ex, where), t0)
        else:
            self.passed.append(name)
            print("PASS %s (%.2fs)" % (name, time.time() - t0))
            sys.stdout.flush()
            return result
        if fatal:
            raise Abort(name)
        return None

    def _fail(self, name, msg, t0, show_http=True):
        self.failed.append(name)
        if len(msg) > 3000:
            msg = msg[:3000] + "...(cut)"
        print("FAIL %s (%.2fs): %s" % (name, time.time() - t0, msg))
        if show_http and self.trace.last:
            print("     last HTTP exchange: %s" % self.trace.last)
        sys.stdout.flush()

    def skip(self, name, why):
        self.skipped.append(name)
        print("SKIP %s: %s" % (name, why))
        sys.stdout.flush()


def expect_log_error(fn, code, status=None):
    """fn() must raise LogException with this error code (and HTTP status, if given)."""
    try:
        fn()
    except LogException as ex:
        if ex.get_error_code() != code:
            fail("expected error code %s, got %s: %s (HTTP %s)" % (
                code, ex.get_error_code(), ex.get_error_message(), ex.get_resp_status()))
        if status is not None and ex.get_resp_status() != status:
            fail("error code %s as expected, but HTTP status %s, expected %s" % (
                code, ex.get_resp_status(), status))
        return ex
    fail("the call succeeded; expected LogException %s" % code)


# --------------------------------------------------------------------------- #
# Helpers on the data model
# --------------------------------------------------------------------------- #

def cursor_int(cursor):
    """Cursors are base64 of the decimal form of an int64 (SLS-API.md §7)."""
    raw = cursor.encode("ascii") if isinstance(cursor, str) else cursor
    raw += b"=" * (-len(raw) % 4)
    return int(base64.b64decode(raw, validate=True).decode("ascii"))


def header_value(headers, name):
    """Case-insensitive response header lookup ('' when absent)."""
    for k, v in (headers or {}).items():
        if k.lower() == name:
            return v or ""
    return ""


def expected_shard_ranges(n):
    """[(begin, end)] as 32-hex strings: the MD5 space split evenly (SLS-API.md §8)."""
    out = []
    for i in range(n):
        begin = "%032x" % (i * KEY_SPACE // n)
        end = LAST_END_KEY if i == n - 1 else "%032x" % ((i + 1) * KEY_SPACE // n)
        out.append((begin, end))
    return out


def shard_for_key(shards, key):
    """Id of the shard whose [inclusiveBeginKey, exclusiveEndKey) holds key."""
    k = int(key, 16)
    for s in shards:
        begin = int(s["inclusiveBeginKey"], 16)
        end = KEY_SPACE if s["exclusiveEndKey"] == LAST_END_KEY else int(s["exclusiveEndKey"], 16)
        if begin <= k < end:
            return s["shardID"]
    raise CheckFailed("no shard holds hash key %s" % key)


def _text(v):
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return v
    return v


def norm_group_pb(group):
    """A pulled LogGroup protobuf -> comparable tuple."""
    tags = tuple((_text(t.Key), _text(t.Value)) for t in group.LogTags)
    logs = tuple(
        (log.Time, log.Time_ns, tuple((_text(c.Key), _text(c.Value)) for c in log.Contents))
        for log in group.Logs)
    return (_text(group.Topic), _text(group.Source), tags, logs)


def norm_group_written(w):
    """What this run wrote (a Write) -> the same comparable tuple."""
    logs = tuple((it.get_time(), it.get_time_nano_part(), tuple(it.get_contents()))
                 for it in w.items)
    return (w.topic, w.source, tuple(w.tags), logs)


def describe_group(g):
    topic, source, tags, logs = g
    seq = [dict(c).get("seq") for _, _, c in logs][:3]
    return "group(topic=%r, source=%r, tags=%r, %d logs, seq=%r...)" % (
        topic, source, tags, len(logs), seq)


def group_label(g):
    """The 'seq' content of the first log identifies which write a group came from."""
    logs = g[3]
    if logs:
        return dict(logs[0][2]).get("seq")
    return None


def field_diff(expected, actual):
    """Field-by-field differences between two normalized groups."""
    diffs = []
    names = ("topic", "source", "tags")
    for i, name in enumerate(names):
        if expected[i] != actual[i]:
            diffs.append("%s: got %r, expected %r" % (name, actual[i], expected[i]))
    el, al = expected[3], actual[3]
    if len(el) != len(al):
        diffs.append("log count: got %d, expected %d" % (len(al), len(el)))
    for j, (e, a) in enumerate(zip(el, al)):
        if e[0] != a[0]:
            diffs.append("log %d time: got %r, expected %r" % (j, a[0], e[0]))
        if e[1] != a[1]:
            diffs.append("log %d time_ns: got %r, expected %r" % (j, a[1], e[1]))
        if e[2] != a[2]:
            ec, ac = e[2], a[2]
            if len(ec) != len(ac):
                diffs.append("log %d contents: got %d pairs, expected %d" % (j, len(ac), len(ec)))
            for k, (ep, ap) in enumerate(zip(ec, ac)):
                if ep != ap:
                    diffs.append("log %d content %d: got %r, expected %r" % (
                        j, k, _short(ap), _short(ep)))
    return diffs


def _short(pair):
    k, v = pair
    if isinstance(v, (str, bytes)) and len(v) > 60:
        v = "%r...(%d chars)" % (v[:40], len(v))
    return (k, v)


def compare_multisets(expected_groups, actual_groups):
    """Compare written and pulled groups as multisets; explain every difference."""
    exp = collections.Counter(expected_groups)
    act = collections.Counter(actual_groups)
    if exp == act:
        return
    missing = list((exp - act).elements())
    extra = list((act - exp).elements())
    problems = []
    extra_by_label = {}
    for g in extra:
        extra_by_label.setdefault(group_label(g), []).append(g)
    for g in missing:
        lbl = group_label(g)
        cands = extra_by_label.get(lbl)
        if cands:
            got = cands.pop(0)
            problems.append("write %r came back changed: %s" % (lbl, "; ".join(field_diff(g, got)[:6])))
        else:
            problems.append("write %r missing: %s" % (lbl, describe_group(g)))
    for lst in extra_by_label.values():
        for g in lst:
            problems.append("unexpected %s" % describe_group(g))
    fail("%d written / %d pulled groups; %s" % (
        len(expected_groups), len(actual_groups), " | ".join(problems[:8])), show_http=False)


class Write(object):
    """One put_logs call: one LogGroup on the wire."""

    def __init__(self, label, topic, source, tags, items, compress=None, compress_type=None,
                 hash_key=None):
        self.label = label
        self.topic = topic
        self.source = source
        self.tags = list(tags)
        self.items = items
        self.compress = compress
        self.compress_type = compress_type
        self.hash_key = hash_key
        self.expected_shard = None

    def request(self, project, logstore):
        kw = {}
        if self.compress is not None:
            kw["compress"] = self.compress
        if self.compress_type is not None:
            kw["compress_type"] = self.compress_type
        return PutLogsRequest(project, logstore, self.topic, self.source, self.items,
                              hashKey=self.hash_key, logtags=self.tags or None, **kw)


def make_items(label, n, base_time, extra=None):
    """n LogItems with distinct contents; the first content 'seq' is unique per log."""
    items = []
    for i in range(n):
        contents = [
            ("seq", "%s-%d" % (label, i)),
            ("level", ("INFO", "WARN", "ERROR")[i % 3]),
            ("message", "message %d of %s: %s" % (i, label, "".join(
                random.choice(string.ascii_letters) for _ in range(12)))),
            ("latency_ms", str(random.randint(0, 100000))),
        ]
        if extra and i < len(extra):
            contents.extend(extra[i])
        items.append(LogItem(timestamp=base_time + i, contents=contents,
                             time_nano_part=random.randint(1, 999999999)))
    return items


# --------------------------------------------------------------------------- #
# The test
# --------------------------------------------------------------------------- #

class SdkCore(object):
    def __init__(self, args):
        self.args = args
        self.t_start = int(time.time())
        suffix = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(10))
        self.project = args.project or ("sdk-core-%s" % suffix)
        self.logstore = "core-logs"
        self.missing_project = "sdk-core-missing-%s" % suffix
        self.description = "sls-emu sdk_core %s" % self.project
        self.trace = HttpTrace()
        self.run = Runner(self.trace)
        self.client = self.make_client(args.access_key_secret)
        self.shards = None
        self.writes = []        # planned put_logs calls
        self.writes_done = []   # the ones that succeeded: what must come back
        self.created_project = False

    def make_client(self, secret):
        kw = {}
        if self.args.sign == "v4":
            kw = {"auth_version": "v4", "region": self.args.region}
        c = LogClient(self.args.endpoint, self.args.access_key_id, secret, **kw)
        c.timeout = self.args.request_timeout  # public property; SDK default is 120 s
        self.trace.attach(c)
        return c

    # ---- environment pre-checks (no SDK retries to wait for) -------------- #

    def precheck(self):
        ep = self.args.endpoint
        if "://" in ep:
            ep = ep.split("://", 1)[1]
        ep = ep.split("/", 1)[0]
        host, _, port = ep.partition(":")
        port = int(port or 80)
        try:
            socket.create_connection((host, port), timeout=5).close()
        except OSError as ex:
            return "cannot connect to the emulator at %s:%d: %s" % (host, port, ex)
        # The SDK connects to <project>.<host> unless the endpoint is a bare IPv4 address
        # (no port, no scheme), which it connects to directly.
        if Util.is_row_ip(self.args.endpoint.strip()):
            return None
        name = "%s.%s" % (self.project, host)
        try:
            socket.getaddrinfo(name, port)
        except socket.gaierror as ex:
            return ("%s does not resolve (%s): *.localhost names need libnss-myhostname "
                    "(apt-get install -y libnss-myhostname)" % (name, ex))
        return None

    # ---- projects --------------------------------------------------------- #

    def c_create_project(self):
        self.client.create_project(self.project, self.description)
        self.created_project = True

    def c_get_project(self):
        r = self.client.get_project(self.project)
        body = r.get_body()
        expect_eq(r.get_projectname(), self.project, "projectName")
        expect_eq(r.get_description(), self.description, "description")
        expect_eq(r.get_status(), "Normal", "status")
        expect(isinstance(r.get_region(), str), "region is not a string: %r" % (r.get_region(),))
        expect(isinstance(r.get_owner(), str), "owner is not a string: %r" % (r.get_owner(),))
        expect("dataRedundancyType" in body, "dataRedundancyType missing from %r" % (body,))
        now = int(time.time())
        for field in ("createTime", "lastModifyTime"):
            v = body.get(field)
            expect(isinstance(v, str) and v.isdigit(),
                   "%s must be a string of unix seconds, got %r" % (field, v))
            expect(not self.args.clock_checks or self.t_start - 300 <= int(v) <= now + 300,
                   "%s=%s is not near the creation time %d" % (field, v, self.t_start))

    def c_list_project(self):
        r = self.client.list_project(size=-1)  # pages with offset/size until total
        names = [p.get("projectName") for p in r.get_projects()]
        expect(self.project in names, "%s not among %d listed projects" % (self.project, len(names)))
        expect_eq(r.get_count(), len(names), "count (summed over the pages)")
        r2 = self.client.list_project(project_name_pattern=self.project)
        names2 = [p.get("projectName") for p in r2.get_projects()]
        expect(self.project in names2, "projectName=%s filter does not list it: %r" % (
            self.project, names2))
        expect(all(self.project in n for n in names2),
               "projectName=%s filter listed non-matching names %r" % (self.project, names2))
        expect_eq(r2.get_count(), len(names2), "count of the filtered listing")
        expect(r2.get_total() >= r2.get_count(), "filtered listing: total %d < count %d" % (
            r2.get_total(), r2.get_count()))

    # ---- logstores -------------------------------------------------------- #

    def c_create_logstore(self):
        self.client.create_logstore(self.project, self.logstore, ttl=TTL_CREATE,
                                    shard_count=SHARD_COUNT)

    def _check_logstore(self, ttl):
        r = self.client.get_logstore(self.project, self.logstore)
        body = r.get_body()
        expect_eq(body.get("logstoreName"), self.logstore, "logstoreName")
        expect_eq(r.get_ttl(), ttl, "ttl")
        expect_eq(r.get_shard_count(), SHARD_COUNT, "shardCount")
        for field in ("createTime", "lastModifyTime"):
            v = body.get(field)
            expect(isinstance(v, int) and not isinstance(v, bool),
                   "%s must be an integer, got %r" % (field, v))
            expect(not self.args.clock_checks or self.t_start - 300 <= v <= int(time.time()) + 300,
                   "%s=%r is not near the creation time %d" % (field, v, self.t_start))

    def c_get_logstore(self):
        self._check_logstore(TTL_CREATE)

    def c_list_logstore(self):
        r = self.client.list_logstore(self.project)
        names = r.get_logstores()
        expect(self.logstore in names, "%s not in %r" % (self.logstore, names))
        expect_eq(r.get_count(), len(names), "count")
        expect(r.get_total() >= r.get_count(), "total %d < count %d" % (r.get_total(), r.get_count()))
        r2 = self.client.list_logstore(self.project, logstore_name_pattern=self.logstore)
        expect(self.logstore in r2.get_logstores(), "logstoreName filter does not list %s: %r" % (
            self.logstore, r2.get_logstores()))

    def c_update_logstore(self):
        # The SDK GETs the logstore first and re-sends every field with the new ttl.
        self.client.update_logstore(self.project, self.logstore, ttl=TTL_UPDATE)
        self._check_logstore(TTL_UPDATE)

    # ---- shards ----------------------------------------------------------- #

    def c_list_shards(self):
        r = self.client.list_shards(self.project, self.logstore)
        shards = r.get_shards_info()
        expect(isinstance(shards, list), "ListShards must answer a JSON array, got %r" % (shards,))
        shards = sorted(shards, key=lambda s: s.get("shardID", -1))
        expect_eq([s.get("shardID") for s in shards], list(range(SHARD_COUNT)), "shard ids")
        for s, (begin, end) in zip(shards, expected_shard_ranges(SHARD_COUNT)):
            sid = s["shardID"]
            expect_eq(s.get("status"), "readwrite", "shard %d status" % sid)
            expect_eq(s.get("inclusiveBeginKey"), begin, "shard %d inclusiveBeginKey" % sid)
            expect_eq(s.get("exclusiveEndKey"), end, "shard %d exclusiveEndKey" % sid)
            ct = s.get("createTime")
            expect(isinstance(ct, int) and not isinstance(ct, bool),
                   "shard %d createTime must be an integer, got %r" % (sid, ct))
        self.shards = shards

    # ---- cursors on the empty logstore ------------------------------------ #

    def c_cursors_empty(self):
        for sid in range(SHARD_COUNT):
            b = self.client.get_cursor(self.project, self.logstore, sid, "begin").get_cursor()
            e = self.client.get_cursor(self.project, self.logstore, sid, "end").get_cursor()
            cursor_int(b)  # must decode
            expect_eq(b, e, "shard %d: begin and end cursors of an empty shard" % sid)
            r = self.client.pull_logs(self.project, self.logstore, sid, b, count=10)
            expect_eq(r.get_loggroup_count(), 0, "shard %d: pull on an empty shard, count" % sid)
            expect_eq(r.get_next_cursor(), b, "shard %d: pull on an empty shard, next cursor" % sid)

    # ---- writes ----------------------------------------------------------- #

    def plan_writes(self):
        base = int(time.time()) - 120
        run_tag = ("run", self.project)
        big_a = "".join("line %06d: the quick brown fox jumps over the lazy dog\n" % i
                        for i in range(1200))  # ~70 KB, compressible: real lz4/zstd matches
        big_b = "".join(random.choice("0123456789abcdef") for _ in range(20000))  # incompressible
        utf8 = u"héllo wörld, 日志服务, Ελληνικά, emoji \U0001F680"
        ws = [
            Write("lb-lz4", "topic-lz4", "10.0.0.1", [run_tag, ("tag-a", "alpha")],
                  make_items("lb-lz4", 3, base,
                             extra=[[("utf8", utf8)], [("big", big_a)], [("empty", "")]])),
            Write("lb-zstd", "topic-zstd", "10.0.0.2", [run_tag, ("tag-b", u"βeta")],
                  make_items("lb-zstd", 25, base + 10, extra=[[("big", big_a), ("noise", big_b)],
                                                              [("utf8", utf8)]]),
                  compress_type="zstd"),
            Write("lb-raw", "", "10.0.0.3", [],
                  make_items("lb-raw", 2, base + 40, extra=[[("utf8", utf8)]]),
                  compress=False),
        ]
        # Hash-key writes: one per shard, on the boundaries and inside the ranges.
        keys = [
            "0" * 32,                                      # lowest key -> shard 0
            "7" + "f" * 31,                                # just below 80.. -> shard 1
            "8" + "0" * 31,                                # inclusive begin of shard 2
            "%032x" % random.randrange(3 * KEY_SPACE // 4, KEY_SPACE - 1),  # inside shard 3
        ]
        modes = [(None, None), (None, "zstd"), (False, None), (None, "lz4")]
        for i, (key, (compress, ctype)) in enumerate(zip(keys, modes)):
            label = "hash-%d" % i
            ws.append(Write(label, "topic-hash", "192.168.%d.%d" % (i, i + 1),
                            [run_tag, ("hashkey", key)],
                            make_items(label, 2 + i, base + 50 + 5 * i, extra=[[("utf8", utf8)]]),
                            compress=compress, compress_type=ctype, hash_key=key))
        self.writes = ws

    def put(self, w):
        self.client.put_logs(w.request(self.project, self.logstore))
        self.writes_done.append(w)

    def c_put(self, w):
        if w.hash_key is not None:
            w.expected_shard = shard_for_key(self.shards or [
                {"shardID": i, "inclusiveBeginKey": b, "exclusiveEndKey": e}
                for i, (b, e) in enumerate(expected_shard_ranges(SHARD_COUNT))], w.hash_key)
        self.put(w)

    # ---- cursors after the writes ----------------------------------------- #

    def c_cursors(self):
        now = int(time.time())
        for sid in range(SHARD_COUNT):
            b = self.client.get_cursor(self.project, self.logstore, sid, "begin").get_cursor()
            e = self.client.get_cursor(self.project, self.logstore, sid, "end").get_cursor()
            bi, ei = cursor_int(b), cursor_int(e)
            expect(bi <= ei, "shard %d: begin %d > end %d" % (sid, bi, ei))
            # Before everything -> begin; after everything -> end (SLS-API.md §7).
            past = self.client.get_cursor(self.project, self.logstore, sid, self.t_start - 86400)
            expect_eq(past.get_cursor(), b, "shard %d: cursor for a time before all data" % sid)
            future = self.client.get_cursor(self.project, self.logstore, sid, now + 86400)
            expect_eq(future.get_cursor(), e, "shard %d: cursor for a time after all data" % sid)
            if bi < ei:
                ct = self.client.get_cursor_time(self.project, self.logstore, sid, b).get_cursor_time()
                expect(isinstance(ct, int) and not isinstance(ct, bool),
                       "shard %d: cursor_time must be an integer, got %r" % (sid, ct))
                expect(not self.args.clock_checks or self.t_start - 5 <= ct <= int(time.time()) + 5,
                       "shard %d: cursor_time %r of the first group is not the time it was "
                       "received (between %d and now)" % (sid, ct, self.t_start))

    def c_cursor_by_time(self):
        """A group received after time T is found by get_cursor(T); earlier ones are not."""
        sid = 0
        end_before = self.client.get_cursor(self.project, self.logstore, sid, "end").get_cursor()
        # Wait for the next whole second so every earlier group was received before t_mark.
        t_mark = int(time.time()) + 1
        while time.time() < t_mark:
            time.sleep(max(0.0, t_mark - time.time()) + 0.01)
        key = "%032x" % (KEY_SPACE // 8)  # middle of shard 0
        w = Write("time-mark", "topic-time", "10.0.0.9", [("run", self.project)],
                  make_items("time-mark", 2, t_mark), hash_key=key)
        w.expected_shard = shard_for_key(self.shards, key) if self.shards else sid
        expect_eq(w.expected_shard, sid, "expected shard of key %s" % key)
        self.put(w)
        t_after = int(time.time())
        r = self.client.get_cursor(self.project, self.logstore, sid, t_mark)
        expect_eq(r.get_cursor(), end_before,
                  "get_cursor(from=%d) must be the cursor of the first group received at or "
                  "after that time (the end cursor before the write)" % t_mark)
        ct = self.client.get_cursor_time(self.project, self.logstore, sid, r.get_cursor()).get_cursor_time()
        expect(t_mark <= ct <= t_after + 1,
               "cursor_time %r of the new group is outside [%d, %d]" % (ct, t_mark, t_after + 1))
        p = self.client.pull_logs(self.project, self.logstore, sid, r.get_cursor(), count=10)
        got = [norm_group_pb(g) for g in p.get_loggroup_list().LogGroups]
        compare_multisets([norm_group_written(w)], got)
        end_after = self.client.get_cursor(self.project, self.logstore, sid, "end").get_cursor()
        expect_eq(cursor_int(end_after), cursor_int(end_before) + 1,
                  "end cursor after one more group")

    # ---- pulls ------------------------------------------------------------ #

    def pull_shard(self, sid, count, compress=None, accept=None, expected_encoding=None):
        """Pull begin -> end; returns the normalized groups, in order."""
        begin = self.client.get_cursor(self.project, self.logstore, sid, "begin").get_cursor()
        end = self.client.get_cursor(self.project, self.logstore, sid, "end").get_cursor()
        cursor, groups = begin, []
        for _ in range(10000):
            if cursor == end:
                break
            kw = {"count": count}
            if compress is not None:
                kw["compress"] = compress
            if accept is not None:
                kw["accept_compress_type"] = accept
            r = self.client.pull_logs(self.project, self.logstore, sid, cursor, **kw)
            lgl = r.get_loggroup_list()
            n = r.get_loggroup_count()
            expect_eq(len(lgl.LogGroups), n, "shard %d: x-log-count vs groups in the body" % sid)
            expect(0 < n <= count, "shard %d: pulled %d groups with count=%d before the end "
                   "cursor (cursor %s, end %s)" % (sid, n, count, cursor, end))
            nxt = r.get_next_cursor()
            expect_eq(cursor_int(nxt), cursor_int(cursor) + n,
                      "shard %d: next cursor = cursor + groups returned" % sid)
            if expected_encoding is not None:
                got_enc = header_value(r.get_all_headers(), "x-log-compresstype")
                expect_eq(got_enc.lower(), expected_encoding,
                          "shard %d: x-log-compresstype answering Accept-Encoding %r" % (
                              sid, "" if compress is False else (accept or "lz4")))
            groups.extend(norm_group_pb(g) for g in lgl.LogGroups)
            cursor = nxt
        else:
            fail("shard %d: never reached the end cursor %s" % (sid, end))
        return groups

    def c_pull_compare(self, count, compress=None, accept=None, expected_encoding=None):
        per_shard = {}
        for sid in range(SHARD_COUNT):
            per_shard[sid] = self.pull_shard(sid, count, compress, accept, expected_encoding)
        everything = [g for sid in range(SHARD_COUNT) for g in per_shard[sid]]
        compare_multisets([norm_group_written(w) for w in self.writes_done], everything)
        # Hash-key writes must sit in the shard whose range holds the key.
        for w in self.writes_done:
            if w.hash_key is None:
                continue
            g = norm_group_written(w)
            where = [sid for sid in range(SHARD_COUNT) if g in per_shard[sid]]
            if where != [w.expected_shard]:
                fail("write %s with hash key %s is in shard(s) %r, expected shard %d (the one whose "
                     "range holds the key)" % (w.label, w.hash_key, where, w.expected_shard),
                     show_http=False)
        # Groups are returned in write order within a shard.
        order = dict((norm_group_written(w), i) for i, w in enumerate(self.writes_done))
        for sid in range(SHARD_COUNT):
            idx = [order[g] for g in per_shard[sid]]
            if idx != sorted(idx):
                fail("shard %d: groups not pulled in write order: %r" % (
                    sid, [self.writes_done[i].label for i in idx]), show_http=False)

    def c_pull_end_cursor(self):
        """end_cursor bounds a pull: [begin, end_cursor)."""
        for sid in range(SHARD_COUNT):
            b = self.client.get_cursor(self.project, self.logstore, sid, "begin").get_cursor()
            e = self.client.get_cursor(self.project, self.logstore, sid, "end").get_cursor()
            if cursor_int(e) - cursor_int(b) < 2:
                continue
            one = self.client.pull_logs(self.project, self.logstore, sid, b, count=1)
            expect_eq(one.get_loggroup_count(), 1, "shard %d: pull with count=1" % sid)
            stop = one.get_next_cursor()
            r = self.client.pull_logs(self.project, self.logstore, sid, b, count=100, end_cursor=stop)
            expect_eq(r.get_loggroup_count(), 1, "shard %d: pull up to end_cursor=%s" % (sid, stop))
            expect_eq(r.get_next_cursor(), stop, "shard %d: next cursor of a bounded pull" % sid)
            expect_eq([norm_group_pb(g) for g in r.get_loggroup_list().LogGroups],
                      [norm_group_pb(g) for g in one.get_loggroup_list().LogGroups],
                      "shard %d: group returned by the bounded pull" % sid)
            return
        fail("no shard has two groups to test end_cursor with")

    def c_pull_at_end(self):
        for sid in range(SHARD_COUNT):
            e = self.client.get_cursor(self.project, self.logstore, sid, "end").get_cursor()
            for kw in ({}, {"compress": False}, {"accept_compress_type": "zstd"}):
                r = self.client.pull_logs(self.project, self.logstore, sid, e, count=100, **kw)
                expect_eq(r.get_loggroup_count(), 0, "shard %d %r: count at the end" % (sid, kw))
                expect_eq(len(r.get_loggroup_list().LogGroups), 0,
                          "shard %d %r: groups in the body at the end" % (sid, kw))
                expect_eq(r.get_next_cursor(), e, "shard %d %r: next cursor at the end" % (sid, kw))

    # ---- errors ----------------------------------------------------------- #

    def c_err_project_missing(self):
        expect_log_error(lambda: self.client.get_project(self.missing_project),
                         "ProjectNotExist", 404)

    def c_err_logstore_missing(self):
        expect_log_error(lambda: self.client.get_logstore(self.project, "missing-logstore"),
                         "LogStoreNotExist", 404)

    def c_err_logstore_exists(self):
        expect_log_error(lambda: self.client.create_logstore(
            self.project, self.logstore, ttl=TTL_CREATE, shard_count=SHARD_COUNT),
            "LogStoreAlreadyExist", 400)

    def c_err_garbage_cursor(self):
        for bad in ("!!not*a*cursor!!", base64.b64encode(b"not-a-number").decode("ascii")):
            expect_log_error(lambda: self.client.pull_logs(
                self.project, self.logstore, 0, bad, count=10), "ParameterInvalid", 400)

    def c_err_shard_missing(self):
        expect_log_error(lambda: self.client.get_cursor(
            self.project, self.logstore, SHARD_COUNT + 96, "begin"), "ShardNotExist")

    def c_err_bad_secret(self):
        bad = self.make_client(self.args.access_key_secret + "-wrong")
        expect_log_error(lambda: bad.get_project(self.project), "SignatureNotMatch", 401)
        expect_log_error(lambda: bad.put_logs(PutLogsRequest(
            self.project, self.logstore, "t", "10.0.0.1", make_items("bad-secret", 1, self.t_start))),
            "SignatureNotMatch", 401)

    # ---- deletes ---------------------------------------------------------- #

    def c_delete_logstore(self):
        self.client.delete_logstore(self.project, self.logstore)
        expect_log_error(lambda: self.client.get_logstore(self.project, self.logstore),
                         "LogStoreNotExist", 404)
        names = self.client.list_logstore(self.project).get_logstores()
        expect(self.logstore not in names, "deleted logstore still listed: %r" % names)

    def c_delete_project(self):
        self.client.delete_project(self.project)
        self.created_project = False
        expect_log_error(lambda: self.client.get_project(self.project), "ProjectNotExist", 404)

    def cleanup(self):
        """Best effort after an abort: leave nothing behind."""
        if not self.created_project:
            return
        for fn in (lambda: self.client.delete_logstore(self.project, self.logstore),
                   lambda: self.client.delete_project(self.project)):
            try:
                fn()
            except Exception as ex:
                print("  cleanup: %s" % (ex,))

    # ---- main ------------------------------------------------------------- #

    def main(self):
        run = self.run
        print("sdk_core: aliyun-log-python-sdk %s, endpoint %s, sign %s, project %s%s" % (
            SDK_VERSION, self.args.endpoint, self.args.sign, self.project,
            ", auth verified" if self.args.expect_auth_verify else ""))
        problem = self.precheck()
        if problem:
            print("FAIL environment: %s" % problem)
            print("sdk_core: 0 passed, 1 failed, 0 skipped")
            return 1
        if not sdk_compress.zstd_available:
            print("FAIL environment: the zstd module is missing; run scripts/setup-python.sh")
            print("sdk_core: 0 passed, 1 failed, 0 skipped")
            return 1
        try:
            run.check("create_project", self.c_create_project, fatal=True)
            run.check("get_project", self.c_get_project)
            run.check("list_project", self.c_list_project)
            run.check("error_project_not_exist", self.c_err_project_missing)
            run.check("create_logstore", self.c_create_logstore, fatal=True)
            run.check("get_logstore", self.c_get_logstore)
            run.check("list_logstore", self.c_list_logstore)
            run.check("update_logstore", self.c_update_logstore)
            run.check("error_logstore_not_exist", self.c_err_logstore_missing)
            run.check("error_logstore_already_exist", self.c_err_logstore_exists)
            run.check("list_shards", self.c_list_shards)
            run.check("cursors_empty_shards", self.c_cursors_empty)
            self.plan_writes()
            for w in self.writes:
                what = "hash key %s" % w.hash_key if w.hash_key else "load-balanced"
                enc = ("none" if w.compress is False else (w.compress_type or "default lz4"))
                run.check("put_logs_%s (%s, %s, %d logs)" % (w.label, enc, what, len(w.items)),
                          lambda w=w: self.c_put(w))
            if not self.writes_done:
                raise Abort("every put_logs call")
            run.check("get_cursor_begin_end_time", self.c_cursors)
            if self.args.clock_checks:
                run.check("get_cursor_by_receive_time", self.c_cursor_by_time)
            else:
                run.skip("get_cursor_by_receive_time", "--skip-clock-checks")
            run.check("pull_logs_lz4_compare (count=2)",
                      lambda: self.c_pull_compare(2, expected_encoding="lz4"))
            run.check("pull_logs_zstd_compare (count=1000)",
                      lambda: self.c_pull_compare(1000, accept="zstd", expected_encoding="zstd"))
            run.check("pull_logs_uncompressed_compare (count=3)",
                      lambda: self.c_pull_compare(3, compress=False, expected_encoding=""))
            run.check("pull_logs_end_cursor", self.c_pull_end_cursor)
            run.check("pull_logs_at_end", self.c_pull_at_end)
            run.check("error_garbage_cursor", self.c_err_garbage_cursor)
            run.check("error_shard_not_exist", self.c_err_shard_missing)
            if self.args.expect_auth_verify:
                run.check("error_signature_not_match", self.c_err_bad_secret)
            else:
                run.skip("error_signature_not_match", "pass --expect-auth-verify when the "
                         "emulator verifies signatures")
            run.check("delete_logstore", self.c_delete_logstore)
            run.check("delete_project", self.c_delete_project)
        except Abort as ex:
            print("ABORT after %s failed; the checks after it depend on it" % ex)
            self.cleanup()
        print("sdk_core: %d passed, %d failed, %d skipped" % (
            len(run.passed), len(run.failed), len(run.skipped)))
        if run.failed:
            print("sdk_core: failed checks: %s" % ", ".join(run.failed))
            return 1
        return 0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True,
                   help="emulator endpoint as the SDK takes it, e.g. localhost:18080")
    p.add_argument("--access-key-id", required=True)
    p.add_argument("--access-key-secret", required=True)
    p.add_argument("--project", help="project name to create (default: sdk-core-<random>)")
    p.add_argument("--sign", choices=("v1", "v4"), default="v1",
                   help="signature version (v4 signs for region %s)" % REGION_V4)
    p.add_argument("--region", default=REGION_V4, help=argparse.SUPPRESS)
    p.add_argument("--expect-auth-verify", action="store_true",
                   help="the emulator verifies signatures: a wrong secret must give SignatureNotMatch")
    p.add_argument("--skip-clock-checks", dest="clock_checks", action="store_false",
                   help="the emulator does not run on the wall clock (e.g. a manual test clock): "
                        "skip the receive-time cursor check and the time windows on "
                        "createTime / cursor_time")
    p.add_argument("--request-timeout", type=float, default=15.0,
                   help="seconds per HTTP attempt (the SDK makes up to 10), default 15")
    p.add_argument("--deadline", type=int, default=300,
                   help="abort the whole run after this many seconds, default 300")
    args = p.parse_args(argv)
    if args.project is not None:
        n = args.project
        if not (3 <= len(n) <= 63 and all(ch in string.ascii_lowercase + string.digits + "-"
                                          for ch in n) and n[0] != "-" and n[-1] != "-"):
            p.error("--project must be 3-63 chars of [a-z0-9-], not starting or ending with '-'")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def on_deadline(signum, frame):
        print("FAIL deadline: the run took longer than %d s (is the emulator hanging, or "
              "answering 5xx that the SDK retries?)" % args.deadline)
        sys.stdout.flush()
        os._exit(1)

    if args.deadline > 0 and hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, on_deadline)
        signal.alarm(args.deadline)
    try:
        return SdkCore(args).main()
    finally:
        if hasattr(signal, "SIGALRM"):
            signal.alarm(0)


if __name__ == "__main__":
    sys.exit(main())

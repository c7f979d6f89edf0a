#!/usr/bin/env python3
"""End-to-end consumer-group scenarios for sls-emu with the official, unmodified
Python consumer-group worker (aliyun-log-python-sdk 0.9.52,
``aliyun.log.consumer.ConsumerWorker``), every worker in its own OS process
(tests/python/consumer_worker.py).

    .venv/bin/python tests/python/consumer_scenarios.py --endpoint localhost:PORT \
        --access-key-id AK --access-key-secret SK --scenario balance|split-ordered \
        [--python .venv/bin/python] [--heartbeat-interval 1] [--deadline 150]

Scenarios (issue #3, "Done means"):

balance        A 10-shard logstore, a writer thread putting uniquely-numbered logs
               (random hash keys, so every shard gets data) all along. Three
               workers converge to 3/3/4 shards; a 4th and a 5th join and all
               converge to 2 each; one is killed with SIGKILL and its shards are
               taken over by the others once the group's timeout (2 x the
               heartbeat interval) has passed. Then the writer stops and every id
               written must have been processed at least once, the final
               checkpoints must equal every shard's end cursor, no shard may have
               been held by two live workers at once, and only the shards of the
               killed worker may have been processed twice.

split-ordered  An ordered group (in_order=True) on a 2-shard logstore, 2 workers,
               the writer running. A burst of writes gives shard 0 a backlog, then
               shard 0 is split at the middle of its range while the writer goes
               on. From the processors' own records: no log of a child shard is
               processed before the last log of its parent, every log is processed,
               and the final checkpoints equal the shard ends (the read-only
               parent's included).

Which worker holds which shard is derived from each worker's own records
(processor.initialize / processor.shutdown). Every wait has a deadline and
prints progress. Exit status: 0 when every check passed, 1 when one failed,
2 for a usage or environment problem. On failure it prints every worker's
recent events and the tail of its log, and keeps the work directory.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import traceback

try:
    from aliyun.log import LogClient, LogException, LogItem, PutLogsRequest
except ImportError as _ex:  # pragma: no cover - environment problem
    sys.stderr.write("consumer_scenarios: cannot import the Python SDK (%s); run "
                     "scripts/setup-python.sh and use .venv/bin/python\n" % _ex)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER_SCRIPT = os.path.join(HERE, "consumer_worker.py")
KEY_SPACE = 1 << 128
T0 = time.time()


def say(msg):
    print("[%6.2fs] %s" % (time.time() - T0, msg))
    sys.stdout.flush()


class Failed(Exception):
    """A scenario check failed."""


class Deadline(Exception):
    """The overall --deadline passed."""


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def fmt_shards(s):
    return "[" + ",".join(str(x) for x in sorted(s)) + "]"


# --------------------------------------------------------------------------- #
# Writer
# --------------------------------------------------------------------------- #

class Writer(threading.Thread):
    """Puts log groups of uniquely-numbered logs until stopped.

    Each group goes to /shards/route with a hash key: random by default, or from
    ``key_range`` (lo, hi) for a burst into one part of the key space. An id is
    "written" once put_logs returned; ids of a failed call are "uncertain" (the
    write may or may not have been committed), so they are not required back.
    """

    def __init__(self, args, project, logstore, prefix, period, per_group):
        threading.Thread.__init__(self, name="writer-" + prefix, daemon=True)
        self.args = args
        self.client = make_client(args)
        self.project = project
        self.logstore = logstore
        self.prefix = prefix
        self.period = period
        self.per_group = per_group
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.written = []
        self.uncertain = set()
        self.errors = []
        self.n = 0

    def put_one(self, key=None, client=None):
        with self.lock:
            ids = ["%s-%d" % (self.prefix, self.n + i) for i in range(self.per_group)]
            self.n += self.per_group
        now = int(time.time())
        items = [LogItem(timestamp=now, contents=[("id", x), ("payload", "p" * 32)]) for x in ids]
        if key is None:
            key = "%032x" % random.getrandbits(128)
        req = PutLogsRequest(self.project, self.logstore, "", "writer", items, hashKey=key)
        try:
            (client or self.client).put_logs(req)
        except Exception as ex:  # recorded; the scenario decides what it means
            with self.lock:
                self.uncertain.update(ids)
                self.errors.append("%s: %s" % (type(ex).__name__, ex))
            return False
        with self.lock:
            self.written.extend(ids)
        return True

    def burst(self, count, lo, hi):
        """count groups with hash keys in [lo, hi), as fast as possible (caller's thread)."""
        client = make_client(self.args)
        for _ in range(count):
            self.put_one("%032x" % random.randrange(lo, hi), client)

    def run(self):
        while not self.stop_ev.is_set():
            self.put_one()
            self.stop_ev.wait(self.period)

    def stop(self):
        self.stop_ev.set()
        self.join(30)
        check(not self.is_alive(), "writer %s did not stop" % self.prefix)

    def snapshot(self):
        with self.lock:
            return list(self.written), set(self.uncertain), list(self.errors)


# --------------------------------------------------------------------------- #
# Worker processes and their records
# --------------------------------------------------------------------------- #

class WorkerProc(object):
    """One consumer_worker.py process and the events it recorded."""

    def __init__(self, sc, name, extra_args):
        self.sc = sc
        self.name = name
        self.out = os.path.join(sc.workdir, name + ".jsonl")
        self.log = os.path.join(sc.workdir, name + ".log")
        self.events = []
        self._offset = 0
        self._partial = b""
        self.killed_at = None
        a = sc.args
        cmd = [a.python, WORKER_SCRIPT,
               "--endpoint", a.endpoint,
               "--access-key-id", a.access_key_id,
               "--access-key-secret", a.access_key_secret,
               "--project", sc.project, "--logstore", sc.logstore,
               "--group", sc.group, "--consumer", name, "--out", self.out,
               "--heartbeat-interval", str(a.heartbeat_interval),
               "--fetch-interval", str(a.fetch_interval)] + list(extra_args)
        self.logf = open(self.log, "wb")
        self.started_at = time.time()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT)

    # ---- records ---------------------------------------------------------- #

    def poll_events(self):
        try:
            with open(self.out, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return self.events
        self._offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()  # incomplete last line (or b"")
        for line in lines:
            if line.strip():
                self.events.append(json.loads(line.decode("utf-8")))
        return self.events

    def shards(self):
        """Shards this worker holds, from its own init/shutdown records (none once killed)."""
        if self.killed_at is not None:
            return set()
        held = set()
        for e in self.poll_events():
            if e["ev"] == "init":
                held.add(e["shard"])
            elif e["ev"] == "shutdown":
                held.discard(e["shard"])
        return held

    def shards_at_kill(self):
        held = set()
        for e in self.poll_events():
            if self.killed_at is not None and e["t"] > self.killed_at:
                break
            if e["ev"] == "init":
                held.add(e["shard"])
            elif e["ev"] == "shutdown":
                held.discard(e["shard"])
        return held

    def heartbeat_times(self):
        """Unix times of the successful heartbeats the library logged (at DEBUG)."""
        out = []
        try:
            with open(self.log, "rb") as f:
                for line in f.read().decode("utf-8", "replace").splitlines():
                    if "heart beat result:" in line:
                        try:
                            out.append(float(line.split(" ", 1)[0]))
                        except ValueError:
                            pass
        except OSError:
            pass
        return out

    def of(self, kind):
        return [e for e in self.poll_events() if e["ev"] == kind]

    # ---- process control -------------------------------------------------- #

    def alive(self):
        return self.proc.poll() is None

    def sigkill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.killed_at = time.time()
        self.proc.wait(10)
        self.poll_events()

    def sigterm(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)

    def cleanup(self):
        if self.proc.poll() is None:
            try:
                self.proc.kill()
                self.proc.wait(10)
            except Exception:
                pass
        try:
            self.logf.close()
        except Exception:
            pass

    def describe(self, n_events=25, n_log=25):
        self.poll_events()
        rc = self.proc.poll()
        state = "running" if rc is None else ("SIGKILLed by the test" if self.killed_at else
                                              "exited with %s" % rc)
        lines = ["--- worker %s (pid %d, %s), shards now %s, %d events" % (
            self.name, self.proc.pid, state, fmt_shards(self.shards()), len(self.events))]
        warns = self.of("warn")
        if warns:
            lines.append("    %d library warnings; last: %s" % (
                len(warns), " | ".join(w["msg"][:200] for w in warns[-3:])))
        for e in self.events[-n_events:]:
            e2 = dict(e)
            e2["t"] = round(e["t"] - T0, 2)
            if "ids" in e2:
                ids = e2.pop("ids")
                e2["n"] = len(ids)
                e2["ids"] = ids[:2] + (["..."] if len(ids) > 2 else [])
            lines.append("    " + json.dumps(e2, separators=(",", ":")))
        try:
            with open(self.log, "rb") as f:
                tail = f.read().decode("utf-8", "replace").splitlines()[-n_log:]
            lines.append("    log tail (%s):" % self.log)
            lines.extend("      " + l[:300] for l in tail)
        except OSError:
            pass
        return "\n".join(lines)


def make_client(args):
    c = LogClient(args.endpoint, args.access_key_id, args.access_key_secret)
    c.timeout = args.request_timeout
    return c


# --------------------------------------------------------------------------- #
# Scenario plumbing
# --------------------------------------------------------------------------- #

class Scenario(object):
    def __init__(self, args, label, shard_count):
        self.args = args
        self.label = label
        self.shard_count = shard_count
        suffix = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(8))
        self.project = "cg-%s-%s" % (label, suffix)
        self.logstore = "events"
        self.group = "cg-" + label
        self.client = make_client(args)
        self.workers = []
        self.writers = []
        self.workdir = tempfile.mkdtemp(prefix="sls-emu-consumer-%s-" % label,
                                        dir=args.workdir)
        self.hb = args.heartbeat_interval
        self.timeout = 2 * args.heartbeat_interval  # what the library sets on the group

    # ---- setup / teardown ------------------------------------------------- #

    def setup(self):
        say("%s: project %s, %d-shard logstore %s, group %s, heartbeat %ds (group timeout %ds),"
            " work dir %s" % (self.label, self.project, self.shard_count, self.logstore,
                              self.group, self.hb, self.timeout, self.workdir))
        self.client.create_project(self.project, "sls-emu consumer scenario " + self.label)
        self.client.create_logstore(self.project, self.logstore, ttl=1,
                                    shard_count=self.shard_count, auto_split=False)
        self.shards = self.list_shards()
        check(sorted(self.shards) == list(range(self.shard_count)),
              "expected shards 0..%d, got %r" % (self.shard_count - 1, sorted(self.shards)))

    def list_shards(self):
        r = self.client.list_shards(self.project, self.logstore)
        return {s["shardID"]: s for s in r.get_shards_info()}

    def start_worker(self, name, extra=()):
        w = WorkerProc(self, name, extra)
        self.workers.append(w)
        say("started worker %s (pid %d)" % (name, w.proc.pid))
        return w

    def start_writer(self, prefix, period=0.05, per_group=5):
        w = Writer(self.args, self.project, self.logstore, prefix, period, per_group)
        self.writers.append(w)
        w.start()
        return w

    def live(self):
        return [w for w in self.workers if w.killed_at is None]

    def teardown(self, ok):
        for w in self.writers:
            w.stop_ev.set()
        for w in self.workers:
            w.cleanup()
        if ok and not self.args.keep:
            try:
                self.client.delete_project(self.project)
            except Exception as ex:
                say("note: delete_project failed: %s" % ex)
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            say("work dir kept: %s" % self.workdir)

    def dump(self):
        for w in self.workers:
            print(w.describe())
        for wr in self.writers:
            written, uncertain, errors = wr.snapshot()
            print("--- writer %s: %d ids written, %d uncertain, %d errors%s" % (
                wr.prefix, len(written), len(uncertain), len(errors),
                ("; last: " + errors[-1][:300]) if errors else ""))
        sys.stdout.flush()

    # ---- waiting ---------------------------------------------------------- #

    def wait_for(self, what, cond, timeout, stable_for=0.0, progress=None, every=2.0):
        """Poll cond() (truthy = done) until it has held for stable_for seconds."""
        start = time.time()
        deadline = start + timeout
        held_since = None
        last_print = start
        while True:
            self.check_workers_running()
            ok = cond()
            now = time.time()
            if ok:
                if held_since is None:
                    held_since = now
                if now - held_since >= stable_for:
                    say("ok: %s (%.1fs)" % (what, now - start))
                    return now - start
            else:
                held_since = None
            if now > deadline:
                raise Failed("timed out after %.0fs waiting for %s%s" % (
                    timeout, what, (": " + progress()) if progress else ""))
            if progress and now - last_print >= every:
                say("  waiting for %s: %s" % (what, progress()))
                last_print = now
            time.sleep(0.1)

    def check_workers_running(self):
        for w in self.live():
            if not w.alive():
                raise Failed("worker %s exited unexpectedly with status %s" % (
                    w.name, w.proc.returncode))
            errs = w.of("error")
            if errs:
                raise Failed("worker %s reported: %s" % (w.name, errs[-1]["msg"]))

    def holdings(self):
        return {w.name: w.shards() for w in self.live()}

    def holdings_str(self):
        return " ".join("%s=%s" % (n, fmt_shards(s)) for n, s in sorted(self.holdings().items()))

    def assignment_is(self, expected_counts):
        h = self.holdings()
        counts = sorted(len(s) for s in h.values())
        union = set()
        total = 0
        for s in h.values():
            union |= s
            total += len(s)
        return counts == sorted(expected_counts) and total == len(union) \
            and union == set(self.shards)

    # ---- records across all workers --------------------------------------- #

    def batches(self):
        """[(t, worker, shard, ids, cursor)] of every process() call, by time."""
        out = []
        for w in self.workers:
            for e in w.of("batch"):
                out.append((e["t"], w.name, e["shard"], e["ids"], e["cursor"]))
        out.sort(key=lambda b: b[0])
        return out

    def processed(self):
        c = collections.Counter()
        for b in self.batches():
            c.update(b[3])
        return c

    def written(self):
        written, uncertain = [], set()
        for wr in self.writers:
            ws, us, _ = wr.snapshot()
            written.extend(ws)
            uncertain |= us
        return written, uncertain

    # ---- the common final checks ------------------------------------------ #

    def drain_and_check(self, dup_allowed_shards=()):
        """Stop writing; every written id must be processed; checkpoints reach the ends."""
        for wr in self.writers:
            wr.stop()
        written, uncertain = self.written()
        for wr in self.writers:
            _, _, errors = wr.snapshot()
            if errors:
                say("note: writer %s had %d failed put_logs calls; first: %s" % (
                    wr.prefix, len(errors), errors[0][:300]))
        check(written, "nothing was written")
        check(len(set(written)) == len(written), "the writer produced duplicate ids")
        want = set(written)
        say("writers stopped: %d ids written (%d uncertain)" % (len(want), len(uncertain)))

        def missing():
            return want - set(self.processed())

        self.wait_for("every written id processed", lambda: not missing(), timeout=45,
                      progress=lambda: "%d of %d still missing (e.g. %s); %s" % (
                          len(missing()), len(want), sorted(missing())[:3], self.holdings_str()))

        # Final checkpoints equal the shard ends.
        shards = self.list_shards()
        end = {}
        for sid in sorted(shards):
            end[sid] = self.client.get_end_cursor(self.project, self.logstore, sid).get_cursor()

        def checkpoints():
            r = self.client.get_check_point(self.project, self.logstore, self.group)
            return {int(e["shard"]): e for e in r.get_consumer_group_check_points()}

        def ckpt_mismatch():
            cps = checkpoints()
            bad = []
            for sid in sorted(shards):
                got = cps.get(sid, {}).get("checkpoint") if sid in cps else None
                if got != end[sid]:
                    bad.append("shard %d (%s): checkpoint %r, end %r" % (
                        sid, shards[sid].get("status"), got, end[sid]))
            extra = sorted(set(cps) - set(shards))
            if extra:
                bad.append("GetCheckPoint lists unknown shards %r" % extra)
            return bad

        self.wait_for("final checkpoints equal the shard end cursors", lambda: not ckpt_mismatch(),
                      timeout=15, progress=lambda: "; ".join(ckpt_mismatch()[:4]))

        # At least once, and nothing unexpected.
        proc = self.processed()
        unknown = set(proc) - want - uncertain
        check(not unknown, "processed ids nobody wrote: %s" % sorted(unknown)[:10])
        dups = {i: n for i, n in proc.items() if n > 1}
        by_shard = collections.Counter()
        seen = collections.Counter()
        for _, _, sid, ids, _ in self.batches():
            for i in ids:
                seen[i] += 1
                if seen[i] > 1:
                    by_shard[sid] += 1
        say("processed %d distinct ids, %d occurrences: %d duplicates (by shard: %s)" % (
            len(proc), sum(proc.values()), sum(n - 1 for n in dups.values()),
            dict(sorted(by_shard.items())) or "none"))
        bad_dups = {s: n for s, n in by_shard.items() if s not in dup_allowed_shards}
        check(not bad_dups, "logs processed twice on shards no worker was killed on "
                            "(a graceful hand-over must start at the old owner's checkpoint): %r"
              % bad_dups)
        return shards

    def check_no_overlap(self):
        """No shard is held by two workers at the same time (from init/shutdown times)."""
        intervals = collections.defaultdict(list)  # shard -> [(start, end, worker)]
        for w in self.workers:
            open_ = {}
            for e in w.poll_events():
                if e["ev"] == "init":
                    open_.setdefault(e["shard"], e["t"])
                elif e["ev"] == "shutdown" and e["shard"] in open_:
                    intervals[e["shard"]].append((open_.pop(e["shard"]), e["t"], w.name))
            end = w.killed_at if w.killed_at is not None else float("inf")
            for sid, t in open_.items():
                intervals[sid].append((t, end, w.name))
        problems = []
        for sid, ivs in sorted(intervals.items()):
            ivs.sort()
            for (s1, e1, n1), (s2, e2, n2) in zip(ivs, ivs[1:]):
                if s2 < e1:
                    problems.append("shard %d: %s held it %.2f..%.2f, %s from %.2f" % (
                        sid, n1, s1 - T0, e1 - T0, n2, s2 - T0))
        check(not problems, "a shard was held by two live workers at once: " + "; ".join(problems))
        say("ok: no shard held by two live workers at once (%d hand-overs)" % sum(
            len(v) - 1 for v in intervals.values()))

    def stop_workers(self):
        for w in self.live():
            w.sigterm()
        deadline = time.time() + 20
        for w in self.live():
            try:
                w.proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                raise Failed("worker %s did not stop within 20 s of SIGTERM" % w.name)
            check(w.proc.returncode == 0, "worker %s exited with %s after SIGTERM" % (
                w.name, w.proc.returncode))
            check(w.of("exit"), "worker %s recorded no exit" % w.name)
        say("ok: all live workers stopped on SIGTERM")

    def report_warnings(self):
        for w in self.workers:
            warns = w.of("warn")
            if warns:
                kinds = collections.Counter(x["msg"][:120] for x in warns)
                say("note: worker %s logged %d library warnings: %s" % (
                    w.name, len(warns), "; ".join("%dx %s" % (n, m) for m, n in kinds.most_common(4))))


# --------------------------------------------------------------------------- #
# Scenario: balance
# --------------------------------------------------------------------------- #

def scenario_balance(sc):
    sc.setup()
    sc.start_writer("b", period=0.05, per_group=5)
    hb = sc.hb
    stable = 2 * hb + 0.5

    for i in (1, 2, 3):
        sc.start_worker("w%d" % i)
    sc.wait_for("3 workers converge to 3/3/4", lambda: sc.assignment_is([3, 3, 4]),
                timeout=30 + 10 * hb, stable_for=stable, progress=sc.holdings_str)
    say("assignment: " + sc.holdings_str())

    for i in (4, 5):
        sc.start_worker("w%d" % i)
    sc.wait_for("5 workers converge to 2/2/2/2/2", lambda: sc.assignment_is([2] * 5),
                timeout=30 + 10 * hb, stable_for=stable, progress=sc.holdings_str)
    say("assignment: " + sc.holdings_str())

    victim = sc.workers[1]  # w2
    lost = victim.shards()
    check(len(lost) == 2, "victim %s holds %s" % (victim.name, fmt_shards(lost)))
    victim.sigkill()
    kill_t = victim.killed_at
    say("SIGKILLed %s, which held %s" % (victim.name, fmt_shards(lost)))
    sc.wait_for("the others take over %s's shards" % victim.name,
                lambda: sc.assignment_is([2, 2, 3, 3]),
                timeout=sc.timeout + 20 + 6 * hb, stable_for=stable, progress=sc.holdings_str)
    say("assignment: " + sc.holdings_str())

    # When did each lost shard get a new owner? Not before the group's timeout has passed
    # since the victim's last heartbeat (the last one its library logged as answered).
    hbs = [t for t in victim.heartbeat_times() if t <= kill_t]
    check(hbs, "no heartbeat of %s found in %s" % (victim.name, victim.log))
    last_hb = hbs[-1]
    takeover = {}
    for w in sc.live():
        for e in w.of("init"):
            if e["shard"] in lost and e["t"] > kill_t:
                takeover[e["shard"]] = min(takeover.get(e["shard"], float("inf")), e["t"])
    check(set(takeover) == lost, "no init recorded for %s after the kill" % fmt_shards(
        lost - set(takeover)))
    delays = {s: round(t - last_hb, 2) for s, t in takeover.items()}
    say("%s's last heartbeat was answered %.2fs before the SIGKILL; its shards were taken over "
        "(new owner's init) this long after that heartbeat (group timeout %ds, heartbeat %ds): "
        "%s" % (victim.name, kill_t - last_hb, sc.timeout, hb, delays))
    # 0.25 s of slack: the heartbeat reached the server a little before its answer was logged.
    check(min(delays.values()) >= sc.timeout - 0.25,
          "a shard of the killed worker was reassigned %.2fs after its last heartbeat, before "
          "the group's timeout of %ds" % (min(delays.values()), sc.timeout))

    sc.drain_and_check(dup_allowed_shards=lost)
    sc.check_no_overlap()
    sc.report_warnings()
    sc.stop_workers()


# --------------------------------------------------------------------------- #
# Scenario: split-ordered
# --------------------------------------------------------------------------- #

def key_range(shard):
    lo = int(shard["inclusiveBeginKey"], 16)
    end = shard["exclusiveEndKey"]
    hi = KEY_SPACE if end.lower() == "f" * 32 else int(end, 16)
    return lo, hi


def split_at_middle(sc, parent):
    """Split `parent` at the middle of its range; returns (time, children, ListShards)."""
    before = sc.list_shards()
    lo, hi = key_range(before[parent])
    mid = "%032x" % ((lo + hi) // 2)
    r = sc.client.split_shard(sc.project, sc.logstore, parent, mid)
    split_t = time.time()
    answered = {s["shardID"]: s for s in r.get_shards_info()}
    listed = sc.list_shards()
    say("split shard %d at %s; shards now: %s" % (parent, mid, ", ".join(
        "%d %s [%s..,%s..)" % (sid, s.get("status"), s["inclusiveBeginKey"][:4],
                               s["exclusiveEndKey"][:4]) for sid, s in sorted(listed.items()))))
    children = sorted(set(listed) - set(before))
    check(len(children) == 2, "expected 2 new shards after the split, got %r" % children)
    # SplitShard answers the shards involved: the parent and its two children.
    check(set(answered) == set(children) | {parent},
          "the split answered shards %r; ListShards now shows %r" % (
              sorted(answered), sorted(listed)))
    check(listed[parent].get("status") == "readonly",
          "parent shard %d is %r after the split" % (parent, listed[parent].get("status")))
    for c in children:
        cl, ch = key_range(listed[c])
        check(lo <= cl < ch <= hi, "child %d's range is not inside the parent's" % c)
    sc.shards = listed
    return split_t, children


def check_parent_first(sc, parent, children, split_t):
    """From the processors' records: no child log before the parent's last log.

    Returns how long after the split the parent's last batch was processed.
    """
    batches = sc.batches()
    parent_b = [b for b in batches if b[2] == parent]
    check(parent_b, "shard %d was never processed" % parent)
    parent_ids = set(i for b in parent_b for i in b[3])
    last_parent = max(b[0] for b in parent_b)
    after = [b for b in parent_b if b[0] > split_t]
    say("parent shard %d: %d logs in %d batches, %d of them processed after the split; the "
        "last %.2fs after it" % (parent, len(parent_ids), len(parent_b), len(after),
                                 last_parent - split_t))
    for c in children:
        child_b = [b for b in batches if b[2] == c]
        check(child_b, "child shard %d was never processed" % c)
        first = min(b[0] for b in child_b)
        inits = [e["t"] for w in sc.workers for e in w.of("init") if e["shard"] == c]
        say("child shard %d: %d logs in %d batches; first init %.2fs, first batch %.2fs after "
            "the parent's last batch" % (
                c, len(set(i for b in child_b for i in b[3])), len(child_b),
                min(inits) - last_parent, first - last_parent))
        check(min(inits) > last_parent,
              "child shard %d was assigned (init %.2fs) before its parent's last batch (%.2fs): "
              "an ordered group must keep it waiting until the parent is consumed to its end"
              % (c, min(inits) - T0, last_parent - T0))
        check(first > last_parent,
              "child shard %d processed a batch (%s, %.2fs) before its parent's last batch "
              "(%.2fs)" % (c, [b[1] for b in child_b if b[0] == first][0], first - T0,
                            last_parent - T0))
    return last_parent - split_t


def scenario_split_ordered(sc):
    sc.setup()
    hb = sc.hb
    # Phase 1: shard 0 is split while it has a backlog. Phase 2: shard 1 is split while
    # idle, its checkpoint already at its end (the library commits nothing more for it).
    writer = sc.start_writer("s", period=0.05, per_group=4)
    # Small fetches so shard 0's backlog takes a while to drain after the split.
    extra = ["--max-fetch", str(sc.args.split_max_fetch)]
    if not sc.args.unordered:
        extra.append("--in-order")
    for i in (1, 2):
        sc.start_worker("w%d" % i, extra)
    sc.wait_for("2 workers hold one shard each", lambda: sc.assignment_is([1, 1]),
                timeout=30 + 10 * hb, stable_for=hb, progress=sc.holdings_str)
    sc.wait_for("shard 0 being processed",
                lambda: any(b[2] == 0 for b in sc.batches()), timeout=20)

    lo, hi = key_range(sc.shards[0])
    burst = sc.args.split_burst
    t = time.time()
    writer.burst(burst, lo, hi)  # from this thread, alongside the writer thread
    say("wrote a burst of %d log groups into shard 0's key range in %.1fs" % (
        burst, time.time() - t))
    split1_t, children1 = split_at_middle(sc, 0)
    sc.wait_for("both children of shard 0 processed",
                lambda: all(any(b[2] == c for b in sc.batches()) for c in children1),
                timeout=60 + 10 * hb,
                progress=lambda: "%s; shard 0 batches so far %d" % (
                    sc.holdings_str(), sum(1 for b in sc.batches() if b[2] == 0)))
    time.sleep(1.0)  # keep writing into the children a little longer
    sc.drain_and_check()
    drained = check_parent_first(sc, 0, children1, split1_t)
    # The phase means something only if the children would have been consumed during
    # the parent's backlog without ordering (an unordered group hands them out within
    # a heartbeat or two of the split).
    check(drained > 2 * hb + 1,
          "the parent's backlog was gone %.2fs after the split: too little to show ordering "
          "(raise --split-burst)" % drained)

    say("phase 2: split shard 1 while it is idle and checkpointed at its end")
    split2_t, children2 = split_at_middle(sc, 1)
    sc.start_writer("t", period=0.05, per_group=4)
    sc.wait_for("both children of shard 1 processed",
                lambda: all(any(b[2] == c for b in sc.batches()) for c in children2),
                timeout=20 + 10 * hb, progress=sc.holdings_str)
    time.sleep(1.0)
    sc.drain_and_check()
    check_parent_first(sc, 1, children2, split2_t)

    sc.check_no_overlap()
    sc.report_warnings()
    sc.stop_workers()


SCENARIOS = {
    "balance": (scenario_balance, 10),
    "split-ordered": (scenario_split_ordered, 2),
}


# --------------------------------------------------------------------------- #
# Main
# --------------------------------------------------------------------------- #

def precheck(args, project_probe):
    ep = args.endpoint.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = ep.partition(":")
    port = int(port or 80)
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as ex:
        return "cannot connect to the emulator at %s:%d: %s" % (host, port, ex)
    try:
        socket.getaddrinfo("%s.%s" % (project_probe, host), port)
    except socket.gaierror as ex:
        return ("%s.%s does not resolve (%s): *.localhost names need libnss-myhostname" % (
            project_probe, host, ex))
    if not os.path.exists(args.python):
        return "python %s does not exist" % args.python
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--access-key-id", required=True)
    ap.add_argument("--access-key-secret", required=True)
    ap.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter for the worker processes (the venv's)")
    ap.add_argument("--heartbeat-interval", type=int, default=1,
                    help="workers' heartbeat_interval in s; the group timeout is twice it")
    ap.add_argument("--fetch-interval", type=float, default=0.5,
                    help="workers' data_fetch_interval in s")
    ap.add_argument("--split-burst", type=int, default=200,
                    help="log groups written into the parent's range just before the split")
    ap.add_argument("--split-max-fetch", type=int, default=10,
                    help="max_fetch_log_group_size of the split scenario's workers")
    ap.add_argument("--unordered", action="store_true",
                    help="split-ordered with in_order=False: a check of the scenario itself, "
                         "which must then FAIL on the ordering checks")
    ap.add_argument("--request-timeout", type=float, default=30)
    ap.add_argument("--deadline", type=float, default=170,
                    help="overall limit in s; everything is killed when it passes")
    ap.add_argument("--workdir", default=None, help="parent folder of the work directory")
    ap.add_argument("--keep", action="store_true", help="keep the project and work directory")
    args = ap.parse_args()

    problem = precheck(args, "probe")
    if problem:
        print("consumer_scenarios: " + problem)
        return 2

    fn, shard_count = SCENARIOS[args.scenario]
    sc = Scenario(args, args.scenario, shard_count)

    def on_alarm(_signum, _frame):
        raise Deadline("the overall deadline of %.0fs passed" % args.deadline)

    def on_term(_signum, _frame):
        raise Deadline("terminated by a signal")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(int(args.deadline))
    ok = False
    try:
        fn(sc)
        ok = True
    except (Failed, Deadline) as ex:
        print("FAIL %s: %s" % (args.scenario, ex))
    except LogException as ex:
        print("FAIL %s: unexpected LogException %s: %s (HTTP %s, request id %r)" % (
            args.scenario, ex.get_error_code(), ex.get_error_message(), ex.get_resp_status(),
            ex.get_request_id()))
        traceback.print_exc(file=sys.stdout)
    except Exception as ex:
        print("FAIL %s: %s: %s" % (args.scenario, type(ex).__name__, ex))
        traceback.print_exc(file=sys.stdout)
    finally:
        signal.alarm(0)
        if not ok:
            sc.dump()
        sc.teardown(ok)
    if ok:
        print("PASS %s (%.1fs)" % (args.scenario, time.time() - T0))
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""One consumer-group worker process: the official, unmodified
``aliyun.log.consumer.ConsumerWorker`` (aliyun-log-python-sdk 0.9.52) with a
processor that records what it is given.

    .venv/bin/python tests/python/consumer_worker.py --endpoint localhost:PORT \
        --access-key-id AK --access-key-secret SK --project P --logstore L \
        --group G --consumer NAME --out FILE [--in-order] \
        [--heartbeat-interval S] [--fetch-interval S] [--max-fetch N] \
        [--process-delay S] [--fail-batch N]

Started by consumer_scenarios.py, one process per worker. Every line of --out
is one JSON event, written and flushed before anything that depends on it
(a checkpoint commit in particular), so a SIGKILL loses no record of work the
server was told about:

    {"ev":"start","t":..}                      the worker thread runs
    {"ev":"init","shard":S,"t":..}             processor.initialize(S)
    {"ev":"batch","shard":S,"ids":[..],"cursor":NEXT,"t":..}
                                               processor.process(): the "id"
                                               of every log, in order, and the
                                               batch's next cursor (what is
                                               committed as the checkpoint)
    {"ev":"raise","shard":S,"ids":[..],"cursor":NEXT,"t":..}
                                               process() raised on purpose
                                               (--fail-batch): the batch was
                                               handed over but not processed
    {"ev":"shutdown","shard":S,"cursor":C,"t":..}
                                               processor.shutdown(); C is the
                                               cursor it commits
    {"ev":"warn","msg":..,"t":..}              a WARNING or worse logged by
                                               the library (heartbeat or
                                               checkpoint failures...)
    {"ev":"error","msg":..,"t":..}             the worker could not start
    {"ev":"exit","t":..}                       graceful stop finished

The processor commits a checkpoint after every batch with
``save_checkpoint(tracker, force=True)``: the library's helper otherwise
commits at most every 3 s (``checkpoint_timeout``) and ``flush_check`` every
60 s. Its shutdown hook is the base class's, which commits with force too.

SIGTERM or SIGINT: ``ConsumerWorker.shutdown()``, then wait for the worker
thread (the library stops the heartbeat first, then shuts the shard consumers
down; no final heartbeat is sent, the server expires the consumer after the
group's timeout). The process also dies with its parent (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import signal
import sys
import threading
import time

try:
    from aliyun.log.consumer import (ConsumerProcessorBase, ConsumerWorker, CursorPosition,
                                     LogHubConfig)
except ImportError as _ex:  # pragma: no cover - environment problem
    sys.stderr.write("consumer_worker: cannot import the Python SDK (%s); run "
                     "scripts/setup-python.sh and use .venv/bin/python\n" % _ex)
    sys.exit(2)


class EventLog(object):
    """Appends JSON lines to a file, one write + flush per event, thread-safe."""

    def __init__(self, path):
        self.f = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()

    def emit(self, ev, **fields):
        fields["ev"] = ev
        fields["t"] = time.time()
        line = json.dumps(fields, separators=(",", ":")) + "\n"
        with self.lock:
            self.f.write(line)
            self.f.flush()


class WarningsToEvents(logging.Handler):
    """Library warnings (heartbeat failures, checkpoint failures...) become events."""

    def __init__(self, events):
        logging.Handler.__init__(self, level=logging.WARNING)
        self.events = events

    def emit(self, record):
        try:
            msg = record.getMessage()
        except Exception:  # a malformed library log call: keep its raw form
            msg = "%s %r" % (record.msg, record.args)
        try:
            self.events.emit("warn", logger=record.name, msg=msg[:500])
        except Exception:
            pass


def text(v):
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


class Recorder(ConsumerProcessorBase):
    """The processor: records init / batch / shutdown, commits after every batch."""

    # Batches handed to process() in this process, over every shard (for --fail-batch).
    handed = 0
    handed_lock = threading.Lock()

    def __init__(self, events, process_delay, fail_batch):
        ConsumerProcessorBase.__init__(self)
        self.events = events
        self.process_delay = process_delay
        self.fail_batch = fail_batch

    def initialize(self, shard):
        ConsumerProcessorBase.initialize(self, shard)
        self.events.emit("init", shard=shard)

    def process(self, log_groups, check_point_tracker):
        ids = []
        for group in log_groups.LogGroups:
            for log in group.Logs:
                lid = None
                for c in log.Contents:
                    if text(c.Key) == "id":
                        lid = text(c.Value)
                        break
                ids.append(lid)
        if self.process_delay > 0:
            time.sleep(self.process_delay)
        with Recorder.handed_lock:
            Recorder.handed += 1
            nth = Recorder.handed
        if nth == self.fail_batch:
            # An application error, as a sink outage would raise: the library must hand
            # this batch over again (C&P §6 C9); 0.9.52 skips it.
            self.events.emit("raise", shard=self.shard_id, ids=ids,
                             cursor=check_point_tracker.get_cursor())
            raise RuntimeError("chaos: process() fails on batch %d" % nth)
        # Recorded (and flushed) before the checkpoint is committed.
        self.events.emit("batch", shard=self.shard_id, ids=ids,
                         cursor=check_point_tracker.get_cursor())
        self.save_checkpoint(check_point_tracker, force=True)

    def shutdown(self, check_point_tracker):
        self.events.emit("shutdown", shard=self.shard_id, cursor=check_point_tracker.get_cursor())
        ConsumerProcessorBase.shutdown(self, check_point_tracker)


def die_with_parent():
    """PR_SET_PDEATHSIG = SIGKILL: no worker outlives the orchestrator (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except Exception:
        pass
    if os.getppid() == 1:
        sys.exit(3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--access-key-id", required=True)
    ap.add_argument("--access-key-secret", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--logstore", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--consumer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--in-order", action="store_true")
    ap.add_argument("--heartbeat-interval", type=int, default=1,
                    help="seconds; the library sets the group timeout to twice this")
    ap.add_argument("--fetch-interval", type=float, default=0.5,
                    help="data_fetch_interval: the worker's main-loop period")
    ap.add_argument("--max-fetch", type=int, default=1000,
                    help="max_fetch_log_group_size: log groups per PullLogs")
    ap.add_argument("--process-delay", type=float, default=0.0,
                    help="seconds process() sleeps per batch (to build a backlog)")
    ap.add_argument("--worker-pool-size", type=int, default=2)
    ap.add_argument("--fail-batch", type=int, default=0,
                    help="process() raises once, on the Nth batch this process is handed (0: never)")
    args = ap.parse_args()

    die_with_parent()
    events = EventLog(args.out)

    # The log (stderr) is for people and for one measurement: every successful heartbeat
    # is logged at DEBUG ("heart beat result: ..."), stamped with the unix time.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(created).3f %(levelname)s %(name)s %(message)s")
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("aliyun.log.consumer.heart_beat").setLevel(logging.DEBUG)
    logging.getLogger("aliyun").addHandler(WarningsToEvents(events))

    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    option = LogHubConfig(
        args.endpoint, args.access_key_id, args.access_key_secret, args.project, args.logstore,
        args.group, args.consumer,
        cursor_position=CursorPosition.BEGIN_CURSOR,
        heartbeat_interval=args.heartbeat_interval,
        data_fetch_interval=args.fetch_interval,
        in_order=args.in_order,
        max_fetch_log_group_size=args.max_fetch,
        worker_pool_size=args.worker_pool_size,
    )
    try:
        # The constructor creates (or updates) the consumer group.
        worker = ConsumerWorker(Recorder, option, args=(events, args.process_delay, args.fail_batch))
    except Exception as ex:
        events.emit("error", msg="%s: %s" % (type(ex).__name__, ex))
        return 1
    worker.start()
    events.emit("start")

    while not stop.is_set() and worker.is_alive():
        stop.wait(0.2)
    if not worker.is_alive() and not stop.is_set():
        events.emit("error", msg="the worker thread ended by itself")
        return 1

    worker.shutdown()
    worker.join(60)
    if worker.is_alive():
        events.emit("error", msg="the worker thread did not stop within 60 s")
        return 1
    events.emit("exit")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Split, merge, list and delete shards with the official Python SDK against sls-emu.

Usage: sdk_shards.py --endpoint localhost:PORT --access-key-id AK --access-key-secret SK

Writes logs, splits shard 0 at a key, splits shard 1 at its midpoint, merges two children,
writes more, then reads every shard parents-first and checks each log is read exactly once and
lies in a shard whose range holds its hash key. Exits non-zero on the first failed check.
"""
import argparse
import os
import sys
import time

from aliyun.log import LogClient, LogException, LogItem, PutLogsRequest


def check(cond, what):
    if not cond:
        print("FAIL " + what)
        sys.exit(1)
    print("PASS " + what)


def put(client, project, logstore, key, log_id):
    item = LogItem(timestamp=int(time.time()), contents=[("id", log_id)])
    client.put_logs(PutLogsRequest(project, logstore, "t", "src", [item], hashKey=key))


def read_all(client, project, logstore, shard):
    cursor = client.get_cursor(project, logstore, shard, "begin").get_cursor()
    end = client.get_cursor(project, logstore, shard, "end").get_cursor()
    ids = []
    while cursor != end:
        r = client.pull_logs(project, logstore, shard, cursor, count=1000)
        for group in r.get_loggroup_list().LogGroups:
            for log in group.Logs:
                ids.extend(c.Value for c in log.Contents if c.Key == "id")
        cursor = r.get_next_cursor()
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--access-key-id", required=True)
    ap.add_argument("--access-key-secret", required=True)
    a = ap.parse_args()
    client = LogClient(a.endpoint, a.access_key_id, a.access_key_secret)
    client.timeout = 15
    project = "py-shards-%d-%d" % (os.getpid(), int(time.time()) % 100000)
    logstore = "ls"
    client.create_project(project, "shards")
    try:
        client.create_logstore(project, logstore, ttl=1, shard_count=2)
        keys = ["%02x" % b + "0" * 30 for b in range(0, 256, 8)]
        written = {}
        for i, k in enumerate(keys):
            put(client, project, logstore, k, "before-%d" % i)
            written["before-%d" % i] = k

        r = client.split_shard(project, logstore, 0, "40000000000000000000000000000000")
        shards = r.get_shards_info()
        check([(s["shardID"], s["status"]) for s in shards] == [(0, "readonly"), (2, "readwrite"), (3, "readwrite")],
              "split_shard at a key: parent then children, ids max+1")
        check(shards[1]["exclusiveEndKey"] == "40000000000000000000000000000000", "split key is the cut")

        r = client.split_shard(project, logstore, 1, "c0000000000000000000000000000000")
        check([s["shardID"] for s in r.get_shards_info()] == [1, 4, 5], "second split")

        r = client.merge_shard(project, logstore, 3)
        merged = r.get_shards_info()
        check([(s["shardID"], s["status"]) for s in merged] == [(6, "readwrite"), (3, "readonly"), (4, "readonly")],
              "merge_shard: new shard, then both parents")

        listed = client.list_shards(project, logstore).get_shards_info()
        rw = sorted((s["inclusiveBeginKey"], s["exclusiveEndKey"]) for s in listed if s["status"] == "readwrite")
        check(rw[0][0] == "0" * 32 and rw[-1][1] == "f" * 32 and all(rw[i][1] == rw[i + 1][0] for i in range(len(rw) - 1)),
              "list_shards: readwrite ranges partition the key space")
        check(len(listed) == 7, "list_shards lists readonly shards too")

        for i, k in enumerate(keys):
            put(client, project, logstore, k, "after-%d" % i)
            written["after-%d" % i] = k

        ranges = {s["shardID"]: (s["inclusiveBeginKey"], s["exclusiveEndKey"]) for s in listed}
        seen = {}
        for shard in sorted(ranges):  # ids grow with creation: parents come first
            for log_id in read_all(client, project, logstore, shard):
                if log_id in seen:
                    check(False, "%s read once" % log_id)
                seen[log_id] = shard
                b, e = ranges[shard]
                k = written[log_id]
                if not (b <= k < e or (e == "f" * 32 and k == e)):
                    check(False, "%s in shard %d whose range holds %s" % (log_id, shard, k))
        check(set(seen) == set(written), "every log read exactly once (%d logs)" % len(written))

        try:
            client.delete_shard(project, logstore, 2)
            check(False, "deleting a readwrite shard is refused")
        except LogException as e:
            check(e.get_error_code() == "ParameterInvalid", "deleting a readwrite shard is refused")
        client.delete_shard(project, logstore, 0)
        ids = [s["shardID"] for s in client.list_shards(project, logstore).get_shards_info()]
        check(0 not in ids, "delete_shard removes a readonly shard")
    finally:
        try:
            client.delete_project(project)
        except LogException:
            pass
    print("sdk_shards: all checks passed")


if __name__ == "__main__":
    main()

"""Prints every log of a logstore as JSON lines, read with the official Python SDK.

Usage: read_all.py --endpoint localhost:PORT --access-key-id AK --access-key-secret SK
                   --project P --logstore L

Each line: {"shard": id, "topic": t, "source": s, "tags": {...}, "time": n, "contents": {...}}.
"""
import argparse
import json

from aliyun.log import LogClient


def main():
    ap = argparse.ArgumentParser()
    for flag in ("--endpoint", "--access-key-id", "--access-key-secret", "--project", "--logstore"):
        ap.add_argument(flag, required=True)
    a = ap.parse_args()
    client = LogClient(a.endpoint, a.access_key_id, a.access_key_secret)
    client.timeout = 15
    for shard in client.list_shards(a.project, a.logstore).get_shards_info():
        sid = shard["shardID"]
        cursor = client.get_cursor(a.project, a.logstore, sid, "begin").get_cursor()
        end = client.get_cursor(a.project, a.logstore, sid, "end").get_cursor()
        while cursor != end:
            r = client.pull_logs(a.project, a.logstore, sid, cursor, count=1000)
            for group in r.get_loggroup_list().LogGroups:
                tags = {t.Key: t.Value for t in group.LogTags}
                for log in group.Logs:
                    print(json.dumps({
                        "shard": sid, "topic": group.Topic, "source": group.Source, "tags": tags,
                        "time": log.Time, "contents": {c.Key: c.Value for c in log.Contents},
                    }))
            cursor = r.get_next_cursor()


if __name__ == "__main__":
    main()

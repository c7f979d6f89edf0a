"""STS credentials and RAM policies through the official Python SDK (aliyun-log-python-sdk).

Run against an emulator whose config file declares, on project --project with logstore
--logstore, an STS credential (--sts-id, --sts-secret, --sts-token) allowed log:Get* and
log:List* only. Checks, signing with V1 and with V4: the SDK's securityToken reaches the
emulator (reads work), a write is refused with SLS's Unauthorized naming log:PostLogStoreLogs,
and a wrong token is refused as invalid. One line per check: "PASS name" or "FAIL name: why";
exit status 1 if any check failed.
"""

import argparse
import sys

from aliyun.log import (ListLogstoresRequest, LogClient, LogException, LogItem,
                        PutLogsRequest)

failures = 0


def check(name, ok, why=""):
    global failures
    if ok:
        print("PASS %s" % name)
    else:
        failures += 1
        print("FAIL %s: %s" % (name, why))


def refused(fn):
    """The LogException fn raises, or None when it succeeds."""
    try:
        fn()
    except LogException as e:
        return e
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for flag in ("--endpoint", "--project", "--logstore", "--sts-id", "--sts-secret", "--sts-token"):
        p.add_argument(flag, required=True)
    a = p.parse_args()
    for sign in ("v1", "v4"):
        extra = {} if sign == "v1" else {"auth_version": "v4", "region": "cn-hangzhou"}
        sts = LogClient(a.endpoint, a.sts_id, a.sts_secret, securityToken=a.sts_token, **extra)
        names = sts.list_logstores(ListLogstoresRequest(a.project)).get_logstores()
        check("%s list_logstores with the token" % sign, a.logstore in names, names)
        cursor = sts.get_cursor(a.project, a.logstore, 0, "begin").get_cursor()
        check("%s get_cursor with the token" % sign, bool(cursor), cursor)
        item = LogItem(contents=[("k", "v")])
        e = refused(lambda: sts.put_logs(PutLogsRequest(a.project, a.logstore, "", "", [item])))
        want = "denied by sts or ram, action: log:PostLogStoreLogs, resource: acs:log:cn-hangzhou:"
        check("%s put_logs refused" % sign,
              e is not None and e.get_error_code() == "Unauthorized"
              and e.get_error_message().startswith(want)
              and e.get_error_message().endswith(":project/%s/logstore/%s" % (a.project, a.logstore)),
              e and (e.get_error_code(), e.get_error_message()))
        wrong = LogClient(a.endpoint, a.sts_id, a.sts_secret, securityToken="not-the-token", **extra)
        e = refused(lambda: wrong.list_logstores(ListLogstoresRequest(a.project)))
        check("%s wrong token refused" % sign,
              e is not None and e.get_error_code() == "Unauthorized"
              and e.get_error_message() == "The security token you provided is invalid.",
              e and (e.get_error_code(), e.get_error_message()))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

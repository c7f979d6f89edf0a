package main

import (
	"fmt"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// The SDK has three ways to call PullLogs (GET /logstores/{ls}/shards/{id}?type=logs):
// PullLogs (lz4, decoded), PullLogsWithQuery (a PullLogRequest: compress type, meta from the
// answer headers, per-group cursors from x-log-read-last-cursor) and GetLogsBytes (the raw
// protobuf, decoded with LogsBytesDecode). Each reads every shard begin -> end here.

// fetchFunc reads one batch at cursor: its groups and the next cursor.
type fetchFunc func(sid int, cursor string) ([]*sls.LogGroup, string, error)

// pullAll reads every shard from begin to end with fetch, checking the cursor arithmetic.
func (r *sdkCore) pullAll(count int, fetch fetchFunc) pulled {
	out := pulled{perShard: map[int][]*sls.LogGroup{}}
	for sid := 0; sid < coreShardCount; sid++ {
		groups, err := r.pullShard(sid, count, fetch)
		if err != nil {
			out.err = err
			return out
		}
		out.perShard[sid] = groups
	}
	return out
}

func (r *sdkCore) pullShard(sid, count int, fetch fetchFunc) ([]*sls.LogGroup, error) {
	cursor, end, err := r.cursors(sid)
	if err != nil {
		return nil, err
	}
	var groups []*sls.LogGroup
	for i := 0; cursor != end; i++ {
		if i > 10000 {
			return nil, fmt.Errorf("shard %d: never reached the end cursor %s", sid, end)
		}
		gs, next, err := fetch(sid, cursor)
		if err != nil {
			return nil, fmt.Errorf("shard %d cursor %s: %v", sid, cursor, oneLine(err))
		}
		n := len(gs)
		if n == 0 || n > count {
			return nil, fmt.Errorf("shard %d: pulled %d groups with count=%d before the end cursor (cursor %s, end %s)",
				sid, n, count, cursor, end)
		}
		ci, err1 := decodeCursor(cursor)
		ni, err2 := decodeCursor(next)
		if err1 != nil || err2 != nil || ni != ci+int64(n) {
			return nil, fmt.Errorf("shard %d: next cursor %s after %d groups from %s, expected cursor + %d", sid, next, n, cursor, n)
		}
		groups = append(groups, gs...)
		cursor = next
	}
	return groups, nil
}

func (r *sdkCore) pullPullLogs(count int) pulled {
	return r.pullAll(count, func(sid int, cursor string) ([]*sls.LogGroup, string, error) {
		gl, next, err := r.client.PullLogs(r.project, r.logstore, sid, cursor, "", count)
		if err != nil {
			return nil, "", err
		}
		return gl.LogGroups, next, nil
	})
}

// pullWithQuery also checks the answer's meta: x-log-count against the groups in the body, a
// raw size, and each group's cursor (LogGroup.GetCursor, derived by the SDK from
// x-log-read-last-cursor, as the consumer library uses it): cursor + its index.
func (r *sdkCore) pullWithQuery(count, compress int) pulled {
	return r.pullAll(count, func(sid int, cursor string) ([]*sls.LogGroup, string, error) {
		gl, plm, err := r.client.PullLogsWithQuery(&sls.PullLogRequest{
			Project: r.project, Logstore: r.logstore, ShardID: sid, Cursor: cursor,
			LogGroupMaxCount: count, CompressType: compress,
		})
		if err != nil {
			return nil, "", err
		}
		n := len(gl.LogGroups)
		if plm.Count != n {
			return nil, "", fmt.Errorf("x-log-count %d, but %d groups in the body", plm.Count, n)
		}
		if n > 0 && plm.RawSize <= 0 {
			return nil, "", fmt.Errorf("x-log-bodyrawsize %d with %d groups", plm.RawSize, n)
		}
		start, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		for i, g := range gl.LogGroups {
			if want := encodeCursor(start + int64(i)); g.GetCursor() != want {
				return nil, "", fmt.Errorf("group %d of %d: cursor %q (from x-log-read-last-cursor), expected %q",
					i, n, g.GetCursor(), want)
			}
		}
		return gl.LogGroups, plm.NextCursor, nil
	})
}

func (r *sdkCore) pullBytes(count int) pulled {
	return r.pullAll(count, func(sid int, cursor string) ([]*sls.LogGroup, string, error) {
		raw, next, err := r.client.GetLogsBytes(r.project, r.logstore, sid, cursor, "", count)
		if err != nil {
			return nil, "", err
		}
		gl, err := sls.LogsBytesDecode(raw)
		if err != nil {
			return nil, "", fmt.Errorf("LogsBytesDecode: %v", err)
		}
		return gl.LogGroups, next, nil
	})
}

// cPullEndCursor: end_cursor bounds a pull to [cursor, end_cursor).
func (r *sdkCore) cPullEndCursor() error {
	for sid := 0; sid < coreShardCount; sid++ {
		b, e, err := r.cursors(sid)
		if err != nil {
			return err
		}
		bi, _ := decodeCursor(b)
		ei, _ := decodeCursor(e)
		if ei-bi < 2 {
			continue
		}
		one, stop, err := r.client.PullLogs(r.project, r.logstore, sid, b, "", 1)
		if err != nil {
			return err
		}
		if len(one.LogGroups) != 1 {
			return fmt.Errorf("shard %d: %d groups with count=1", sid, len(one.LogGroups))
		}
		gl, next, err := r.client.PullLogs(r.project, r.logstore, sid, b, stop, 100)
		if err != nil {
			return err
		}
		if len(gl.LogGroups) != 1 || next != stop {
			return fmt.Errorf("shard %d: pull up to end_cursor %s gave %d groups, next %s", sid, stop, len(gl.LogGroups), next)
		}
		if normGroup(gl.LogGroups[0]) != normGroup(one.LogGroups[0]) {
			return fmt.Errorf("shard %d: the bounded pull returned another group", sid)
		}
		return nil
	}
	return fmt.Errorf("no shard has two groups to test end_cursor with")
}

// cPullAtEnd: at the end cursor every variant answers no group and the same cursor.
func (r *sdkCore) cPullAtEnd() error {
	for sid := 0; sid < coreShardCount; sid++ {
		_, e, err := r.cursors(sid)
		if err != nil {
			return err
		}
		gl, next, err := r.client.PullLogs(r.project, r.logstore, sid, e, "", 100)
		if err != nil {
			return err
		}
		if len(gl.LogGroups) != 0 || next != e {
			return fmt.Errorf("shard %d PullLogs at the end: %d groups, next %s, expected 0 and %s", sid, len(gl.LogGroups), next, e)
		}
		gl, plm, err := r.client.PullLogsWithQuery(&sls.PullLogRequest{
			Project: r.project, Logstore: r.logstore, ShardID: sid, Cursor: e, LogGroupMaxCount: 100,
			CompressType: sls.Compress_ZSTD,
		})
		if err != nil {
			return err
		}
		if len(gl.LogGroups) != 0 || plm.Count != 0 || plm.NextCursor != e {
			return fmt.Errorf("shard %d PullLogsWithQuery(zstd) at the end: %d groups, x-log-count %d, next %s",
				sid, len(gl.LogGroups), plm.Count, plm.NextCursor)
		}
		raw, next, err := r.client.GetLogsBytes(r.project, r.logstore, sid, e, "", 100)
		if err != nil {
			return err
		}
		if len(raw) != 0 || next != e {
			return fmt.Errorf("shard %d GetLogsBytes at the end: %d bytes, next %s", sid, len(raw), next)
		}
	}
	return nil
}

package main

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// The checks of sdk-core up to the pulls: projects, logstores, shards, cursors, errors.

func (r *sdkCore) cCreateProject() error {
	if _, err := r.client.CreateProject(r.project, "sls-go sdk-core "+r.project); err != nil {
		return err
	}
	r.createdProject = true
	return nil
}

func (r *sdkCore) cGetProject() error {
	p, err := r.client.GetProject(r.project)
	if err != nil {
		return err
	}
	if p.Name != r.project {
		return fmt.Errorf("projectName %q, expected %q", p.Name, r.project)
	}
	if want := "sls-go sdk-core " + r.project; p.Description != want {
		return fmt.Errorf("description %q, expected %q", p.Description, want)
	}
	if p.Status != "Normal" {
		return fmt.Errorf("status %q, expected Normal", p.Status)
	}
	// The Go SDK reads createTime / lastModifyTime as strings of unix seconds.
	for name, v := range map[string]string{"createTime": p.CreateTime, "lastModifyTime": p.LastModifyTime} {
		if err := nearNow(name, v, r.tStart); err != nil {
			return err
		}
	}
	return nil
}

// nearNow: v must be a string of unix seconds within 5 minutes of start .. now.
func nearNow(name, v string, start time.Time) error {
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("%s must be a string of unix seconds, got %q", name, v)
	}
	if secs < start.Unix()-300 || secs > time.Now().Unix()+300 {
		return fmt.Errorf("%s=%d is not near the creation time %d", name, secs, start.Unix())
	}
	return nil
}

func (r *sdkCore) cListProject() error {
	names, err := r.client.ListProject()
	if err != nil {
		return err
	}
	if !contains(names, r.project) {
		return fmt.Errorf("ListProject: %s not among %d names", r.project, len(names))
	}
	projects, count, total, err := r.client.ListProjectV2(0, 500)
	if err != nil {
		return err
	}
	found := false
	for _, p := range projects {
		found = found || p.Name == r.project
	}
	if !found {
		return fmt.Errorf("ListProjectV2: %s not among %d projects", r.project, len(projects))
	}
	if count != len(projects) || total < count {
		return fmt.Errorf("ListProjectV2: count %d, total %d, %d projects listed", count, total, len(projects))
	}
	return nil
}

func (r *sdkCore) cErrProjectMissing() error {
	_, err := r.client.GetProject(r.missing)
	return expectSlsError(err, "ProjectNotExist", 404)
}

func (r *sdkCore) cCreateLogstore() error {
	return r.client.CreateLogStore(r.project, r.logstore, coreTTLCreate, coreShardCount, false, 64)
}

// cCreateLogstoreNoSplit: both create calls always send autoSplit and maxSplitShard. A
// caller not using auto split passes (false, 0) to CreateLogStore, and CreateLogStoreV2 of a
// LogStore{Name, TTL, ShardCount} sends "maxSplitShard":0 (no omitempty); the SLS docs only
// constrain maxSplitShard when autoSplit is true.
func (r *sdkCore) cCreateLogstoreNoSplit() error {
	if err := r.client.CreateLogStore(r.project, "core-no-split", 1, 2, false, 0); err != nil {
		return fmt.Errorf("CreateLogStore(ttl 1, 2 shards, false, 0): %v", oneLine(err))
	}
	if err := r.client.CreateLogStoreV2(r.project, &sls.LogStore{Name: "core-no-split-v2", TTL: 1, ShardCount: 2}); err != nil {
		return fmt.Errorf("CreateLogStoreV2(LogStore{Name, TTL 1, ShardCount 2}): %v", oneLine(err))
	}
	for _, name := range []string{"core-no-split", "core-no-split-v2"} {
		if err := r.client.DeleteLogStore(r.project, name); err != nil {
			return err
		}
	}
	return nil
}

func (r *sdkCore) checkLogstore(ttl int) error {
	ls, err := r.client.GetLogStore(r.project, r.logstore)
	if err != nil {
		return err
	}
	if ls.TTL != ttl {
		return fmt.Errorf("ttl %d, expected %d", ls.TTL, ttl)
	}
	if ls.ShardCount != coreShardCount {
		return fmt.Errorf("shardCount %d, expected %d", ls.ShardCount, coreShardCount)
	}
	for name, v := range map[string]uint32{"createTime": ls.CreateTime, "lastModifyTime": ls.LastModifyTime} {
		if err := nearNow(name, strconv.FormatUint(uint64(v), 10), r.tStart); err != nil {
			return err
		}
	}
	return nil
}

func (r *sdkCore) cListLogstore() error {
	names, err := r.client.ListLogStore(r.project)
	if err != nil {
		return err
	}
	if !contains(names, r.logstore) {
		return fmt.Errorf("%s not in %q", r.logstore, names)
	}
	return nil
}

// cUpdateLogstore: UpdateLogStore PUTs {logstoreName, ttl, shardCount} only; UpdateLogStoreV2
// PUTs every field of a LogStore, here the one GetLogStore returned (get, change, put).
func (r *sdkCore) cUpdateLogstore() error {
	if err := r.client.UpdateLogStore(r.project, r.logstore, coreTTLUpdate+1, coreShardCount); err != nil {
		return fmt.Errorf("UpdateLogStore: %v", oneLine(err))
	}
	if err := r.checkLogstore(coreTTLUpdate + 1); err != nil {
		return fmt.Errorf("after UpdateLogStore: %v", err)
	}
	ls, err := r.client.GetLogStore(r.project, r.logstore)
	if err != nil {
		return err
	}
	ls.TTL = coreTTLUpdate
	if err := r.client.UpdateLogStoreV2(r.project, ls); err != nil {
		return fmt.Errorf("UpdateLogStoreV2: %v", oneLine(err))
	}
	if err := r.checkLogstore(coreTTLUpdate); err != nil {
		return fmt.Errorf("after UpdateLogStoreV2: %v", err)
	}
	return nil
}

func (r *sdkCore) cErrLogstoreMissing() error {
	_, err := r.client.GetLogStore(r.project, "missing-logstore")
	return expectSlsError(err, "LogStoreNotExist", 404)
}

func (r *sdkCore) cErrLogstoreExists() error {
	err := r.client.CreateLogStore(r.project, r.logstore, coreTTLCreate, coreShardCount, false, 64)
	return expectSlsError(err, "LogStoreAlreadyExist", 400)
}

func (r *sdkCore) cListShards() error {
	shards, err := r.client.ListShards(r.project, r.logstore)
	if err != nil {
		return err
	}
	sort.Slice(shards, func(i, j int) bool { return shards[i].ShardID < shards[j].ShardID })
	if len(shards) != coreShardCount {
		return fmt.Errorf("%d shards, expected %d", len(shards), coreShardCount)
	}
	for i, rg := range expectedRanges(coreShardCount) {
		s := shards[i]
		switch {
		case s.ShardID != i:
			return fmt.Errorf("shard ids %v, expected 0..%d", shardIDs(shards), coreShardCount-1)
		case s.Status != "readwrite":
			return fmt.Errorf("shard %d status %q, expected readwrite", i, s.Status)
		case s.InclusiveBeginKey != rg[0] || s.ExclusiveBeginKey != rg[1]:
			return fmt.Errorf("shard %d range [%s, %s), expected [%s, %s)", i,
				s.InclusiveBeginKey, s.ExclusiveBeginKey, rg[0], rg[1])
		case s.CreateTime <= 0:
			return fmt.Errorf("shard %d createTime %d", i, s.CreateTime)
		}
	}
	r.shards = shards
	return nil
}

func (r *sdkCore) cursors(sid int) (begin, end string, err error) {
	if begin, err = r.client.GetCursor(r.project, r.logstore, sid, "begin"); err != nil {
		return
	}
	end, err = r.client.GetCursor(r.project, r.logstore, sid, "end")
	return
}

func (r *sdkCore) cCursorsEmpty() error {
	for sid := 0; sid < coreShardCount; sid++ {
		b, e, err := r.cursors(sid)
		if err != nil {
			return err
		}
		if _, err := decodeCursor(b); err != nil {
			return err
		}
		if b != e {
			return fmt.Errorf("shard %d: begin %s and end %s of an empty shard differ", sid, b, e)
		}
		gl, next, err := r.client.PullLogs(r.project, r.logstore, sid, b, "", 10)
		if err != nil {
			return err
		}
		if len(gl.LogGroups) != 0 || next != b {
			return fmt.Errorf("shard %d: pull on an empty shard gave %d groups, next %s (cursor %s)",
				sid, len(gl.LogGroups), next, b)
		}
	}
	return nil
}

// cCursors: begin <= end; a time before all data gives begin, after all data gives end;
// GetCursorTime of the first group is its receive time.
func (r *sdkCore) cCursors() error {
	now := time.Now()
	for sid := 0; sid < coreShardCount; sid++ {
		b, e, err := r.cursors(sid)
		if err != nil {
			return err
		}
		bi, err1 := decodeCursor(b)
		ei, err2 := decodeCursor(e)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("shard %d: %v %v", sid, err1, err2)
		}
		if bi > ei {
			return fmt.Errorf("shard %d: begin %d > end %d", sid, bi, ei)
		}
		past, err := r.client.GetCursor(r.project, r.logstore, sid, strconv.FormatInt(r.tStart.Unix()-86400, 10))
		if err != nil {
			return err
		}
		if past != b {
			return fmt.Errorf("shard %d: cursor for a time before all data %s, expected begin %s", sid, past, b)
		}
		future, err := r.client.GetCursor(r.project, r.logstore, sid, strconv.FormatInt(now.Unix()+86400, 10))
		if err != nil {
			return err
		}
		if future != e {
			return fmt.Errorf("shard %d: cursor for a time after all data %s, expected end %s", sid, future, e)
		}
		if bi < ei {
			ct, err := r.client.GetCursorTime(r.project, r.logstore, sid, b)
			if err != nil {
				return err
			}
			if ct.Unix() < r.tStart.Unix()-5 || ct.Unix() > time.Now().Unix()+5 {
				return fmt.Errorf("shard %d: cursor time %d of the first group is not when it was received (%d..now)",
					sid, ct.Unix(), r.tStart.Unix())
			}
		}
	}
	return nil
}

// cCursorByTime: a group received at or after T is found by GetCursor(T); earlier ones are not.
func (r *sdkCore) cCursorByTime() error {
	const sid = 0
	_, endBefore, err := r.cursors(sid)
	if err != nil {
		return err
	}
	// Wait for the next whole second, so every earlier group was received before tMark.
	tMark := time.Now().Unix() + 1
	time.Sleep(time.Until(time.Unix(tMark, 10e6)))
	key := fmt.Sprintf("%032x", 1) // inside shard 0
	w := &write{label: "time-mark", hashKey: key, send: sendPostLogStoreLogs, group: &sls.LogGroup{
		Topic: str("topic-time"), Source: str("10.0.0.9"), LogTags: tags("run", r.project),
		Logs: []*sls.Log{newLog(time.Unix(tMark, 0), 7, "seq", "time-mark-0"), newLog(time.Unix(tMark, 0), 0, "seq", "time-mark-1")},
	}}
	if err := r.put(w); err != nil {
		return err
	}
	if w.shard != sid {
		return fmt.Errorf("key %s expected in shard %d, computed %d", key, sid, w.shard)
	}
	tAfter := time.Now().Unix()
	c, err := r.client.GetCursor(r.project, r.logstore, sid, strconv.FormatInt(tMark, 10))
	if err != nil {
		return err
	}
	if c != endBefore {
		return fmt.Errorf("GetCursor(from=%d) = %s, expected the end cursor before the write %s", tMark, c, endBefore)
	}
	ct, err := r.client.GetCursorTime(r.project, r.logstore, sid, c)
	if err != nil {
		return err
	}
	if ct.Unix() < tMark || ct.Unix() > tAfter+1 {
		return fmt.Errorf("cursor time %d of the new group is outside [%d, %d]", ct.Unix(), tMark, tAfter+1)
	}
	gl, _, err := r.client.PullLogs(r.project, r.logstore, sid, c, "", 10)
	if err != nil {
		return err
	}
	if len(gl.LogGroups) != 1 || normGroup(gl.LogGroups[0]) != normGroup(w.group) {
		return fmt.Errorf("pull from the time cursor: %d groups, expected the one just written", len(gl.LogGroups))
	}
	_, endAfter, err := r.cursors(sid)
	if err != nil {
		return err
	}
	eb, _ := decodeCursor(endBefore)
	ea, _ := decodeCursor(endAfter)
	if ea != eb+1 {
		return fmt.Errorf("end cursor %d after one more group, expected %d", ea, eb+1)
	}
	return nil
}

func (r *sdkCore) cErrShardMissing() error {
	_, err := r.client.GetCursor(r.project, r.logstore, coreShardCount+96, "begin")
	return expectSlsError(err, "ShardNotExist", 404)
}

func (r *sdkCore) cErrGarbageCursor() error {
	for _, bad := range []string{"!!not*a*cursor!!", base64.StdEncoding.EncodeToString([]byte("not-a-number"))} {
		_, _, err := r.client.PullLogs(r.project, r.logstore, 0, bad, "", 10)
		if e := expectSlsError(err, "ParameterInvalid", 400); e != nil {
			return fmt.Errorf("cursor %q: %v", bad, e)
		}
	}
	return nil
}

func (r *sdkCore) cDeleteLogstore() error {
	for _, ls := range []string{r.logstore, r.shardStore} {
		if err := r.client.DeleteLogStore(r.project, ls); err != nil {
			return fmt.Errorf("delete %s: %v", ls, oneLine(err))
		}
		_, err := r.client.GetLogStore(r.project, ls)
		if e := expectSlsError(err, "LogStoreNotExist", 404); e != nil {
			return fmt.Errorf("GetLogStore after delete: %v", e)
		}
	}
	names, err := r.client.ListLogStore(r.project)
	if err != nil {
		return err
	}
	if len(names) != 0 {
		return fmt.Errorf("deleted logstores still listed: %q", names)
	}
	return nil
}

func (r *sdkCore) cDeleteProject() error {
	if err := r.client.DeleteProject(r.project); err != nil {
		return err
	}
	r.createdProject = false
	_, err := r.client.GetProject(r.project)
	if e := expectSlsError(err, "ProjectNotExist", 404); e != nil {
		return fmt.Errorf("GetProject after delete: %v", e)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func shardIDs(shards []*sls.Shard) []int {
	ids := make([]int, len(shards))
	for i, s := range shards {
		ids[i] = s.ShardID
	}
	return ids
}

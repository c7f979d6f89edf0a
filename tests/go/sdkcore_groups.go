package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// sdk-core checks of the consumer-group APIs (on the 4-shard logstore) and of split / merge
// (on a logstore of its own).

func (r *sdkCore) findGroup() (*sls.ConsumerGroup, error) {
	groups, err := r.client.ListConsumerGroup(r.project, r.logstore)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if g.ConsumerGroupName == r.group {
			return g, nil
		}
	}
	return nil, nil
}

func (r *sdkCore) cGroupCreate() error {
	cg := sls.ConsumerGroup{ConsumerGroupName: r.group, Timeout: 10, InOrder: false}
	if err := r.client.CreateConsumerGroup(r.project, r.logstore, cg); err != nil {
		return err
	}
	// Every consumer library creates the group on start and takes this error as success.
	err := r.client.CreateConsumerGroup(r.project, r.logstore, cg)
	if e := expectSlsError(err, "ConsumerGroupAlreadyExist", 400); e != nil {
		return fmt.Errorf("second create: %v", e)
	}
	return nil
}

func (r *sdkCore) cGroupListUpdate() error {
	g, err := r.findGroup()
	if err != nil {
		return err
	}
	if g == nil || g.Timeout != 10 || g.InOrder {
		return fmt.Errorf("ListConsumerGroup: %v, expected %s with timeout 10, order false", g, r.group)
	}
	err = r.client.UpdateConsumerGroup(r.project, r.logstore, sls.ConsumerGroup{ConsumerGroupName: r.group, Timeout: 20, InOrder: true})
	if err != nil {
		return err
	}
	if g, err = r.findGroup(); err != nil {
		return err
	}
	if g == nil || g.Timeout != 20 || !g.InOrder {
		return fmt.Errorf("after UpdateConsumerGroup: %v, expected timeout 20, order true", g)
	}
	return nil
}

// checkpoints: GetCheckpoint as a map shard -> entry; one entry per shard is required.
func (r *sdkCore) checkpoints() (map[int]*sls.ConsumerGroupCheckPoint, error) {
	list, err := r.client.GetCheckpoint(r.project, r.logstore, r.group)
	if err != nil {
		return nil, err
	}
	m := map[int]*sls.ConsumerGroupCheckPoint{}
	for _, c := range list {
		m[c.ShardID] = c
	}
	if len(list) != coreShardCount || len(m) != coreShardCount {
		return nil, fmt.Errorf("GetCheckpoint: %d entries for shards %v, expected one per shard 0..%d",
			len(list), checkpointShards(list), coreShardCount-1)
	}
	return m, nil
}

func checkpointShards(list []*sls.ConsumerGroupCheckPoint) []int {
	var ids []int
	for _, c := range list {
		ids = append(ids, c.ShardID)
	}
	return ids
}

// A shard never checkpointed is an entry with an empty checkpoint: the Java and Python
// consumers fail on a missing entry (the Go library tolerates it).
func (r *sdkCore) cGroupCheckpointsEmpty() error {
	m, err := r.checkpoints()
	if err != nil {
		return err
	}
	for sid, c := range m {
		if c.CheckPoint != "" {
			return fmt.Errorf("shard %d: checkpoint %q before any update, expected \"\"", sid, c.CheckPoint)
		}
	}
	return nil
}

func (r *sdkCore) cGroupHeartbeat() error {
	got, err := r.client.HeartBeat(r.project, r.logstore, r.group, "c1", nil)
	if err != nil {
		return err
	}
	sort.Ints(got)
	if fmt.Sprint(got) != "[0 1 2 3]" {
		return fmt.Errorf("first heartbeat of the only consumer got %v, expected [0 1 2 3]", got)
	}
	again, err := r.client.HeartBeat(r.project, r.logstore, r.group, "c1", got)
	if err != nil {
		return err
	}
	sort.Ints(again)
	if fmt.Sprint(again) != fmt.Sprint(got) {
		return fmt.Errorf("second heartbeat holding %v got %v", got, again)
	}
	return nil
}

func (r *sdkCore) cGroupUpdateCheckpoint() error {
	_, end0, err := r.cursors(0)
	if err != nil {
		return err
	}
	begin1, _, err := r.cursors(1)
	if err != nil {
		return err
	}
	// The owner, not forced (what consumer-java sends).
	if err := r.client.UpdateCheckpoint(r.project, r.logstore, r.group, "c1", 0, end0, false); err != nil {
		return fmt.Errorf("owner c1, forceSuccess=false: %v", oneLine(err))
	}
	// Another consumer, forced (what the Go consumer library always sends): stored anyway.
	if err := r.client.UpdateCheckpoint(r.project, r.logstore, r.group, "c-other", 1, begin1, true); err != nil {
		return fmt.Errorf("c-other, forceSuccess=true: %v", oneLine(err))
	}
	// An unknown consumer, not forced: refused. The Go consumer library reacts to
	// ConsumerNotExsit (sic) and ConsumerNotMatch; consumer-java to ConsumerNotExist.
	err = r.client.UpdateCheckpoint(r.project, r.logstore, r.group, "c-stranger", 2, begin1, false)
	var se *sls.Error
	if err == nil {
		return fmt.Errorf("unknown consumer c-stranger, forceSuccess=false: accepted, expected ConsumerNotMatch / ConsumerNotExsit")
	}
	if !errors.As(err, &se) || (se.Code != "ConsumerNotMatch" && !strings.EqualFold(se.Code, "ConsumerNotExsit") &&
		se.Code != "ConsumerNotExist") || se.RequestID == "" {
		return fmt.Errorf("unknown consumer, forceSuccess=false: %s", oneLine(err))
	}
	m, err := r.checkpoints()
	if err != nil {
		return err
	}
	for sid, want := range map[int][2]string{0: {end0, "c1"}, 1: {begin1, "c-other"}, 2: {"", ""}, 3: {"", ""}} {
		c := m[sid]
		if c.CheckPoint != want[0] {
			return fmt.Errorf("shard %d checkpoint %q, expected %q", sid, c.CheckPoint, want[0])
		}
		if want[0] != "" && (c.Consumer != want[1] || c.UpdateTime <= 0) {
			return fmt.Errorf("shard %d: consumer %q, updateTime %d, expected %s and a time", sid, c.Consumer, c.UpdateTime, want[1])
		}
	}
	return nil
}

func (r *sdkCore) cGroupDelete() error {
	if err := r.client.DeleteConsumerGroup(r.project, r.logstore, r.group); err != nil {
		return err
	}
	g, err := r.findGroup()
	if err != nil {
		return err
	}
	if g != nil {
		return fmt.Errorf("deleted group still listed: %v", g)
	}
	_, err = r.client.GetCheckpoint(r.project, r.logstore, r.group)
	if e := expectSlsError(err, "ConsumerGroupNotExist", 404); e != nil {
		return fmt.Errorf("GetCheckpoint of the deleted group: %v", e)
	}
	return nil
}

// ---- split / merge ----

// splitKeys: 32 keys over the whole key space, one log each before and after the reshaping.
func splitKeys() []string {
	var keys []string
	for b := 0; b < 256; b += 8 {
		keys = append(keys, fmt.Sprintf("%02x%s", b, strings.Repeat("0", 30)))
	}
	return keys
}

func (r *sdkCore) putKeyed(phase string) error {
	for i, k := range splitKeys() {
		key := k
		lg := &sls.LogGroup{Topic: str("t"), Source: str("src"),
			Logs: []*sls.Log{newLog(time.Now(), 0, "id", fmt.Sprintf("%s-%d", phase, i), "key", k)}}
		if err := r.client.PostLogStoreLogs(r.project, r.shardStore, lg, &key); err != nil {
			return fmt.Errorf("write %s-%d with key %s: %v", phase, i, k, oneLine(err))
		}
	}
	return nil
}

func (r *sdkCore) cShardStoreCreate() error {
	if err := r.client.CreateLogStore(r.project, r.shardStore, 1, 2, false, 64); err != nil {
		return err
	}
	return r.putKeyed("before")
}

// shardSummary renders shards as "id:status[begin,end)" in the answer's order.
func shardSummary(shards []*sls.Shard) string {
	var parts []string
	for _, s := range shards {
		parts = append(parts, fmt.Sprintf("%d:%s[%.2s,%.2s)", s.ShardID, s.Status, s.InclusiveBeginKey, s.ExclusiveBeginKey))
	}
	return strings.Join(parts, " ")
}

func expectShards(what string, got []*sls.Shard, want string) error {
	if s := shardSummary(got); s != want {
		return fmt.Errorf("%s answered %s, expected %s", what, s, want)
	}
	return nil
}

// The answer of a split: the parent now readonly, then the children in key order, new ids.
func (r *sdkCore) cSplitShard() error {
	got, err := r.client.SplitShard(r.project, r.shardStore, 0, "40000000000000000000000000000000")
	if err != nil {
		return err
	}
	return expectShards("SplitShard(0, key 40..)", got, "0:readonly[00,80) 2:readwrite[00,40) 3:readwrite[40,80)")
}

// SplitNumShard sends shardCount=N without a key (a Go/Java form).
func (r *sdkCore) cSplitNumShard() error {
	got, err := r.client.SplitNumShard(r.project, r.shardStore, 1, 2)
	if err != nil {
		return err
	}
	return expectShards("SplitNumShard(1, 2)", got, "1:readonly[80,ff) 4:readwrite[80,c0) 5:readwrite[c0,ff)")
}

// The answer of a merge: the new shard, then both parents now readonly.
func (r *sdkCore) cMergeShards() error {
	got, err := r.client.MergeShards(r.project, r.shardStore, 3)
	if err != nil {
		return err
	}
	return expectShards("MergeShards(3)", got, "6:readwrite[40,c0) 3:readonly[40,80) 4:readonly[80,c0)")
}

func (r *sdkCore) cShardsAfterSplitMerge() error {
	shards, err := r.client.ListShards(r.project, r.shardStore)
	if err != nil {
		return err
	}
	sort.Slice(shards, func(i, j int) bool { return shards[i].ShardID < shards[j].ShardID })
	return expectShards("ListShards", shards,
		"0:readonly[00,80) 1:readonly[80,ff) 2:readwrite[00,40) 3:readonly[40,80) 4:readonly[80,c0) 5:readwrite[c0,ff) 6:readwrite[40,c0)")
}

// cSplitMergeData: logs written before and after the reshaping are each read exactly once,
// from a shard whose range holds their key (readonly parents keep their data).
func (r *sdkCore) cSplitMergeData() error {
	if err := r.putKeyed("after"); err != nil {
		return err
	}
	shards, err := r.client.ListShards(r.project, r.shardStore)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, s := range shards {
		cursor, err := r.client.GetCursor(r.project, r.shardStore, s.ShardID, "begin")
		if err != nil {
			return err
		}
		end, err := r.client.GetCursor(r.project, r.shardStore, s.ShardID, "end")
		if err != nil {
			return err
		}
		for cursor != end {
			gl, next, err := r.client.PullLogs(r.project, r.shardStore, s.ShardID, cursor, "", 1000)
			if err != nil {
				return err
			}
			if next == cursor {
				return fmt.Errorf("shard %d: no progress at %s before the end %s", s.ShardID, cursor, end)
			}
			for _, g := range gl.LogGroups {
				for _, l := range g.Logs {
					id, key := content(l, "id"), content(l, "key")
					if prev, dup := seen[id]; dup {
						return fmt.Errorf("%s read twice (shards %d and %d)", id, prev, s.ShardID)
					}
					seen[id] = s.ShardID
					if key < s.InclusiveBeginKey || (key >= s.ExclusiveBeginKey && s.ExclusiveBeginKey != strings.Repeat("f", 32)) {
						return fmt.Errorf("%s (key %s) is in shard %d [%s, %s)", id, key, s.ShardID, s.InclusiveBeginKey, s.ExclusiveBeginKey)
					}
				}
			}
			cursor = next
		}
	}
	if want := 2 * len(splitKeys()); len(seen) != want {
		return fmt.Errorf("read %d distinct logs, wrote %d", len(seen), want)
	}
	return nil
}

// content: the value of key in a log ("" if absent).
func content(l *sls.Log, key string) string {
	for _, c := range l.GetContents() {
		if c.GetKey() == key {
			return c.GetValue()
		}
	}
	return ""
}

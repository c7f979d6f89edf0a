package main

import (
	"fmt"
	"math/big"
	"math/rand"
	"sort"
	"strings"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// write is one PutLogs call: one LogGroup on the wire, sent by one of the SDK's write methods.
type write struct {
	label   string
	how     string // method and compression, for the check name
	group   *sls.LogGroup
	hashKey string // "" : no hash key (POST /logstores/{ls}); else /shards/route?key=
	shard   int    // the shard whose range holds hashKey
	send    func(c sls.ClientInterface, project, logstore string, w *write) error
}

// The SDK's write methods and how each picks its compression (LogStore.putLogCompressType,
// Compress_LZ4 = 0 unless a method sets it): PutLogs and PostLogStoreLogs always lz4;
// PutLogsWithCompressType, PostLogStoreLogsV2 (req.CompressType) and
// PostRawLogWithCompressType take Compress_LZ4, Compress_None or Compress_ZSTD (klauspost zstd).
func sendPutLogs(c sls.ClientInterface, p, l string, w *write) error {
	return c.PutLogs(p, l, w.group)
}

func sendWithCompress(ct int) func(sls.ClientInterface, string, string, *write) error {
	return func(c sls.ClientInterface, p, l string, w *write) error {
		return c.PutLogsWithCompressType(p, l, w.group, ct)
	}
}

func sendPostLogStoreLogs(c sls.ClientInterface, p, l string, w *write) error {
	key := w.hashKey
	return c.PostLogStoreLogs(p, l, w.group, &key)
}

func sendPostV2(ct int) func(sls.ClientInterface, string, string, *write) error {
	return func(c sls.ClientInterface, p, l string, w *write) error {
		key := w.hashKey
		return c.PostLogStoreLogsV2(p, l, &sls.PostLogStoreLogsRequest{LogGroup: w.group, HashKey: &key, CompressType: ct})
	}
}

func sendRaw(ct int) func(sls.ClientInterface, string, string, *write) error {
	return func(c sls.ClientInterface, p, l string, w *write) error {
		body, err := w.group.Marshal()
		if err != nil {
			return err
		}
		key := w.hashKey
		return c.PostRawLogWithCompressType(p, l, body, ct, &key)
	}
}

func str(s string) *string { return &s }

// newLog makes a log with contents given as key, value, key, value...; timeNs 0 leaves the
// optional TimeNs field out.
func newLog(t time.Time, timeNs uint32, kv ...string) *sls.Log {
	secs := uint32(t.Unix())
	l := &sls.Log{Time: &secs}
	if timeNs != 0 {
		l.TimeNs = &timeNs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		l.Contents = append(l.Contents, &sls.LogContent{Key: str(kv[i]), Value: str(kv[i+1])})
	}
	return l
}

// makeLogs: n logs with distinct contents; "seq" = "<label>-<i>" names each; extra[i] adds
// contents to log i.
func makeLogs(rng *rand.Rand, label string, n int, base time.Time, extra [][]string) []*sls.Log {
	levels := []string{"INFO", "WARN", "ERROR"}
	logs := make([]*sls.Log, 0, n)
	for i := 0; i < n; i++ {
		kv := []string{
			"seq", fmt.Sprintf("%s-%d", label, i),
			"level", levels[i%3],
			"message", fmt.Sprintf("message %d of %s: %s", i, label, randomLetters(rng, 12)),
			"latency_ms", fmt.Sprint(rng.Intn(100000)),
		}
		if i < len(extra) {
			kv = append(kv, extra[i]...)
		}
		var ns uint32
		if i%4 != 3 { // every fourth log has no TimeNs: the optional field stays absent
			ns = uint32(1 + rng.Intn(999999999))
		}
		logs = append(logs, newLog(base.Add(time.Duration(i)*time.Second), ns, kv...))
	}
	return logs
}

func randomLetters(rng *rand.Rand, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rng.Intn(len(letters))]
	}
	return string(b)
}

func tags(kv ...string) []*sls.LogTag {
	var out []*sls.LogTag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &sls.LogTag{Key: str(kv[i]), Value: str(kv[i+1])})
	}
	return out
}

// planWrites: load-balanced writes with each compression, and one hash-key write per shard,
// on the range boundaries and inside, through each hash-key method.
func (r *sdkCore) planWrites() {
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	base := time.Now().Add(-120 * time.Second)
	var bigA strings.Builder // ~70 KB of repeated text: real lz4 / zstd matches
	for i := 0; i < 1200; i++ {
		fmt.Fprintf(&bigA, "line %06d: the quick brown fox jumps over the lazy dog\n", i)
	}
	noise := make([]byte, 20000) // incompressible
	for i := range noise {
		noise[i] = "0123456789abcdef"[rng.Intn(16)]
	}
	utf8 := "héllo wörld, 日志服务, Ελληνικά, emoji \U0001F680"
	run := []string{"run", r.project}

	r.writes = []*write{
		{label: "lb-lz4", how: "PutLogs, lz4", send: sendPutLogs, group: &sls.LogGroup{
			Topic: str("topic-lz4"), Source: str("10.0.0.1"), LogTags: tags(append(run, "tag-a", "alpha")...),
			Logs: makeLogs(rng, "lb-lz4", 3, base, [][]string{{"utf8", utf8}, {"big", bigA.String()}, {"empty", ""}}),
		}},
		{label: "lb-zstd", how: "PutLogsWithCompressType, zstd", send: sendWithCompress(sls.Compress_ZSTD), group: &sls.LogGroup{
			Topic: str("topic-zstd"), Source: str("10.0.0.2"), LogTags: tags(append(run, "tag-b", "βeta")...),
			Logs: makeLogs(rng, "lb-zstd", 25, base.Add(10*time.Second),
				[][]string{{"big", bigA.String(), "noise", string(noise)}, {"utf8", utf8}}),
		}},
		{label: "lb-none", how: "PutLogsWithCompressType, none", send: sendWithCompress(sls.Compress_None), group: &sls.LogGroup{
			Source: str("10.0.0.3"),
			Logs:   makeLogs(rng, "lb-none", 2, base.Add(40*time.Second), [][]string{{"utf8", utf8}}),
		}},
		// A body lz4 cannot shrink: the SDK then sends it as one literal-only lz4 block.
		{label: "lb-tiny", how: "PutLogs, lz4 literal-only block", send: sendPutLogs, group: &sls.LogGroup{
			Logs: []*sls.Log{newLog(base.Add(45*time.Second), 0, "seq", "lb-tiny-0")},
		}},
	}
	keys := []string{
		strings.Repeat("0", 32),       // lowest key -> shard 0
		"7" + strings.Repeat("f", 31), // just below 80.. -> shard 1
		"8" + strings.Repeat("0", 31), // inclusive begin of shard 2
		insideShard3(rng),             // somewhere inside shard 3
	}
	methods := []struct {
		how  string
		send func(sls.ClientInterface, string, string, *write) error
	}{
		{"PostLogStoreLogs, lz4", sendPostLogStoreLogs},
		{"PostLogStoreLogsV2, zstd", sendPostV2(sls.Compress_ZSTD)},
		{"PostLogStoreLogsV2, none", sendPostV2(sls.Compress_None)},
		{"PostRawLogWithCompressType, lz4", sendRaw(sls.Compress_LZ4)},
	}
	for i, key := range keys {
		label := fmt.Sprintf("hash-%d", i)
		r.writes = append(r.writes, &write{
			label: label, how: methods[i].how + ", key " + key, send: methods[i].send, hashKey: key,
			group: &sls.LogGroup{
				Topic: str("topic-hash"), Source: str(fmt.Sprintf("192.168.%d.%d", i, i+1)),
				LogTags: tags(append(run, "hashkey", key)...),
				Logs:    makeLogs(rng, label, 2+i, base.Add(time.Duration(50+5*i)*time.Second), [][]string{{"utf8", utf8}}),
			},
		})
	}
}

// insideShard3: 3/4 of the key space plus a random 63-bit offset, as 32 hex digits.
func insideShard3(rng *rand.Rand) string {
	k := new(big.Int).Mul(new(big.Int).Rsh(keySpace(), 2), big.NewInt(3))
	k.Add(k, big.NewInt(1+rng.Int63()))
	return fmt.Sprintf("%032x", k)
}

// keySpace is 2^128, the MD5 key space of shard ranges.
func keySpace() *big.Int { return new(big.Int).Lsh(big.NewInt(1), 128) }

// expectedRanges: the key space split evenly into n shards, as 32-hex begin / end keys; the
// last end key is written ff..ff, not 2^128.
func expectedRanges(n int) [][2]string {
	out := make([][2]string, n)
	for i := 0; i < n; i++ {
		b := new(big.Int).Div(new(big.Int).Mul(keySpace(), big.NewInt(int64(i))), big.NewInt(int64(n)))
		e := new(big.Int).Div(new(big.Int).Mul(keySpace(), big.NewInt(int64(i+1))), big.NewInt(int64(n)))
		out[i][0] = fmt.Sprintf("%032x", b)
		if i == n-1 {
			out[i][1] = strings.Repeat("f", 32)
		} else {
			out[i][1] = fmt.Sprintf("%032x", e)
		}
	}
	return out
}

// shardForKey: id of the shard in shards whose [begin, end) holds key (readwrite ones only).
func shardForKey(shards []*sls.Shard, key string) int {
	for _, s := range shards {
		if s.Status != "readwrite" {
			continue
		}
		end := s.ExclusiveBeginKey // the SDK's name for exclusiveEndKey
		if key >= s.InclusiveBeginKey && (key < end || end == strings.Repeat("f", 32)) {
			return s.ShardID
		}
	}
	return -1
}

func (r *sdkCore) put(w *write) error {
	w.shard = -1
	if w.hashKey != "" {
		shards := r.shards
		if shards == nil { // list_shards failed: fall back to the expected layout
			for i, rg := range expectedRanges(coreShardCount) {
				shards = append(shards, &sls.Shard{ShardID: i, Status: "readwrite", InclusiveBeginKey: rg[0], ExclusiveBeginKey: rg[1]})
			}
		}
		w.shard = shardForKey(shards, w.hashKey)
	}
	if err := w.send(r.client, r.project, r.logstore, w); err != nil {
		return err
	}
	r.done = append(r.done, w)
	return nil
}

// normGroup renders a LogGroup's compared fields (topic, source, tags, and every log's time,
// time_ns and contents, in order) as one comparable string.
func normGroup(g *sls.LogGroup) string {
	var b strings.Builder
	fmt.Fprintf(&b, "topic=%q source=%q tags=[", g.GetTopic(), g.GetSource())
	for _, t := range g.GetLogTags() {
		fmt.Fprintf(&b, "%q:%q ", t.GetKey(), t.GetValue())
	}
	b.WriteString("] logs=[")
	for _, l := range g.GetLogs() {
		fmt.Fprintf(&b, "{time=%d time_ns=%d", l.GetTime(), l.GetTimeNs())
		for _, c := range l.GetContents() {
			fmt.Fprintf(&b, " %q:%q", c.GetKey(), c.GetValue())
		}
		b.WriteString("}")
	}
	b.WriteString("]")
	return b.String()
}

// groupLabel: the write a group came from, by the "seq" of its first log.
func groupLabel(g *sls.LogGroup) string {
	for _, l := range g.GetLogs() {
		for _, c := range l.GetContents() {
			if c.GetKey() == "seq" {
				s := c.GetValue()
				return s[:strings.LastIndex(s, "-")]
			}
		}
		break
	}
	return "?"
}

// describeDiff names the first field where two groups differ.
func describeDiff(want, got *sls.LogGroup) string {
	switch {
	case want.GetTopic() != got.GetTopic():
		return fmt.Sprintf("topic %q, expected %q", got.GetTopic(), want.GetTopic())
	case want.GetSource() != got.GetSource():
		return fmt.Sprintf("source %q, expected %q", got.GetSource(), want.GetSource())
	case len(want.GetLogTags()) != len(got.GetLogTags()):
		return fmt.Sprintf("%d tags, expected %d", len(got.GetLogTags()), len(want.GetLogTags()))
	case len(want.GetLogs()) != len(got.GetLogs()):
		return fmt.Sprintf("%d logs, expected %d", len(got.GetLogs()), len(want.GetLogs()))
	}
	for i, t := range want.GetLogTags() {
		if g := got.GetLogTags()[i]; g.GetKey() != t.GetKey() || g.GetValue() != t.GetValue() {
			return fmt.Sprintf("tag %d %q=%q, expected %q=%q", i, g.GetKey(), g.GetValue(), t.GetKey(), t.GetValue())
		}
	}
	for i, l := range want.GetLogs() {
		g := got.GetLogs()[i]
		switch {
		case g.GetTime() != l.GetTime():
			return fmt.Sprintf("log %d time %d, expected %d", i, g.GetTime(), l.GetTime())
		case g.GetTimeNs() != l.GetTimeNs():
			return fmt.Sprintf("log %d time_ns %d, expected %d", i, g.GetTimeNs(), l.GetTimeNs())
		case len(g.GetContents()) != len(l.GetContents()):
			return fmt.Sprintf("log %d has %d contents, expected %d", i, len(g.GetContents()), len(l.GetContents()))
		}
		for j, c := range l.GetContents() {
			if gc := g.GetContents()[j]; gc.GetKey() != c.GetKey() || gc.GetValue() != c.GetValue() {
				return fmt.Sprintf("log %d content %d %q=%q, expected %q=%q", i, j,
					gc.GetKey(), truncate(gc.GetValue(), 60), c.GetKey(), truncate(c.GetValue(), 60))
			}
		}
	}
	return "differs"
}

// pulled: the groups read back from each shard, in order, or the error that stopped a pull.
type pulled struct {
	perShard map[int][]*sls.LogGroup
	err      error
}

// comparePulled: every successful write comes back exactly once, field for field; a hash-key
// write in the shard whose range holds its key; groups of one shard in write order.
func (r *sdkCore) comparePulled(p pulled) error {
	if p.err != nil {
		return p.err
	}
	want := map[string][]*write{}
	for _, w := range r.done {
		k := normGroup(w.group)
		want[k] = append(want[k], w)
	}
	var problems []string
	var extra []*sls.LogGroup
	where := map[*write]int{}
	order := map[int][]int{} // shard -> indexes in r.done of the groups read, in read order
	index := map[*write]int{}
	for i, w := range r.done {
		index[w] = i
	}
	for _, sid := range sortedKeys(p.perShard) {
		for _, g := range p.perShard[sid] {
			k := normGroup(g)
			if ws := want[k]; len(ws) > 0 {
				w := ws[0]
				want[k] = ws[1:]
				where[w] = sid
				order[sid] = append(order[sid], index[w])
				continue
			}
			extra = append(extra, g)
		}
	}
	for _, w := range r.done {
		if _, ok := where[w]; ok {
			continue
		}
		found := false
		for i, g := range extra {
			if groupLabel(g) == w.label {
				problems = append(problems, fmt.Sprintf("write %s came back changed: %s", w.label, describeDiff(w.group, g)))
				extra = append(extra[:i], extra[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("write %s missing", w.label))
		}
	}
	for _, g := range extra {
		problems = append(problems, fmt.Sprintf("unexpected group from %s (%d logs)", groupLabel(g), len(g.GetLogs())))
	}
	for _, w := range r.done {
		if sid, ok := where[w]; ok && w.hashKey != "" && sid != w.shard {
			problems = append(problems, fmt.Sprintf("write %s with hash key %s is in shard %d, expected shard %d",
				w.label, w.hashKey, sid, w.shard))
		}
	}
	for sid, idx := range order {
		if !sort.IntsAreSorted(idx) {
			problems = append(problems, fmt.Sprintf("shard %d: groups not in write order", sid))
		}
	}
	if len(problems) > 0 {
		if len(problems) > 8 {
			problems = problems[:8]
		}
		return fmt.Errorf("%d writes; %s", len(r.done), strings.Join(problems, " | "))
	}
	return nil
}

func sortedKeys(m map[int][]*sls.LogGroup) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

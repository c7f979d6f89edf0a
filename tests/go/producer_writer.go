package main

import (
	"flag"
	"fmt"
	"math/big"
	"os"
	"sync/atomic"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/aliyun/aliyun-log-go-sdk/producer"
)

// producer-writer: the SDK's producer package sends --count logs, one send per log, each with
// its own callback; every callback appends one JSON line to --out (README.md has the format).

type producerArgs struct {
	conn               connFlags
	project            string
	logstore           string
	count              int
	prefix             string
	out                string
	shards             int
	paceMs             int
	maxBatchCount      int
	lingerMs           int64
	retries            int
	baseRetryBackoffMs int64
	maxRetryBackoffMs  int64
	sign               string
	region             string
	requestTimeout     time.Duration
	closeTimeout       time.Duration
	drainMs            int
}

func runProducerWriter(argv []string) int {
	var a producerArgs
	fs := flag.NewFlagSet("producer-writer", flag.ContinueOnError)
	a.conn.register(fs)
	fs.StringVar(&a.project, "project", "", "project (required)")
	fs.StringVar(&a.logstore, "logstore", "", "logstore (required)")
	fs.IntVar(&a.count, "count", 0, "logs to send; log i has content id=<prefix>-<i> (required)")
	fs.StringVar(&a.prefix, "prefix", "", "id prefix (required)")
	fs.StringVar(&a.out, "out", "", "file the callback lines are appended to (required)")
	fs.IntVar(&a.shards, "shards", 4, "send log i with the hash key of bucket i mod S of S equal key ranges; 0: no hash key")
	fs.IntVar(&a.paceMs, "pace-ms", 0, "sleep this long after every 10 sends")
	fs.IntVar(&a.maxBatchCount, "max-batch-count", 0, "MaxBatchCount: logs per batch (0: library default 4096; at most 40960)")
	fs.Int64Var(&a.lingerMs, "linger-ms", 0, "LingerMs: how long a batch waits for more logs (0: library default 2000; the library resets values below 100 to 2000)")
	fs.IntVar(&a.retries, "retries", -1, "Retries: producer-level retries of a failed batch (-1: library default 10)")
	fs.Int64Var(&a.baseRetryBackoffMs, "base-retry-backoff-ms", 0, "BaseRetryBackoffMs (0: library default 100)")
	fs.Int64Var(&a.maxRetryBackoffMs, "max-retry-backoff-ms", 0, "MaxRetryBackoffMs (0: library default 50000)")
	fs.StringVar(&a.sign, "sign", "v1", "signature version: v1 or v4")
	fs.StringVar(&a.region, "region", defaultRegion, "region signed for with --sign v4")
	fs.DurationVar(&a.requestTimeout, "request-timeout", 60*time.Second, "time per HTTP attempt (the SDK's default)")
	fs.IntVar(&a.drainMs, "drain-ms", 0, "before SafeClose, wait up to this long for every callback (0: close at once, as an application's shutdown does; while closing, the producer retries nothing more)")
	fs.DurationVar(&a.closeTimeout, "close-timeout", 10*time.Minute, "how long SafeClose may take to fire every callback")
	if !parseFlags(fs, argv, "endpoint", "access-key-id", "access-key-secret", "project", "logstore", "prefix", "out") {
		return exitUsage
	}
	if a.count <= 0 || a.shards < 0 || (a.sign != "v1" && a.sign != "v4") {
		fmt.Fprintln(os.Stderr, "producer-writer: --count must be > 0, --shards >= 0, --sign v1 or v4")
		return exitUsage
	}
	watchParent()
	logger := &libLogger{}
	sls.Logger = logger // the SDK's package logger writes to stdout by default

	out, err := openJSONLines(a.out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "producer-writer: %v\n", err)
		return exitFailed
	}
	defer out.close()

	cfg := producer.GetDefaultProducerConfig()
	cfg.Endpoint = a.conn.endpoint
	cfg.AccessKeyID = a.conn.keyID
	cfg.AccessKeySecret = a.conn.keySecret
	cfg.HTTPClient = httpClient(a.requestTimeout)
	cfg.Logger = logger
	// Off: with it on (the default) the producer replaces the hash key by a bucket of its MD5
	// (AdjustHash), and logs would not land in the shard whose range holds the key we chose.
	cfg.AdjustShargHash = false
	if a.maxBatchCount > 0 {
		cfg.MaxBatchCount = a.maxBatchCount
	}
	if a.lingerMs > 0 {
		cfg.LingerMs = a.lingerMs
	}
	if a.retries >= 0 {
		cfg.Retries = a.retries
	}
	if a.baseRetryBackoffMs > 0 {
		cfg.BaseRetryBackoffMs = a.baseRetryBackoffMs
	}
	if a.maxRetryBackoffMs > 0 {
		cfg.MaxRetryBackoffMs = a.maxRetryBackoffMs
	}
	if a.sign == "v4" {
		cfg.AuthVersion = sls.AuthV4
		cfg.Region = a.region
	}
	p, err := producer.NewProducer(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "producer-writer: NewProducer: %v\n", err)
		return exitFailed
	}
	p.Start()

	var st writerStats
	start := time.Now()
	for i := 0; i < a.count; i++ {
		id := fmt.Sprintf("%s-%d", a.prefix, i)
		cb := &writeCallback{out: out, stats: &st, id: id, invoke: unixNow()}
		now := time.Now()
		secs, ns := uint32(now.Unix()), uint32(now.Nanosecond())
		log := &sls.Log{Time: &secs, TimeNs: &ns, Contents: []*sls.LogContent{{Key: str("id"), Value: str(id)}}}
		// A full producer (TotalSizeLnBytes) blocks the send up to MaxBlockSec (60 s),
		// then fails it with TimeoutExecption; the callback is then never called.
		var err error
		if a.shards > 0 {
			err = p.HashSendLogWithCallBack(a.project, a.logstore, bucketKey(i%a.shards, a.shards), "chaos", "sls-go-producer", log, cb)
		} else {
			err = p.SendLogWithCallBack(a.project, a.logstore, "chaos", "sls-go-producer", log, cb)
		}
		if err != nil {
			cb.record("fail", "send: "+err.Error(), nil)
		}
		if a.paceMs > 0 && (i+1)%10 == 0 {
			time.Sleep(time.Duration(a.paceMs) * time.Millisecond)
		}
	}

	for drain := time.Now(); st.lines.Load() < int64(a.count) && time.Since(drain) < time.Duration(a.drainMs)*time.Millisecond; {
		time.Sleep(50 * time.Millisecond)
	}
	// SafeClose waits for every batch to be sent and every callback to fire (Close(ms) only
	// waits for the task queue to drain, not for the requests in flight). While closing, the
	// producer retries nothing more: a batch failing then fails at once.
	closed := make(chan struct{})
	go func() {
		p.SafeClose()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(a.closeTimeout):
		fmt.Fprintf(os.Stderr, "producer-writer: SafeClose did not return within %s (%d of %d callbacks)\n",
			a.closeTimeout, st.lines.Load(), a.count)
		return exitFailed
	}
	fmt.Fprintf(os.Stderr, "sls-go producer-writer: %d logs in %.1fs: %d ok, %d fail, %d retried (%d attempts in all)\n",
		a.count, time.Since(start).Seconds(), st.ok.Load(), st.fail.Load(), st.retried.Load(), st.attempts.Load())
	if n := st.lines.Load(); n != int64(a.count) {
		fmt.Fprintf(os.Stderr, "producer-writer: %d lines written for %d logs\n", n, a.count)
		return exitFailed
	}
	return exitOK
}

// bucketKey: the lower end of bucket b of n equal ranges of the 128-bit key space, 32 hex digits.
func bucketKey(b, n int) string {
	k := new(big.Int).Mul(keySpace(), big.NewInt(int64(b)))
	return fmt.Sprintf("%032x", k.Div(k, big.NewInt(int64(n))))
}

type writerStats struct {
	lines, ok, fail, retried, attempts atomic.Int64
}

// writeCallback is the producer.CallBack of one log.
type writeCallback struct {
	out    *jsonLines
	stats  *writerStats
	id     string
	invoke float64
}

func (c *writeCallback) Success(r *producer.Result) { c.fromResult("ok", r) }
func (c *writeCallback) Fail(r *producer.Result)    { c.fromResult("fail", r) }

// fromResult records the result with its reserved attempts (at most MaxReservedAttempts, 11).
func (c *writeCallback) fromResult(outcome string, r *producer.Result) {
	attempts := []map[string]interface{}{}
	for _, a := range r.GetReservedAttempts() {
		attempts = append(attempts, map[string]interface{}{
			"code": a.ErrorCode, "message": a.ErrorMessage, "requestId": a.RequestId,
			"ts": float64(a.TimeStampMs) / 1000,
		})
	}
	msg := ""
	if code, text := r.GetErrorCode(), r.GetErrorMessage(); code != "" || text != "" {
		msg = code + ": " + text
	}
	c.record(outcome, msg, attempts)
}

func (c *writeCallback) record(outcome, msg string, attempts []map[string]interface{}) {
	if attempts == nil {
		attempts = []map[string]interface{}{}
	}
	c.stats.attempts.Add(int64(len(attempts)))
	if len(attempts) > 1 {
		c.stats.retried.Add(1)
	}
	if outcome == "ok" {
		c.stats.ok.Add(1)
	} else {
		c.stats.fail.Add(1)
	}
	err := c.out.write(
		field{"ids", []string{c.id}},
		field{"invoke", c.invoke},
		field{"complete", unixNow()},
		field{"outcome", outcome},
		field{"error", truncate(msg, 500)},
		field{"attempts", attempts},
	)
	if err != nil {
		fmt.Fprintf(os.Stderr, "producer-writer: cannot write a line: %v\n", err)
		return
	}
	c.stats.lines.Add(1)
}

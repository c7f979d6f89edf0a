package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	consumerLibrary "github.com/aliyun/aliyun-log-go-sdk/consumer"
)

// consumer-worker: one worker of the SDK's consumer library (package consumer, Go name
// consumerLibrary) per process, recording what it is handed as JSON events in --out, in the
// format of tests/python/consumer_worker.py (README.md lists the events).

type workerArgs struct {
	conn            connFlags
	project         string
	logstore        string
	group           string
	consumer        string
	out             string
	inOrder         bool
	heartbeatSecs   int
	timeoutSecs     int
	fetchIntervalMs int64
	maxFetch        int
	processDelay    time.Duration
	failBatch       int64
	position        string
	compress        string
	sign            string
	region          string
	requestTimeout  time.Duration
	stopTimeout     time.Duration
}

func runConsumerWorker(argv []string) int {
	var a workerArgs
	var processDelayMs int
	fs := flag.NewFlagSet("consumer-worker", flag.ContinueOnError)
	a.conn.register(fs)
	fs.StringVar(&a.project, "project", "", "project (required)")
	fs.StringVar(&a.logstore, "logstore", "", "logstore (required)")
	fs.StringVar(&a.group, "group", "", "consumer group (required)")
	fs.StringVar(&a.consumer, "consumer", "", "consumer name (required)")
	fs.StringVar(&a.out, "out", "", "file the JSON events are appended to (required)")
	fs.BoolVar(&a.inOrder, "in-order", false, "the group's order flag: a child shard after its parents")
	fs.IntVar(&a.heartbeatSecs, "heartbeat-interval-secs", 1, "HeartbeatIntervalInSecond (library default 20)")
	fs.IntVar(&a.timeoutSecs, "timeout-secs", 3, "HeartbeatTimeoutInSecond, the group timeout (library default 3 x interval)")
	fs.Int64Var(&a.fetchIntervalMs, "fetch-interval-ms", 200, "DataFetchIntervalInMs (library default 200)")
	fs.IntVar(&a.maxFetch, "max-fetch", 1000, "MaxFetchLogGroupCount: log groups per PullLogs (library default and maximum 1000)")
	fs.IntVar(&processDelayMs, "process-delay-ms", 0, "process() sleeps this long per batch (to build a backlog)")
	fs.Int64Var(&a.failBatch, "fail-batch", 0, "process() returns an error once, on the Nth non-empty batch this process is handed (0: never)")
	fs.StringVar(&a.position, "position", "begin", "CursorPosition for a shard with no checkpoint: begin or end")
	fs.StringVar(&a.compress, "compress", "lz4", "CompressType of PullLogs answers: lz4 or zstd")
	fs.StringVar(&a.sign, "sign", "v1", "signature version: v1 or v4")
	fs.StringVar(&a.region, "region", defaultRegion, "region signed for with --sign v4")
	fs.DurationVar(&a.requestTimeout, "request-timeout", 60*time.Second, "time per HTTP attempt (the SDK's default)")
	fs.DurationVar(&a.stopTimeout, "stop-timeout", 60*time.Second, "how long StopAndWait may take after SIGTERM")
	if !parseFlags(fs, argv, "endpoint", "access-key-id", "access-key-secret", "project", "logstore", "group", "consumer", "out") {
		return exitUsage
	}
	a.processDelay = time.Duration(processDelayMs) * time.Millisecond
	positions := map[string]string{"begin": consumerLibrary.BEGIN_CURSOR, "end": consumerLibrary.END_CURSOR}
	compressTypes := map[string]int{"lz4": sls.Compress_LZ4, "zstd": sls.Compress_ZSTD}
	if _, ok := positions[a.position]; !ok {
		fmt.Fprintf(os.Stderr, "consumer-worker: --position must be begin or end, not %q\n", a.position)
		return exitUsage
	}
	if _, ok := compressTypes[a.compress]; !ok || (a.sign != "v1" && a.sign != "v4") {
		fmt.Fprintln(os.Stderr, "consumer-worker: --compress must be lz4 or zstd, --sign v1 or v4")
		return exitUsage
	}
	watchParent()

	events, err := openJSONLines(a.out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "consumer-worker: %v\n", err)
		return exitFailed
	}
	emit := func(ev string, fields ...field) {
		all := append([]field{{"ev", ev}}, fields...)
		if err := events.write(append(all, field{"t", unixNow()})...); err != nil {
			fmt.Fprintf(os.Stderr, "consumer-worker: cannot write an event: %v\n", err)
		}
	}
	logger := &libLogger{onWarn: func(msg string) { emit("warn", field{"msg", msg}) }}
	sls.Logger = logger // the SDK's package logger too (it writes to stdout by default)

	cfg := consumerLibrary.LogHubConfig{
		Endpoint:                  a.conn.endpoint,
		AccessKeyID:               a.conn.keyID,
		AccessKeySecret:           a.conn.keySecret,
		Project:                   a.project,
		Logstore:                  a.logstore,
		ConsumerGroupName:         a.group,
		ConsumerName:              a.consumer,
		CursorPosition:            positions[a.position],
		HeartbeatIntervalInSecond: a.heartbeatSecs,
		HeartbeatTimeoutInSecond:  a.timeoutSecs,
		DataFetchIntervalInMs:     a.fetchIntervalMs,
		MaxFetchLogGroupCount:     a.maxFetch,
		InOrder:                   a.inOrder,
		CompressType:              compressTypes[a.compress],
		// The processor commits after every batch itself; the library's timed commit
		// (AutoCommitIntervalInMS, default 60 s) would only add commits nobody recorded.
		AutoCommitDisabled: true,
		Logger:             logger,
		HTTPClient:         httpClient(a.requestTimeout),
	}
	if a.sign == "v4" {
		cfg.AuthVersion = sls.AuthV4
		cfg.Region = a.region
	}

	rec := &recorder{emit: emit, delay: a.processDelay, failBatch: a.failBatch,
		trackers: map[consumerLibrary.CheckPointTracker]bool{}}
	var worker *consumerLibrary.ConsumerWorker
	if err := catchPanic(func() {
		// The Processor form of InitConsumerWorkerWithCheckpointTracker (which wraps a bare
		// function in ProcessFunc, whose Shutdown does nothing): it adds the shutdown hook.
		// It lists the consumer group and creates or updates it; a failure there is only
		// logged (so becomes a "warn" event), the library then runs on.
		worker = consumerLibrary.InitConsumerWorkerWithProcessor(cfg, rec)
		worker.Start()
	}); err != nil {
		emit("error", field{"msg", "could not start the consumer worker: " + err.Error()})
		return exitFailed
	}
	emit("start")

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	stopped := make(chan struct{})
	go func() {
		worker.StopAndWait()
		close(stopped)
	}()
	select {
	case <-stopped:
		emit("exit")
		return exitOK
	case <-time.After(a.stopTimeout):
		emit("error", field{"msg", fmt.Sprintf("StopAndWait did not return within %s", a.stopTimeout)})
		return exitFailed
	}
}

// recorder is the consumer library's Processor: it records every batch, then commits.
type recorder struct {
	emit      func(ev string, fields ...field)
	delay     time.Duration
	failBatch int64
	handed    atomic.Int64 // non-empty batches handed to this process, over all shards

	mu sync.Mutex
	// The library makes a new tracker each time it starts consuming a shard (one per
	// ShardConsumerWorker): a tracker not seen yet is the library taking the shard, which
	// Python's processor sees as initialize(). Shutdown forgets it.
	trackers map[consumerLibrary.CheckPointTracker]bool
}

// Process is called by the library for every PullLogs answer of a shard, empty ones
// included (at the end of a shard, every 500 ms or so). It returns "" (the library then
// goes on from the batch's next cursor; a non-empty string would be a rollback cursor).
func (r *recorder) Process(shard int, gl *sls.LogGroupList, t consumerLibrary.CheckPointTracker) (string, error) {
	r.noteInit(shard, t)
	next := t.GetNextCursor() // what SaveCheckPoint commits
	if len(gl.LogGroups) == 0 {
		// Nothing to record, but the first empty answer of a shard with no checkpoint (or
		// an empty readonly shard) is where the checkpoint reaches the shard's end: record
		// a batch only when the commit will move the checkpoint.
		if next == "" || next == t.GetCheckPoint() {
			return "", nil
		}
		r.emit("batch", field{"shard", shard}, field{"ids", []interface{}{}}, field{"cursor", next})
		return "", t.SaveCheckPoint(true)
	}
	ids := idsOf(gl)
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	if nth := r.handed.Add(1); nth == r.failBatch {
		// The library logs the error and calls Process again with the same batch
		// (ShardConsumerWorker.callProcess retries until it succeeds, 50 ms apart).
		r.emit("raise", field{"shard", shard}, field{"ids", ids}, field{"cursor", next})
		return "", fmt.Errorf("chaos: process() fails on batch %d", nth)
	}
	// Recorded (one write, in the kernel) before the checkpoint is committed.
	r.emit("batch", field{"shard", shard}, field{"ids", ids}, field{"cursor", next})
	// force: UpdateCheckpoint now (the library always sends forceSuccess=true, retries
	// 3 times, and logs a warning or error on failure, which becomes a "warn" event).
	// Its error is not returned: that would make the library hand the batch over again.
	_ = t.SaveCheckPoint(true)
	return "", nil
}

// Shutdown is called when the library stops consuming a shard (released, or StopAndWait);
// the library then flushes a pending checkpoint, which is never newer than the last one
// committed here. The cursor recorded is the last checkpoint committed.
func (r *recorder) Shutdown(t consumerLibrary.CheckPointTracker) error {
	r.mu.Lock()
	delete(r.trackers, t)
	r.mu.Unlock()
	r.emit("shutdown", field{"shard", t.GetShardId()}, field{"cursor", t.GetCheckPoint()})
	return nil
}

func (r *recorder) noteInit(shard int, t consumerLibrary.CheckPointTracker) {
	r.mu.Lock()
	seen := r.trackers[t]
	r.trackers[t] = true
	r.mu.Unlock()
	if !seen {
		r.emit("init", field{"shard", shard})
	}
}

// idsOf: the "id" content of every log, in order; nil (JSON null) for a log without one.
func idsOf(gl *sls.LogGroupList) []interface{} {
	ids := []interface{}{}
	for _, g := range gl.LogGroups {
		for _, l := range g.Logs {
			var id interface{}
			for _, c := range l.Contents {
				if c.GetKey() == "id" {
					id = c.GetValue()
					break
				}
			}
			ids = append(ids, id)
		}
	}
	return ids
}

// catchPanic runs fn and turns a panic into an error.
func catchPanic(fn func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	fn()
	return nil
}

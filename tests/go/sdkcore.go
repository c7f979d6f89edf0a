package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"sync/atomic"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// sdk-core: the SDK's client API against the emulator, through its public API only, in the
// spirit of tests/python/sdk_core.py. One line per check, "PASS <name>" or
// "FAIL <name>: <detail>", then "sls-go sdk-core: N passed, N failed". Exit 0 iff nothing
// failed, 1 otherwise, 2 for bad arguments.

const (
	coreShardCount = 4
	coreTTLCreate  = 7
	coreTTLUpdate  = 14
)

type sdkCoreArgs struct {
	conn               connFlags
	sign               string
	region             string
	project            string
	expectSignatureErr bool
	requestTimeout     time.Duration
	retryTimeout       time.Duration
	deadline           time.Duration
}

// sdkCore holds one run: the client, what it created, what it wrote, and the tally.
type sdkCore struct {
	args           sdkCoreArgs
	client         sls.ClientInterface
	project        string
	logstore       string // the 4-shard logstore most checks use
	shardStore     string // a 2-shard logstore for split / merge
	group          string // consumer group on logstore
	missing        string // a project name that does not exist
	tStart         time.Time
	shards         []*sls.Shard
	writes         []*write // planned PutLogs calls
	done           []*write // the ones that succeeded: what must come back
	createdProject bool
	// Read by the deadline timer's goroutine too.
	passed, failed atomic.Int32
}

// errAbort stops the run after a check later ones depend on failed.
var errAbort = errors.New("abort")

var projectNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

func runSdkCore(argv []string) int {
	var a sdkCoreArgs
	fs := flag.NewFlagSet("sdk-core", flag.ContinueOnError)
	a.conn.register(fs)
	fs.StringVar(&a.sign, "sign", "v1", "signature version: v1 or v4")
	fs.StringVar(&a.region, "region", defaultRegion, "region signed for with --sign v4")
	fs.StringVar(&a.project, "project", "", "project to create (default sls-go-core-<random>)")
	fs.BoolVar(&a.expectSignatureErr, "expect-signature-error", false,
		"the secret is wrong: only check that a call fails with SignatureNotMatch (401)")
	fs.DurationVar(&a.requestTimeout, "request-timeout", 15*time.Second, "time per HTTP attempt")
	fs.DurationVar(&a.retryTimeout, "retry-timeout", 20*time.Second,
		"how long the SDK keeps retrying a call that gets 5xx or connection errors (SDK default 90s)")
	fs.DurationVar(&a.deadline, "deadline", 300*time.Second, "give up on the whole run after this long")
	if !parseFlags(fs, argv, "endpoint", "access-key-id", "access-key-secret") {
		return exitUsage
	}
	if a.sign != "v1" && a.sign != "v4" {
		fmt.Fprintf(os.Stderr, "sdk-core: --sign must be v1 or v4, not %q\n", a.sign)
		return exitUsage
	}
	if a.project != "" && !projectNameRE.MatchString(a.project) {
		fmt.Fprintln(os.Stderr, "sdk-core: --project must be 3-63 chars of [a-z0-9-], not starting or ending with '-'")
		return exitUsage
	}
	watchParent()
	// The SDK's package logger writes to stdout, which is our report: send it to stderr.
	sls.Logger = &libLogger{}

	suffix := randomSuffix(10)
	r := &sdkCore{
		args:       a,
		client:     newClient(a.conn, a.sign, a.region, a.requestTimeout, a.retryTimeout),
		project:    a.project,
		logstore:   "core-logs",
		shardStore: "core-shards",
		group:      "core-group",
		missing:    "sls-go-missing-" + suffix,
		tStart:     time.Now(),
	}
	if r.project == "" {
		r.project = "sls-go-core-" + suffix
	}
	// A hung emulator must not block the caller forever.
	time.AfterFunc(a.deadline, func() {
		fmt.Printf("FAIL deadline: the run took longer than %s (is the emulator hanging, or answering 5xx that the SDK retries?)\n", a.deadline)
		fmt.Printf("sls-go sdk-core: %d passed, %d failed\n", r.passed.Load(), r.failed.Load()+1)
		os.Exit(exitFailed)
	})
	fmt.Printf("sls-go sdk-core: aliyun-log-go-sdk %s, endpoint %s, sign %s, project %s\n",
		sdkVersion, a.conn.endpoint, a.sign, r.project)
	if a.expectSignatureErr {
		r.runSignatureOnly()
	} else {
		r.runAll()
	}
	fmt.Printf("sls-go sdk-core: %d passed, %d failed\n", r.passed.Load(), r.failed.Load())
	if r.failed.Load() > 0 {
		return exitFailed
	}
	return exitOK
}

// sdkVersion is the pinned SDK (go.mod); printed so a report says what ran.
const sdkVersion = "v0.1.131"

// check runs one named check and prints its line. fatal: a failure aborts the run.
func (r *sdkCore) check(name string, fatal bool, fn func() error) {
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return fn()
	}()
	if err == nil {
		r.passed.Add(1)
		fmt.Printf("PASS %s\n", name)
		return
	}
	r.failed.Add(1)
	fmt.Printf("FAIL %s: %s\n", name, truncate(oneLine(err), 3000))
	if fatal {
		panic(errAbort)
	}
}

// runAll is the whole walk-through; a fatal check failing skips to the cleanup.
func (r *sdkCore) runAll() {
	defer func() {
		if p := recover(); p != nil {
			if p != errAbort {
				panic(p)
			}
			fmt.Println("ABORT: the checks after it depend on it")
			r.cleanup()
		}
	}()
	r.check("create_project", true, r.cCreateProject)
	r.check("get_project", false, r.cGetProject)
	r.check("list_project", false, r.cListProject)
	r.check("error_project_not_exist", false, r.cErrProjectMissing)
	r.check("create_logstore", true, r.cCreateLogstore)
	r.check("create_logstore (autoSplit false, maxSplitShard 0)", false, r.cCreateLogstoreNoSplit)
	r.check("get_logstore", false, func() error { return r.checkLogstore(coreTTLCreate) })
	r.check("list_logstore", false, r.cListLogstore)
	r.check("update_logstore", false, r.cUpdateLogstore)
	r.check("error_logstore_not_exist", false, r.cErrLogstoreMissing)
	r.check("error_logstore_already_exist", false, r.cErrLogstoreExists)
	r.check("list_shards", false, r.cListShards)
	r.check("cursors_empty_shards", false, r.cCursorsEmpty)

	r.planWrites()
	for _, w := range r.writes {
		w := w
		r.check(fmt.Sprintf("put_logs_%s (%s)", w.label, w.how), false, func() error { return r.put(w) })
	}
	if len(r.done) == 0 {
		fmt.Println("ABORT: no write succeeded")
		r.cleanup()
		return
	}
	r.check("get_cursor_begin_end_time", false, r.cCursors)
	r.check("get_cursor_by_receive_time", false, r.cCursorByTime)
	r.check("pull_logs_compare (PullLogs, lz4, count=2)", false, func() error {
		return r.comparePulled(r.pullPullLogs(2))
	})
	r.check("pull_logs_with_query_compare (PullLogsWithQuery, zstd, count=1000)", false, func() error {
		return r.comparePulled(r.pullWithQuery(1000, sls.Compress_ZSTD))
	})
	r.check("get_logs_bytes_compare (GetLogsBytes + LogsBytesDecode, lz4, count=3)", false, func() error {
		return r.comparePulled(r.pullBytes(3))
	})
	r.check("pull_logs_end_cursor", false, r.cPullEndCursor)
	r.check("pull_logs_at_end", false, r.cPullAtEnd)
	r.check("error_shard_not_exist", false, r.cErrShardMissing)
	r.check("error_parameter_invalid (garbage cursor)", false, r.cErrGarbageCursor)

	r.check("consumer_group_create", false, r.cGroupCreate)
	r.check("consumer_group_list_update", false, r.cGroupListUpdate)
	r.check("consumer_group_checkpoints_never_written", false, r.cGroupCheckpointsEmpty)
	r.check("consumer_group_heartbeat", false, r.cGroupHeartbeat)
	r.check("consumer_group_update_checkpoint", false, r.cGroupUpdateCheckpoint)
	r.check("consumer_group_delete", false, r.cGroupDelete)

	r.check("split_merge_create_logstore", true, r.cShardStoreCreate)
	r.check("split_shard", false, r.cSplitShard)
	r.check("split_num_shard", false, r.cSplitNumShard)
	r.check("merge_shards", false, r.cMergeShards)
	r.check("split_merge_list_shards", false, r.cShardsAfterSplitMerge)
	r.check("split_merge_data_placement", false, r.cSplitMergeData)

	r.check("delete_logstore", false, r.cDeleteLogstore)
	r.check("delete_project", false, r.cDeleteProject)
}

// runSignatureOnly: the secret is wrong, so nothing can be created; the calls must be refused.
func (r *sdkCore) runSignatureOnly() {
	r.check("error_signature_not_match (GetProject)", false, func() error {
		_, err := r.client.GetProject(r.project)
		return expectSlsError(err, "SignatureNotMatch", 401)
	})
	r.check("error_signature_not_match (PutLogs)", false, func() error {
		lg := &sls.LogGroup{Logs: []*sls.Log{newLog(time.Now(), 0, "seq", "bad-secret")}}
		return expectSlsError(r.client.PutLogs(r.project, "any-logstore", lg), "SignatureNotMatch", 401)
	})
}

// cleanup removes what an aborted run made; best effort.
func (r *sdkCore) cleanup() {
	if !r.createdProject {
		return
	}
	for _, ls := range []string{r.logstore, r.shardStore} {
		if err := r.client.DeleteLogStore(r.project, ls); err != nil {
			fmt.Printf("  cleanup: delete logstore %s: %s\n", ls, oneLine(err))
		}
	}
	if err := r.client.DeleteProject(r.project); err != nil {
		fmt.Printf("  cleanup: delete project: %s\n", oneLine(err))
	}
}

// expectSlsError: err must be an *sls.Error with this code, HTTP status (0: any) and a request id.
func expectSlsError(err error, code string, status int) error {
	if err == nil {
		return fmt.Errorf("the call succeeded; expected error %s", code)
	}
	var se *sls.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("expected an *sls.Error %s, got %T: %s", code, err, oneLine(err))
	}
	if se.Code != code {
		return fmt.Errorf("expected error code %s, got %s: %s (HTTP %d)", code, se.Code, se.Message, se.HTTPCode)
	}
	if status != 0 && int(se.HTTPCode) != status {
		return fmt.Errorf("error %s as expected, but HTTP status %d, expected %d", code, se.HTTPCode, status)
	}
	if se.RequestID == "" {
		return fmt.Errorf("error %s (HTTP %d) carries no request id (x-log-requestid)", code, se.HTTPCode)
	}
	return nil
}

// oneLine flattens an error (the SDK's errors print as indented JSON).
func oneLine(err error) string {
	return logValue(err)
}

func randomSuffix(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rng.Intn(len(chars))]
	}
	return string(b)
}

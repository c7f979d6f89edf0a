package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// query: indexes, GetLogs and GetHistograms through the SDK's client, against the data set of
// query_data.go. One line per check, "PASS <name>" or "FAIL <name>: <detail>", then
// "sls-go query: N passed, N failed". Exit 0 iff nothing failed, 1 otherwise, 2 for bad
// arguments.

type queryArgs struct {
	conn           connFlags
	project        string
	sql            bool
	requestTimeout time.Duration
	retryTimeout   time.Duration
	deadline       time.Duration
}

// queryRun is one run: the client, the data written, and the tally.
type queryRun struct {
	client   sls.ClientInterface
	project  string
	logstore string // 2 shards, indexed, holds the data set
	plain    string // 1 shard, no index (until the long-key check)
	logs     []qlog
	from, to int64 // the data set's time range, [from, to)
	created  bool
	passed   atomic.Int32
	failed   atomic.Int32
}

func runQuery(argv []string) int {
	var a queryArgs
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	a.conn.register(fs)
	fs.StringVar(&a.project, "project", "", "project to create (default sls-go-query-<random>)")
	fs.BoolVar(&a.sql, "sql", false, "also check SQL after '|' (analytic queries)")
	fs.DurationVar(&a.requestTimeout, "request-timeout", 15*time.Second, "time per HTTP attempt")
	fs.DurationVar(&a.retryTimeout, "retry-timeout", 20*time.Second,
		"how long the SDK keeps retrying a call that gets 5xx or connection errors")
	fs.DurationVar(&a.deadline, "deadline", 300*time.Second, "give up on the whole run after this long")
	if !parseFlags(fs, argv, "endpoint", "access-key-id", "access-key-secret") {
		return exitUsage
	}
	watchParent()
	sls.Logger = &libLogger{}

	base := time.Now().Unix() - 600
	r := &queryRun{
		client:   newClient(a.conn, "v1", defaultRegion, a.requestTimeout, a.retryTimeout),
		project:  a.project,
		logstore: "query-app",
		plain:    "query-plain",
		logs:     queryLogs(base),
		from:     base,
		to:       base + queryLogCount/10,
	}
	if r.project == "" {
		r.project = "sls-go-query-" + randomSuffix(10)
	}
	time.AfterFunc(a.deadline, func() {
		fmt.Printf("FAIL deadline: the run took longer than %s\n", a.deadline)
		fmt.Printf("sls-go query: %d passed, %d failed\n", r.passed.Load(), r.failed.Load()+1)
		os.Exit(exitFailed)
	})
	fmt.Printf("sls-go query: aliyun-log-go-sdk %s, endpoint %s, project %s, sql %v\n",
		sdkVersion, a.conn.endpoint, r.project, a.sql)
	r.runAll(a.sql)
	fmt.Printf("sls-go query: %d passed, %d failed\n", r.passed.Load(), r.failed.Load())
	if r.failed.Load() > 0 {
		return exitFailed
	}
	return exitOK
}

// check runs one named check and prints its line; a fatal one failing aborts the run.
func (r *queryRun) check(name string, fatal bool, fn func() error) {
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

func (r *queryRun) runAll(sql bool) {
	defer r.cleanup()
	defer func() {
		if p := recover(); p != nil {
			if p != errAbort {
				panic(p)
			}
			fmt.Println("ABORT: the checks after it depend on it")
		}
	}()
	r.check("create_project", true, func() error {
		_, err := r.client.CreateProject(r.project, "sls-go query")
		r.created = err == nil
		return err
	})
	r.check("create_logstores", true, func() error {
		if err := r.client.CreateLogStore(r.project, r.logstore, 1, 2, false, 0); err != nil {
			return err
		}
		return r.client.CreateLogStore(r.project, r.plain, 1, 1, false, 0)
	})
	r.check("error_index_config_not_exist (GetLogsV2 without an index)", false, func() error {
		_, err := r.client.GetLogsV2(r.project, r.plain, &sls.GetLogRequest{From: r.from, To: r.to, Query: "*"})
		return expectSlsError(err, "IndexConfigNotExist", 400)
	})
	r.check("error_index_config_not_exist (GetHistograms without an index)", false, func() error {
		_, err := r.client.GetHistograms(r.project, r.plain, "", r.from, r.to, "*")
		return expectSlsError(err, "IndexConfigNotExist", 400)
	})
	r.check("error_index_config_not_exist (GetIndex without an index)", false, func() error {
		_, err := r.client.GetIndex(r.project, r.plain)
		return expectSlsError(err, "IndexConfigNotExist", 0)
	})
	r.check("error_index_info_invalid (a token of two characters)", false, func() error {
		bad := sls.Index{Line: &sls.IndexLine{Token: []string{"ab"}}}
		return expectSlsError(r.client.CreateIndex(r.project, r.plain, bad), "IndexInfoInvalid", 400)
	})
	r.check("get_index_update_index_round_trip (long keys without token)", false, r.cIndexRoundTrip)
	r.check("create_index", true, func() error {
		return r.client.CreateIndex(r.project, r.logstore, queryIndex())
	})
	r.check("get_index", false, r.cGetIndex)
	r.check("error_index_already_exist", false, func() error {
		return expectSlsError(r.client.CreateIndex(r.project, r.logstore, queryIndex()), "IndexAlreadyExist", 400)
	})
	r.check("put_logs (10 groups over 2 shards)", true, r.cPutLogs)

	r.check("get_logs_v2_rows (Complete, string values, __time__/__source__/__topic__, contents)", false, r.cRows)
	r.check("get_logs_v2_zstd (Accept-Encoding zstd)", false, func() error {
		req := &sls.GetLogRequest{From: r.from, To: r.to, Query: "method: PUT", Lines: 100, CompressType: sls.Compress_ZSTD}
		resp, err := r.client.GetLogsV2(r.project, r.logstore, req)
		if err != nil {
			return err
		}
		want := matching(r.logs, r.from, r.to, "", func(l qlog) bool { return l.method == "PUT" })
		if len(resp.Logs) != len(want) {
			return fmt.Errorf("%d rows, expected %d", len(resp.Logs), len(want))
		}
		return r.sameLogs(resp.Logs, want)
	})
	r.check("get_logs_v2_paging (offset 0/100/200, line 100)", false, r.cPaging)
	r.check("get_logs_v2_reverse", false, r.cReverse)
	r.check("get_logs_v2_time_range (5 of 25 seconds: 50 logs)", false, func() error {
		return r.expectSearch("", "*", r.from+5, r.from+10, anyLog)
	})
	for _, s := range querySearches {
		s := s
		want := len(matching(r.logs, r.from, r.to, "", s.match))
		r.check(fmt.Sprintf("search %q (%d logs)", s.query, want), false, func() error {
			return r.expectSearch("", s.query, r.from, r.to, s.match)
		})
	}
	isGet := func(l qlog) bool { return l.method == "GET" }
	for _, tc := range []struct {
		topic, query string
		match        func(qlog) bool
	}{{"web", "*", anyLog}, {"batch", "method: GET", isGet}} {
		tc := tc
		want := len(matching(r.logs, r.from, r.to, tc.topic, tc.match))
		r.check(fmt.Sprintf("topic parameter %q with %q (%d logs)", tc.topic, tc.query, want), false, func() error {
			return r.expectSearch(tc.topic, tc.query, r.from, r.to, tc.match)
		})
	}
	r.check("get_logs (positional API, line 30 offset 10)", false, r.cGetLogs)
	r.check("get_logs_v3 (meta)", false, r.cGetLogsV3)
	r.check("get_log_lines (raw JSON rows)", false, r.cGetLogLines)
	r.check("get_histograms (sums to the GetLogs count, per-bucket counts)", false, func() error {
		resp, err := r.client.GetHistograms(r.project, r.logstore, "", r.from, r.to, "method: GET")
		if err != nil {
			return histogramError(err)
		}
		return r.checkHistograms(resp, "", "method: GET", isGet)
	})
	r.check("get_histograms_v2 (interval 5, topic web)", false, func() error {
		req := &sls.GetHistogramRequest{Topic: "web", From: r.from, To: r.to, Query: "status >= 404", Interval: 5}
		resp, err := r.client.GetHistogramsV2(r.project, r.logstore, req)
		if err != nil {
			return histogramError(err)
		}
		return r.checkHistograms(resp, "web", "status >= 404", func(l qlog) bool { return l.status >= 404 })
	})
	r.check("error_search_key_without_index (nokey: x)", false, func() error {
		_, err := r.getLogs("", "nokey: x", r.from, r.to, 0, 10, false)
		var se *sls.Error
		if !errors.As(err, &se) {
			return fmt.Errorf("expected an SLS error naming nokey, got %v", err)
		}
		if !strings.Contains(se.Message, "nokey") {
			return fmt.Errorf("error %s does not name the key: %s", se.Code, se.Message)
		}
		return nil
	})
	if sql {
		r.runSQL()
	}
	r.check("update_index (adds a key)", false, r.cUpdateIndex)
	r.check("delete_index then GetIndex: IndexConfigNotExist", false, func() error {
		if err := r.client.DeleteIndex(r.project, r.logstore); err != nil {
			return err
		}
		_, err := r.client.GetIndex(r.project, r.logstore)
		return expectSlsError(err, "IndexConfigNotExist", 0)
	})
	r.check("delete_index then GetLogsV2: IndexConfigNotExist", false, func() error {
		_, err := r.getLogs("", "*", r.from, r.to, 0, 10, false)
		return expectSlsError(err, "IndexConfigNotExist", 400)
	})
}

// cleanup deletes what the run made; best effort.
func (r *queryRun) cleanup() {
	if !r.created {
		return
	}
	for _, ls := range []string{r.logstore, r.plain} {
		if err := r.client.DeleteLogStore(r.project, ls); err != nil {
			fmt.Printf("  cleanup: delete logstore %s: %s\n", ls, oneLine(err))
		}
	}
	if err := r.client.DeleteProject(r.project); err != nil {
		fmt.Printf("  cleanup: delete project: %s\n", oneLine(err))
	}
}

// queryIndex: the line index plus a text, a long and a double key (long and double keys
// carry a token list, as the SDK's own example writes them).
func queryIndex() sls.Index {
	text := sls.IndexKey{Token: queryTokens, Type: "text", DocValue: true}
	return sls.Index{
		Line: &sls.IndexLine{Token: queryTokens},
		Keys: map[string]sls.IndexKey{
			"id":      text,
			"method":  text,
			"status":  {Token: []string{" "}, Type: "long", DocValue: true},
			"latency": {Token: []string{" "}, Type: "double", DocValue: true},
		},
	}
}

// cIndexRoundTrip: the read-modify-write way to change an index. A long key created as
// Java and Python send it (no token) comes back from GetIndex with Token nil, which the SDK
// then sends as "token": null. The index is removed again: the logstore has none afterwards.
func (r *queryRun) cIndexRoundTrip() error {
	created := `{"keys": {"n": {"type": "long", "doc_value": true}}}`
	if err := r.client.CreateIndexString(r.project, r.plain, created); err != nil {
		return err
	}
	got, err := r.client.GetIndex(r.project, r.plain)
	if err != nil {
		return err
	}
	if got.Keys["n"].Type != "long" {
		return fmt.Errorf("GetIndex: key n is %+v, expected type long", got.Keys["n"])
	}
	got.Keys["m"] = sls.IndexKey{Type: "double"}
	if err := r.client.UpdateIndex(r.project, r.plain, *got); err != nil {
		return fmt.Errorf("UpdateIndex with what GetIndex returned: %w", err)
	}
	if err := r.client.DeleteIndex(r.project, r.plain); err != nil {
		return err
	}
	_, err = r.client.GetIndex(r.project, r.plain)
	return expectSlsError(err, "IndexConfigNotExist", 0)
}

func (r *queryRun) cGetIndex() error {
	got, err := r.client.GetIndex(r.project, r.logstore)
	if err != nil {
		return err
	}
	want := queryIndex()
	if got.Line == nil || !equalStrings(got.Line.Token, want.Line.Token) {
		return fmt.Errorf("line: got %+v, expected token %q", got.Line, want.Line.Token)
	}
	if got.Line.CaseSensitive {
		return errors.New("line: caseSensitive true, expected false")
	}
	if len(got.Keys) != len(want.Keys) {
		return fmt.Errorf("keys: got %d (%v), expected %d", len(got.Keys), keyNames(got.Keys), len(want.Keys))
	}
	for name, w := range want.Keys {
		g, ok := got.Keys[name]
		if !ok {
			return fmt.Errorf("key %s missing: got %v", name, keyNames(got.Keys))
		}
		if g.Type != w.Type || g.DocValue != w.DocValue {
			return fmt.Errorf("key %s: type %q doc_value %v, expected %q %v", name, g.Type, g.DocValue, w.Type, w.DocValue)
		}
		if w.Type == "text" && !equalStrings(g.Token, w.Token) {
			return fmt.Errorf("key %s: token %q, expected %q", name, g.Token, w.Token)
		}
	}
	return nil
}

func (r *queryRun) cPutLogs() error {
	// Hash keys at both ends of the key space: both shards hold data, queries merge them.
	keys := []string{"00000000000000000000000000000000", "80000000000000000000000000000000"}
	for i, g := range queryGroups(r.logs) {
		if err := r.client.PostLogStoreLogs(r.project, r.logstore, g, &keys[i%2]); err != nil {
			return err
		}
	}
	return nil
}

func (r *queryRun) cUpdateIndex() error {
	idx := queryIndex()
	idx.Keys["msg"] = sls.IndexKey{Token: queryTokens, Type: "text"}
	if err := r.client.UpdateIndex(r.project, r.logstore, idx); err != nil {
		return err
	}
	got, err := r.client.GetIndex(r.project, r.logstore)
	if err != nil {
		return err
	}
	if len(got.Keys) != 5 || got.Keys["msg"].Type != "text" {
		return fmt.Errorf("after UpdateIndex: keys %v, expected the 4 keys and msg", keyNames(got.Keys))
	}
	return nil
}

// ---- GetLogs ------------------------------------------------------------------------------ //

func (r *queryRun) getLogs(topic, query string, from, to, offset, line int64, reverse bool) (*sls.GetLogsResponse, error) {
	req := &sls.GetLogRequest{From: from, To: to, Topic: topic, Query: query, Offset: offset, Lines: line, Reverse: reverse}
	return r.client.GetLogsV2(r.project, r.logstore, req)
}

// fetchAll pages through a search 100 rows at a time, as an application would.
func (r *queryRun) fetchAll(topic, query string, from, to int64) ([]map[string]string, error) {
	var rows []map[string]string
	for offset := int64(0); ; offset += queryPageSize {
		resp, err := r.getLogs(topic, query, from, to, offset, queryPageSize, false)
		if err != nil {
			return nil, err
		}
		if !resp.IsComplete() {
			return nil, fmt.Errorf("progress %q at offset %d", resp.Progress, offset)
		}
		if resp.Count != int64(len(resp.Logs)) {
			return nil, fmt.Errorf("count %d but %d rows at offset %d", resp.Count, len(resp.Logs), offset)
		}
		rows = append(rows, resp.Logs...)
		if len(resp.Logs) < queryPageSize {
			return rows, nil
		}
		if offset > 10*queryLogCount {
			return nil, errors.New("more rows than were written: offset is not honoured")
		}
	}
}

// expectSearch: the search finds exactly the logs of the data set that match, each once.
func (r *queryRun) expectSearch(topic, query string, from, to int64, match func(qlog) bool) error {
	rows, err := r.fetchAll(topic, query, from, to)
	if err != nil {
		return err
	}
	expected := matching(r.logs, from, to, topic, match)
	if len(rows) != len(expected) {
		return fmt.Errorf("%d rows, expected %d (ids %s)", len(rows), len(expected), idList(rows, 8))
	}
	return r.sameLogs(rows, expected)
}

// sameLogs: rows are exactly the logs of expected (by id), each with its fields as written.
func (r *queryRun) sameLogs(rows []map[string]string, expected []qlog) error {
	byID := map[string]qlog{}
	for _, l := range expected {
		byID[l.id] = l
	}
	seen := map[string]bool{}
	for _, row := range rows {
		id := row["id"]
		l, ok := byID[id]
		if !ok {
			return fmt.Errorf("row %v was not expected", row)
		}
		if seen[id] {
			return fmt.Errorf("row %s returned twice", id)
		}
		seen[id] = true
		if err := checkRow(row, l); err != nil {
			return err
		}
	}
	return nil
}

// checkRow: one GetLogs row against the log it must be.
func checkRow(row map[string]string, l qlog) error {
	want := l.contents()
	want["__time__"] = strconv.FormatInt(l.time, 10)
	want["__topic__"] = l.topic
	want["__source__"] = l.source
	for k, v := range want {
		if row[k] != v {
			return fmt.Errorf("row %s: %s = %q, expected %q (row %v)", l.id, k, row[k], v, row)
		}
	}
	return nil
}

func (r *queryRun) cRows() error {
	resp, err := r.getLogs("", "*", r.from, r.to, 0, queryPageSize, false)
	if err != nil {
		return err
	}
	if !resp.IsComplete() || resp.Count != queryPageSize || len(resp.Logs) != queryPageSize {
		return fmt.Errorf("progress %q, count %d, %d rows; expected Complete, %d", resp.Progress, resp.Count, len(resp.Logs), queryPageSize)
	}
	if resp.HasSQL {
		return errors.New("hasSQL true for a search")
	}
	return r.sameLogs(resp.Logs, r.logs)
}

func (r *queryRun) cPaging() error {
	var all []map[string]string
	last := int64(-1)
	for _, page := range []struct{ offset, want int64 }{{0, 100}, {100, 100}, {200, 50}, {250, 0}} {
		resp, err := r.getLogs("", "*", r.from, r.to, page.offset, queryPageSize, false)
		if err != nil {
			return err
		}
		if int64(len(resp.Logs)) != page.want {
			return fmt.Errorf("offset %d: %d rows, expected %d", page.offset, len(resp.Logs), page.want)
		}
		for _, row := range resp.Logs {
			t, _ := strconv.ParseInt(row["__time__"], 10, 64)
			if t < last {
				return fmt.Errorf("offset %d: __time__ %d after %d: not in time order", page.offset, t, last)
			}
			last = t
		}
		all = append(all, resp.Logs...)
	}
	if len(all) != queryLogCount {
		return fmt.Errorf("%d rows over the pages, expected %d", len(all), queryLogCount)
	}
	return r.sameLogs(all, r.logs)
}

func (r *queryRun) cReverse() error {
	resp, err := r.getLogs("", "*", r.from, r.to, 0, 30, true)
	if err != nil {
		return err
	}
	if len(resp.Logs) != 30 {
		return fmt.Errorf("%d rows, expected 30", len(resp.Logs))
	}
	// The newest 30 logs are the last three seconds.
	newest := r.logs[queryLogCount-30:]
	prev := int64(1 << 62)
	for _, row := range resp.Logs {
		t, _ := strconv.ParseInt(row["__time__"], 10, 64)
		if t > prev {
			return fmt.Errorf("__time__ %d after %d: not newest first", t, prev)
		}
		prev = t
	}
	return r.sameLogs(resp.Logs, newest)
}

func (r *queryRun) cGetLogs() error {
	resp, err := r.client.GetLogs(r.project, r.logstore, "", r.from, r.to, "method: GET", 30, 10, false)
	if err != nil {
		return err
	}
	all := matching(r.logs, r.from, r.to, "", func(l qlog) bool { return l.method == "GET" })
	if resp.Count != 30 || len(resp.Logs) != 30 {
		return fmt.Errorf("count %d, %d rows, expected 30", resp.Count, len(resp.Logs))
	}
	// 4 GET logs a second: rows 10..39 in time order lie in seconds 2..9.
	for _, row := range resp.Logs {
		t, _ := strconv.ParseInt(row["__time__"], 10, 64)
		if t < r.from+2 || t > r.from+9 {
			return fmt.Errorf("row %s at second %d, expected rows 10..39 (seconds 2..9)", row["id"], t-r.from)
		}
	}
	return r.sameLogs(resp.Logs, all)
}

func (r *queryRun) cGetLogsV3() error {
	req := &sls.GetLogRequest{From: r.from, To: r.to, Query: "status: 500", Lines: 100}
	resp, err := r.client.GetLogsV3(r.project, r.logstore, req)
	if err != nil {
		return err
	}
	want := matching(r.logs, r.from, r.to, "", func(l qlog) bool { return l.status == 500 })
	if !resp.IsComplete() || resp.Meta.Count != int64(len(want)) || len(resp.Logs) != len(want) {
		return fmt.Errorf("meta %+v with %d rows, expected Complete and %d", resp.Meta, len(resp.Logs), len(want))
	}
	if resp.Meta.HasSQL {
		return errors.New("meta.hasSQL true for a search")
	}
	return r.sameLogs(resp.Logs, want)
}

func (r *queryRun) cGetLogLines() error {
	req := &sls.GetLogRequest{From: r.from, To: r.to, Query: "method: DELETE", Lines: 100}
	resp, err := r.client.GetLogLinesV2(r.project, r.logstore, req)
	if err != nil {
		return err
	}
	want := matching(r.logs, r.from, r.to, "", func(l qlog) bool { return l.method == "DELETE" })
	if len(resp.Lines) != len(want) || resp.Count != int64(len(want)) {
		return fmt.Errorf("count %d, %d lines, expected %d", resp.Count, len(resp.Lines), len(want))
	}
	rows := make([]map[string]string, 0, len(resp.Lines))
	for _, line := range resp.Lines {
		var row map[string]string
		if err := json.Unmarshal(line, &row); err != nil {
			return fmt.Errorf("line %s: %v", line, err)
		}
		rows = append(rows, row)
	}
	return r.sameLogs(rows, want)
}

// ---- GetHistograms ------------------------------------------------------------------------ //

// checkHistograms: 1 to 60 contiguous buckets covering [from, to), each with the count of the
// data set in it, adding up to what GetLogs finds.
func (r *queryRun) checkHistograms(resp *sls.GetHistogramsResponse, topic, query string, match func(qlog) bool) error {
	if !resp.IsComplete() {
		return fmt.Errorf("progress %q", resp.Progress)
	}
	hs := resp.Histograms
	if len(hs) < 1 || len(hs) > 60 {
		return fmt.Errorf("%d buckets, expected 1 to 60", len(hs))
	}
	if hs[0].From != r.from || hs[len(hs)-1].To != r.to {
		return fmt.Errorf("buckets cover [%d, %d), expected [%d, %d)", hs[0].From, hs[len(hs)-1].To, r.from, r.to)
	}
	var sum int64
	for i, h := range hs {
		if i > 0 && h.From != hs[i-1].To {
			return fmt.Errorf("bucket %d starts at %d, the previous ends at %d", i, h.From, hs[i-1].To)
		}
		want := int64(len(matching(r.logs, h.From, h.To, topic, match)))
		if h.Count != want {
			return fmt.Errorf("bucket [%d, %d): count %d, expected %d", h.From, h.To, h.Count, want)
		}
		sum += h.Count
	}
	rows, err := r.fetchAll(topic, query, r.from, r.to)
	if err != nil {
		return err
	}
	if sum != int64(len(rows)) || resp.Count != sum {
		return fmt.Errorf("buckets add up to %d, x-log-count %d, GetLogs finds %d", sum, resp.Count, len(rows))
	}
	return nil
}

// ---- SQL (--sql) -------------------------------------------------------------------------- //

func (r *queryRun) runSQL() {
	count := func(match func(qlog) bool) string {
		return strconv.Itoa(len(matching(r.logs, r.from, r.to, "", match)))
	}
	byMethod := map[string]string{}
	for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
		m := m
		byMethod[m] = count(func(l qlog) bool { return l.method == m })
	}
	r.check("sql group by method order by count desc", false, func() error {
		rows, err := r.sql("* | select method, count(*) as c group by method order by c desc")
		if err != nil {
			return err
		}
		got := map[string]string{}
		for i, row := range rows {
			got[row["method"]] = row["c"]
			if i > 0 && atoi(row["c"]) > atoi(rows[i-1]["c"]) {
				return fmt.Errorf("not ordered by c desc: %v", rows)
			}
		}
		return expectMap(got, byMethod)
	})
	for _, tc := range []struct{ query, col, want string }{
		{"* | select count(*) as n", "n", count(func(qlog) bool { return true })},
		{"status >= 500 | select count(1) as n", "n", count(func(l qlog) bool { return l.status >= 500 })},
		{"__topic__: web | select count(*) as n", "n", count(func(l qlog) bool { return l.topic == "web" })},
		{"* | select max(status) as m", "m", "500"},
	} {
		tc := tc
		r.check(fmt.Sprintf("sql %q = %s", tc.query, tc.want), false, func() error {
			rows, err := r.sql(tc.query)
			if err != nil {
				return err
			}
			if len(rows) != 1 || rows[0][tc.col] != tc.want {
				return fmt.Errorf("rows %v, expected one with %s = %s", rows, tc.col, tc.want)
			}
			return nil
		})
	}
	for _, tc := range []struct {
		query string
		ids   []string
	}{
		{"* | select id order by id limit 3", []string{"q-000", "q-001", "q-002"}},
		{"* | select id order by id limit 2, 3", []string{"q-002", "q-003", "q-004"}},
	} {
		tc := tc
		r.check(fmt.Sprintf("sql %q", tc.query), false, func() error {
			rows, err := r.sql(tc.query)
			if err != nil {
				return err
			}
			var ids []string
			for _, row := range rows {
				ids = append(ids, row["id"])
			}
			if !equalStrings(ids, tc.ids) {
				return fmt.Errorf("ids %v, expected %v", ids, tc.ids)
			}
			return nil
		})
	}
}

// sql runs an analytic query through GetLogsV3 and checks meta.hasSQL.
func (r *queryRun) sql(query string) ([]map[string]string, error) {
	resp, err := r.client.GetLogsV3(r.project, r.logstore, &sls.GetLogRequest{From: r.from, To: r.to, Query: query})
	if err != nil {
		return nil, err
	}
	if !resp.IsComplete() || !resp.Meta.HasSQL {
		return nil, fmt.Errorf("meta progress %q hasSQL %v, expected Complete and true", resp.Meta.Progress, resp.Meta.HasSQL)
	}
	return resp.Logs, nil
}

// ---- helpers ------------------------------------------------------------------------------ //

func anyLog(qlog) bool { return true }

// histogramError: the SDK parses x-log-count without checking it is there; say so.
func histogramError(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return fmt.Errorf("%v (the SDK reads the x-log-count header: missing or not an integer)", err)
	}
	return err
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func keyNames(keys map[string]sls.IndexKey) []string {
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func idList(rows []map[string]string, n int) string {
	var ids []string
	for i, row := range rows {
		if i == n {
			ids = append(ids, "...")
			break
		}
		ids = append(ids, row["id"])
	}
	return strings.Join(ids, ",")
}

func expectMap(got, want map[string]string) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %v, expected %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			return fmt.Errorf("got %v, expected %v", got, want)
		}
	}
	return nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

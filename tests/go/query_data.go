package main

import (
	"fmt"
	"strconv"
	"strings"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// The data set of "sls-go query": 250 logs of known content over 25 seconds, in two topics.
// Every expected answer is computed from it, never written down.

const (
	queryLogCount = 250
	queryPageSize = 100 // the most GetLogs returns per call for a search
)

// queryTokens are the delimiters of the line index and of the text keys. '-' is not one, so
// "user-3" and "q-017" are single terms.
var queryTokens = []string{" ", ",", ";", "=", "(", ")", "[", "]", "{", "}", "?", "@", "&",
	"<", ">", "/", ":", "\"", "'", "\n", "\t", "\r"}

var queryMethods = []string{"GET", "POST", "PUT", "DELETE", "GET"}

// qlog is one written log.
type qlog struct {
	time    int64
	topic   string
	source  string
	id      string
	method  string
	status  int64
	latency float64
	msg     string
}

// contents are the log's key/value pairs as written (and as a query row must carry them).
func (l qlog) contents() map[string]string {
	return map[string]string{
		"id":      l.id,
		"method":  l.method,
		"status":  strconv.FormatInt(l.status, 10),
		"latency": strconv.FormatFloat(l.latency, 'f', 2, 64),
		"msg":     l.msg,
	}
}

// queryLogs makes the data set: log i is at base + i/10, topic web (even i) or batch (odd i).
func queryLogs(base int64) []qlog {
	logs := make([]qlog, 0, queryLogCount)
	for i := 0; i < queryLogCount; i++ {
		l := qlog{
			time:    base + int64(i/10),
			topic:   "web",
			source:  "10.1.0.1",
			id:      fmt.Sprintf("q-%03d", i),
			method:  queryMethods[i%len(queryMethods)],
			status:  200,
			latency: float64(i) / 4,
			msg:     fmt.Sprintf("user-%d fetched /api/items?page=%d", i%7, i),
		}
		if i%2 == 1 {
			l.topic, l.source = "batch", "10.1.0.2"
		}
		switch i % 10 {
		case 0:
			l.status = 500
		case 5:
			l.status = 404
		}
		logs = append(logs, l)
	}
	return logs
}

// queryGroups cuts the logs into LogGroups of at most 25 logs, one topic each.
func queryGroups(logs []qlog) []*sls.LogGroup {
	var groups []*sls.LogGroup
	for _, topic := range []string{"web", "batch"} {
		var g *sls.LogGroup
		for _, l := range logs {
			if l.topic != topic {
				continue
			}
			if g == nil || len(g.Logs) == 25 {
				g = &sls.LogGroup{Topic: str(l.topic), Source: str(l.source)}
				groups = append(groups, g)
			}
			secs := uint32(l.time)
			log := &sls.Log{Time: &secs}
			for _, k := range []string{"id", "method", "status", "latency", "msg"} {
				log.Contents = append(log.Contents, &sls.LogContent{Key: str(k), Value: str(l.contents()[k])})
			}
			g.Logs = append(g.Logs, log)
		}
	}
	return groups
}

// querySearch is a search and the logs it must match.
type querySearch struct {
	query string
	match func(l qlog) bool
}

// querySearches covers the search language: terms, key:value, and/or/not, parentheses,
// wildcards, numeric comparisons and ranges on long/double keys, __topic__.
var querySearches = []querySearch{
	{"*", func(l qlog) bool { return true }},
	{"method: GET", func(l qlog) bool { return l.method == "GET" }},
	{"method: get", func(l qlog) bool { return l.method == "GET" }}, // case-insensitive index
	{"method: get and status >= 500", func(l qlog) bool { return l.method == "GET" && l.status >= 500 }},
	{"status = 404", func(l qlog) bool { return l.status == 404 }},
	{"status in [200 404]", func(l qlog) bool { return l.status >= 200 && l.status <= 404 }},
	{"status in [200 404)", func(l qlog) bool { return l.status >= 200 && l.status < 404 }},
	{"latency > 50.5", func(l qlog) bool { return l.latency > 50.5 }},
	{"latency <= 1.5", func(l qlog) bool { return l.latency <= 1.5 }},
	{"latency in [10 20]", func(l qlog) bool { return l.latency >= 10 && l.latency <= 20 }},
	{"not method: GET", func(l qlog) bool { return l.method != "GET" }},
	{"method: PUT or method: DELETE", func(l qlog) bool { return l.method == "PUT" || l.method == "DELETE" }},
	{"(method: GET or method: PUT) and not status: 200", func(l qlog) bool {
		return (l.method == "GET" || l.method == "PUT") && l.status != 200
	}},
	{"user-3", func(l qlog) bool { return strings.HasPrefix(l.msg, "user-3 ") }},
	{"items and user-1", func(l qlog) bool { return strings.HasPrefix(l.msg, "user-1 ") }},
	{"id: q-01*", func(l qlog) bool { return strings.HasPrefix(l.id, "q-01") }},
	{"__topic__: batch", func(l qlog) bool { return l.topic == "batch" }},
	{"__topic__: web and status: 500", func(l qlog) bool { return l.topic == "web" && l.status == 500 }},
	{"nosuchterm", func(l qlog) bool { return false }},
}

// matching returns the logs of topic ("" = any) in [from, to) that match.
func matching(logs []qlog, from, to int64, topic string, match func(qlog) bool) []qlog {
	var out []qlog
	for _, l := range logs {
		if l.time >= from && l.time < to && (topic == "" || l.topic == topic) && match(l) {
			out = append(out, l)
		}
	}
	return out
}

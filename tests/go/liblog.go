package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// libLogger is the go-kit logger (interface log.Logger: Log(keyvals ...interface{}) error) we
// give the SDK's consumer and producer libraries instead of their default one, which writes to
// stdout. It writes logfmt lines to stderr and hands every warn or error record to onWarn, so
// the consumer worker can turn library warnings into "warn" events. Go interfaces are
// structural: no go-kit import is needed to satisfy log.Logger.
type libLogger struct {
	mu     sync.Mutex
	debug  bool             // also print debug records (the producer logs one per request)
	onWarn func(msg string) // nil: warnings only go to stderr
}

func (l *libLogger) Log(keyvals ...interface{}) error {
	var b strings.Builder
	lvl := ""
	for i := 0; i < len(keyvals); i += 2 {
		key := fmt.Sprint(keyvals[i])
		var val interface{} = "(MISSING)"
		if i+1 < len(keyvals) {
			val = keyvals[i+1]
		}
		s := logValue(val)
		if key == "level" {
			// go-kit's level.Value prints as debug / info / warn / error.
			lvl = s
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(logfmtQuote(key))
		b.WriteByte('=')
		b.WriteString(logfmtQuote(s))
	}
	if lvl == "debug" && !l.debug {
		return nil
	}
	line := b.String()
	stamp := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	l.mu.Lock()
	fmt.Fprintf(os.Stderr, "%s %s\n", stamp, line)
	l.mu.Unlock()
	if (lvl == "warn" || lvl == "error") && l.onWarn != nil {
		l.onWarn(truncate(line, 500))
	}
	return nil
}

// logValue renders a record value on one line. The SDK's *sls.Error prints as indented JSON,
// which would spread one record over several lines: it is shown as "Code (HTTP n): message".
func logValue(v interface{}) string {
	var s string
	switch x := v.(type) {
	case *sls.Error:
		s = compactSlsError(x)
	case error:
		s = x.Error()
		// The library wraps them too ("list consumer group failed: %w").
		var se *sls.Error
		if errors.As(x, &se) {
			s = strings.Replace(s, se.Error(), compactSlsError(se), 1)
		}
	case fmt.Stringer:
		s = x.String()
	default:
		s = fmt.Sprint(v)
	}
	return strings.Join(strings.Fields(s), " ")
}

func compactSlsError(e *sls.Error) string {
	s := fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.HTTPCode, e.Message)
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

// logfmtQuote quotes s when logfmt needs it (space, '=', '"' or nothing at all).
func logfmtQuote(s string) string {
	if s == "" || strings.ContainsAny(s, " =\"\t") {
		return strconv.Quote(s)
	}
	return s
}

package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// Exit statuses shared by the subcommands.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	// exitOrphan: the parent died; a worker must not outlive the test that started it.
	exitOrphan = 3
)

// The signature region used with --sign v4 unless --region says otherwise.
const defaultRegion = "cn-hangzhou"

// init runs on the main OS thread (the runtime locks the main goroutine to it during package
// initialisation). PR_SET_PDEATHSIG is a per-thread attribute and that thread lives as long as
// the process, so setting it here makes the kernel SIGKILL us when the parent goes away, even
// while we are blocked in the SDK. Only the standard library is allowed, hence the raw prctl.
func init() {
	const prSetPdeathsig = 1
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetPdeathsig, uintptr(syscall.SIGKILL), 0)
}

// watchParent exits when the parent is gone: already dead before PR_SET_PDEATHSIG took effect
// (we were re-parented to init, getppid()==1), or re-parented later (to a subreaper, where the
// death signal would not tell us either).
func watchParent() {
	ppid := os.Getppid()
	if ppid == 1 {
		fmt.Fprintln(os.Stderr, "sls-go: parent already gone (getppid()==1), exiting")
		os.Exit(exitOrphan)
	}
	go func() {
		for {
			time.Sleep(time.Second)
			if os.Getppid() != ppid {
				fmt.Fprintln(os.Stderr, "sls-go: parent gone, exiting")
				os.Exit(exitOrphan)
			}
		}
	}()
}

// connFlags are the flags every subcommand takes to reach the emulator.
type connFlags struct {
	endpoint  string
	keyID     string
	keySecret string
}

func (c *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.endpoint, "endpoint", "", "emulator endpoint as the SDK takes it, e.g. localhost:18080 (required)")
	fs.StringVar(&c.keyID, "access-key-id", "", "AccessKeyId (required)")
	fs.StringVar(&c.keySecret, "access-key-secret", "", "AccessKeySecret (required)")
}

// parseFlags parses args; on a usage error it prints why and returns false (exit 2).
// required names flags that must be non-empty.
func parseFlags(fs *flag.FlagSet, args []string, required ...string) bool {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	for _, name := range required {
		if f := fs.Lookup(name); f == nil || f.Value.String() == "" {
			fmt.Fprintf(os.Stderr, "%s: --%s is required\n", fs.Name(), name)
			fs.Usage()
			return false
		}
	}
	return true
}

// httpClient is the http.Client handed to the SDK (Client.SetHTTPClient,
// LogHubConfig.HTTPClient, ProducerConfig.HTTPClient): the SDK's default transport (a clone of
// http.DefaultTransport, so proj.localhost resolves like any name: libnss-myhostname maps
// *.localhost to loopback) with a time limit per request.
func httpClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.IdleConnTimeout = 55 * time.Second // the SDK's own value
	return &http.Client{Transport: t, Timeout: timeout}
}

// newClient is the SDK client every subcommand uses for direct API calls.
func newClient(c connFlags, sign, region string, timeout, retryTimeout time.Duration) sls.ClientInterface {
	client := sls.CreateNormalInterface(c.endpoint, c.keyID, c.keySecret, "")
	client.SetHTTPClient(httpClient(timeout))
	// The SDK retries reads on connection errors and 5xx, writes on 500/502/503, with
	// exponential backoff until this much time has passed (default 90 s).
	client.SetRetryTimeout(retryTimeout)
	if sign == "v4" {
		client.SetAuthVersion(sls.AuthV4)
		client.SetRegion(region)
	}
	return client
}

// unixNow is the event time stamp: unix seconds as a float, like Python's time.time().
func unixNow() float64 {
	return unixSeconds(time.Now())
}

func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// decodeCursor reads an SLS cursor: base64 of the decimal form of an int64.
func decodeCursor(cursor string) (int64, error) {
	raw, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return 0, fmt.Errorf("cursor %q is not base64: %v", cursor, err)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cursor %q does not decode to an integer: %v", cursor, err)
	}
	return n, nil
}

// encodeCursor is decodeCursor's inverse.
func encodeCursor(n int64) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(n, 10)))
}

// truncate cuts s to at most n bytes (on a rune boundary) for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut]
}

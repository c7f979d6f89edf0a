// Command sls-go drives the official, unmodified aliyun-log-go-sdk (its client, its consumer
// library and its producer) against the sls-emu emulator. Rust tests run each subcommand as a
// separate process and read what it prints or appends to a file; README.md describes the
// command lines and the output formats, which are a contract with those tests.
package main

import (
	"fmt"
	"os"
)

// usage lists the subcommands; each one has its own -h.
const usage = `usage: sls-go <subcommand> [flags]

subcommands:
  sdk-core         the SDK's client API, one PASS/FAIL line per check
  consumer-worker  one consumer-group worker (consumerLibrary), JSON events to --out
  producer-writer  the producer package writing --count logs, one JSON line per callback
  query            indexes, GetLogs and GetHistograms, one PASS/FAIL line per check

run "sls-go <subcommand> -h" for its flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(exitUsage)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "sdk-core":
		os.Exit(runSdkCore(args))
	case "consumer-worker":
		os.Exit(runConsumerWorker(args))
	case "producer-writer":
		os.Exit(runProducerWriter(args))
	case "query":
		os.Exit(runQuery(args))
	case "-h", "-help", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "sls-go: unknown subcommand %q\n\n%s", os.Args[1], usage)
		os.Exit(exitUsage)
	}
}

// Command parley-bench measures a running Parley: it seeds a large
// workspace, generates closed-loop load against one endpoint at a time,
// serves a bare net/http "ceiling" to compare with, samples the server's
// memory and renders the figures as Markdown for docs/benchmarks.md.
//
//	parley-bench seed    --url U --token T --contacts 1000000 [--companies 10000] [--tags 50]
//	parley-bench import  --url U --token T --contacts N [--pid P]
//	parley-bench csv     --contacts N > contacts.csv
//	parley-bench load    --url U --token T --scenario get-contact --concurrency 32 --duration 20s
//	parley-bench ceiling --addr 127.0.0.1:9090 [--from-url U --token T]
//	parley-bench rss     --pid P | --process-name parley [--watch 60s]
//	parley-bench report  --dir RESULTS
//	parley-bench ws-hold    --target teammate|messenger|echo --url U --conns 10000 --pid P
//	parley-bench ws-latency --target teammate|echo --url U --rate 1000 --duration 20s
//	parley-bench ws-echo    --addr 127.0.0.1:9091
//	parley-bench ws-report  --dir RESULTS
//	parley-bench seed-conversations --url U --token T --count 100000
//	parley-bench web-load   --url U --email E --password P --path /app/inbox [--path …]
//	parley-bench web-js     --url U --email E --password P --path /app/inbox
//
// Every command refuses URLs other than loopback ones: the benchmark only
// ever targets this machine.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `parley-bench: benchmark tooling for Parley (see bench/README.md)

Commands:
  seed     build the benchmark workspace (data attributes, contacts by CSV import
           or by API, companies, tags, attachments) and print timings
  import   time the CSV import of N generated contacts alone (wall time, server max RSS)
  csv      write N generated contacts as CSV to stdout (for "parley import contacts")
  load     closed-loop load of one scenario: requests/s, errors, latency p50/p95/p99/max
  ceiling  a bare net/http server returning a contact's JSON, to measure the machine's ceiling
  rss      print a process's resident memory (VmRSS), or its maximum while watching
  report   render the results of bench/run.sh as a Markdown table
  ws-hold     open and hold N WebSockets (Parley's or the echo server's); server RSS per socket
  ws-latency  messages at a fixed rate, received on sockets: delivery latency p50/p95/p99/max
  ws-echo     the minimal echo/broadcast WebSocket server (bench/echo), the socket ceiling
  ws-report   render the results of bench/ws.sh as a Markdown table
  seed-conversations  create conversations from sampled contacts (some assigned, some closed)
  web-load    sign into the web app and load pages: requests/s, latency p50/p95/p99, and a ceiling
  web-js      the JavaScript a web app page ships (bytes, gzipped)
  port     print a free TCP port on 127.0.0.1 (for scripts)
  wait     wait until a Parley answers GET /healthz (for scripts)

Run "parley-bench COMMAND -h" for the flags of a command.
`

func main() {
	// SIGINT/SIGTERM end a load run early; what was measured is still reported.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley-bench:", err)
		}
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "seed":
		return cmdSeed(ctx, rest, stdout)
	case "import":
		return cmdImport(ctx, rest, stdout)
	case "csv":
		return cmdCSV(rest, stdout)
	case "load":
		return cmdLoad(ctx, rest, stdout)
	case "ceiling":
		return cmdCeiling(ctx, rest, stdout)
	case "rss":
		return cmdRSS(ctx, rest, stdout)
	case "report":
		return cmdReport(rest, stdout)
	case "ws-hold":
		return cmdWSHold(ctx, rest, stdout)
	case "ws-latency":
		return cmdWSLatency(ctx, rest, stdout)
	case "ws-echo":
		return cmdWSEcho(ctx, rest, stdout)
	case "ws-report":
		return cmdWSReport(rest, stdout)
	case "seed-conversations":
		return cmdSeedConversations(ctx, rest, stdout)
	case "web-load":
		return cmdWebLoad(ctx, rest, stdout)
	case "web-js":
		return cmdWebJS(ctx, rest, stdout)
	case "port":
		return cmdPort(stdout)
	case "wait":
		return cmdWait(ctx, rest)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// writeResult writes v as indented JSON to path (nothing if path is empty).
func writeResult(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// logf prints progress to stderr so stdout stays for results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// cmdPort prints a TCP port that is free on 127.0.0.1 right now.
func cmdPort(stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Fprintln(stdout, ln.Addr().(*net.TCPAddr).Port)
	return nil
}

// cmdWait polls GET /healthz until it answers 200.
func cmdWait(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "base URL (loopback only)")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	path := fs.String("path", "/healthz", "path to poll")
	pid := fs.Int("pid", 0, "give up as soon as this process exits")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLocal(*base); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, *base+*path, nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if *pid != 0 {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", *pid)); err != nil {
				return fmt.Errorf("wait: process %d exited before %s%s answered", *pid, *base, *path)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait: %s%s did not answer 200 within %v", *base, *path, *timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

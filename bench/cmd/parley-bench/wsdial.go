package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// Socket targets of the ws-* commands.
const (
	targetTeammate  = "teammate"  // Parley's GET /realtime, token in the header
	targetMessenger = "messenger" // Parley's GET /messenger/v1/realtime after POST /messenger/v1/boot
	targetEcho      = "echo"      // bench/echo's GET /ws (the ceiling)
)

// addWSFlags declares the flags every socket command has.
func addWSFlags(fs *flag.FlagSet, targets string) (base, token, target *string) {
	base = fs.String("url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	token = fs.String("token", os.Getenv("PARLEY_BENCH_TOKEN"), "Parley access token (env PARLEY_BENCH_TOKEN); not needed for --target echo")
	target = fs.String("target", targetTeammate, targets)
	return base, token, target
}

// wsDialer opens sockets of one target, spreading them over several
// loopback source addresses so that more than one address's ephemeral ports
// (28,000 by default on Linux) can be used.
type wsDialer struct {
	target  string
	base    string // http://127.0.0.1:port
	token   string // teammate token (teammate and messenger targets)
	sources []net.IP
	next    atomic.Uint64
	hc      *http.Client

	// messenger: the sessions sockets are spread over (booted by prepare)
	sessions []string // session tokens
}

func newWSDialer(target, base, token string, sources int) (*wsDialer, error) {
	if err := checkLocal(base); err != nil {
		return nil, err
	}
	switch target {
	case targetTeammate, targetMessenger, targetEcho:
	default:
		return nil, fmt.Errorf("unknown target %q: teammate, messenger or echo", target)
	}
	if target != targetEcho && token == "" {
		return nil, fmt.Errorf("target %s needs an access token: --token or PARLEY_BENCH_TOKEN", target)
	}
	d := &wsDialer{target: target, base: strings.TrimSuffix(base, "/"), token: token}
	for i := range max(sources, 1) {
		d.sources = append(d.sources, net.IPv4(127, 0, 0, byte(1+i)))
	}
	tr := newTransport(64)
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		src := d.sources[d.next.Add(1)%uint64(len(d.sources))]
		nd := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: src}}
		return nd.DialContext(ctx, network, addr)
	}
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 64, 64
	d.hc = &http.Client{Transport: tr} // no Timeout: the socket outlives the request
	return d, nil
}

// wsURL is the socket address of the target.
func (d *wsDialer) wsURL() string {
	u := "ws" + strings.TrimPrefix(d.base, "http")
	switch d.target {
	case targetTeammate:
		return u + "/realtime"
	case targetMessenger:
		return u + "/messenger/v1/realtime"
	}
	return u + "/ws"
}

// prepareMessenger boots n visitors (anonymous Messenger sessions) of the
// token's workspace; sockets are spread over them.
func (d *wsDialer) prepareMessenger(ctx context.Context, c *client, n int) error {
	var me struct {
		App struct {
			IDCode string `json:"id_code"`
		} `json:"app"`
	}
	if err := c.do(ctx, http.MethodGet, "/me", nil, &me); err != nil {
		return fmt.Errorf("GET /me (for the workspace id): %w", err)
	}
	if me.App.IDCode == "" {
		return fmt.Errorf("GET /me has no app.id_code (the workspace id)")
	}
	// Eight at a time (the client's connection pool is sized for it).
	d.sessions = make([]string, n)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		bootErr error
	)
	next := make(chan int)
	for range min(8, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				var out struct {
					SessionToken string `json:"session_token"`
				}
				in := map[string]any{"app_id": me.App.IDCode, "page_url": "https://bench.example/"}
				if err := c.do(ctx, http.MethodPost, "/messenger/v1/boot", in, &out); err != nil {
					mu.Lock()
					bootErr = cmp.Or(bootErr, fmt.Errorf("boot visitor %d: %w", i+1, err))
					mu.Unlock()
					continue
				}
				d.sessions[i] = out.SessionToken
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return bootErr
}

// dial opens socket i, says hello where the target needs it, and returns
// once the welcome frame has arrived. subscribe asks the echo server for
// published messages (Parley's sockets receive their events anyway).
func (d *wsDialer) dial(ctx context.Context, i int, subscribe bool) (*websocket.Conn, error) {
	opts := &websocket.DialOptions{HTTPClient: d.hc, CompressionMode: websocket.CompressionDisabled}
	var hello []byte
	switch d.target {
	case targetTeammate:
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + d.token}}
	case targetMessenger:
		if len(d.sessions) == 0 {
			return nil, fmt.Errorf("no Messenger session booted")
		}
		// No "after": delivery starts at the log's head, as for a visitor
		// who just booted. (The sessions are shared and were booted before
		// every socket: their boot's "after" would make each socket replay
		// the events of all the boots since, which a visitor never does.)
		hello, _ = json.Marshal(map[string]any{"type": "hello", "session_token": d.sessions[i%len(d.sessions)]})
		opts.HTTPHeader = http.Header{"Origin": {"https://bench.example"}}
	case targetEcho:
		hello, _ = json.Marshal(map[string]any{"type": "hello", "subscribe": subscribe})
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, d.wsURL(), opts)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	if hello != nil {
		if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
			ws.CloseNow()
			return nil, fmt.Errorf("hello: %w", err)
		}
	}
	_, msg, err := ws.Read(ctx)
	if err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("waiting for the welcome frame: %w", err)
	}
	if !bytes.Contains(msg, []byte(`"type":"welcome"`)) {
		ws.CloseNow()
		return nil, fmt.Errorf("first frame is not a welcome: %.200s", msg)
	}
	return ws, nil
}

// fdLimit is the soft RLIMIT_NOFILE after raising it to the hard limit
// (Go does this at start on Linux already; done again here to report it).
func fdLimit() uint64 {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return rl.Cur
}

// doAs is client.do with another bearer token (a Messenger session).
func (c *client) doAs(ctx context.Context, token, method, path string, in, out any) error {
	as := *c
	as.token = token
	return as.do(ctx, method, path, in, out)
}

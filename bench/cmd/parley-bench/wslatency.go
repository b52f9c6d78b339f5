package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/bench/internal/hist"
)

// wsLatencyResult is what `ws-latency --out` writes.
type wsLatencyResult struct {
	Target        string  `json:"target"` // teammate (Parley) or echo
	URL           string  `json:"url"`
	Via           string  `json:"via"` // how messages are sent
	Rate          float64 `json:"rate"`
	Receivers     int     `json:"receivers"`
	Conversations int     `json:"conversations,omitempty"`
	Workers       int     `json:"workers"`
	Warmup        float64 `json:"warmup_seconds"`
	Duration      float64 `json:"duration_seconds"`
	// Sends scheduled in the measured window, and what became of them.
	Scheduled  int64            `json:"scheduled"`
	Sent       int64            `json:"sent_ok"`
	Errors     int64            `json:"errors"`
	ErrorsBy   map[string]int64 `json:"errors_by_status,omitempty"`
	FirstError string           `json:"first_error,omitempty"`
	Late       int64            `json:"late"` // sent more than 10 ms after their time (every worker was busy)
	SentRate   float64          `json:"sent_per_second"`
	// Deliveries: each sent message should reach every receiver.
	Expected int64   `json:"expected_deliveries"`
	Received int64   `json:"received"`
	Missing  int64   `json:"missing"`
	P50MS    float64 `json:"p50_ms"`
	P95MS    float64 `json:"p95_ms"`
	P99MS    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms"`
	// The send's own round trip (the POST), for comparison.
	SendP50MS float64 `json:"send_p50_ms"`
	SendP99MS float64 `json:"send_p99_ms"`
	// Receive time − the send's answer: the delivery's own part once the
	// write committed (Parley: bus, hub, socket), at most the same as above.
	AfterAnswerP50MS float64 `json:"after_answer_p50_ms"`
	AfterAnswerP99MS float64 `json:"after_answer_p99_ms"`
	RSSMaxKiB        int64   `json:"server_max_rss_kib,omitempty"`
}

// marker is what a message body carries: its scheduled send time (unix ns)
// and number, "wsb<ns>x<n>z"; plain alphanumerics survive HTML escaping.
func marker(t time.Time, n int64) string {
	return "wsb" + strconv.FormatInt(t.UnixNano(), 10) + "x" + strconv.FormatInt(n, 10) + "z"
}

// parseMarker finds the last marker in a frame.
func parseMarker(b []byte) (sent int64, n int64, ok bool) {
	i := bytes.LastIndex(b, []byte("wsb"))
	if i < 0 {
		return 0, 0, false
	}
	rest := b[i+3:]
	x := bytes.IndexByte(rest, 'x')
	if x <= 0 {
		return 0, 0, false
	}
	z := bytes.IndexByte(rest[x:], 'z')
	if z <= 1 {
		return 0, 0, false
	}
	sent, err1 := strconv.ParseInt(string(rest[:x]), 10, 64)
	n, err2 := strconv.ParseInt(string(rest[x+1:x+z]), 10, 64)
	return sent, n, err1 == nil && err2 == nil
}

// receiver is one socket counting and timing the marked messages.
type receiver struct {
	ws   *websocket.Conn
	from int64 // first measured message number
	h    hist.H
	recv []int64 // by message number: when it arrived (unix ns), 0 not yet
	mu   sync.Mutex
}

func (r *receiver) run(ctx context.Context) {
	for {
		_, b, err := r.ws.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		sent, n, ok := parseMarker(b)
		if !ok {
			continue
		}
		r.mu.Lock()
		if n >= 0 && n < int64(len(r.recv)) && r.recv[n] == 0 {
			r.recv[n] = now
			if n >= r.from {
				r.h.Record(time.Duration(now - sent))
			}
		}
		r.mu.Unlock()
	}
}

func cmdWSLatency(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ws-latency", flag.ContinueOnError)
	base, token, target := addWSFlags(fs, "teammate (Parley: visitor replies over the REST API, received on GET /realtime) or echo (POST /publish, received on /ws)")
	rate := fs.Float64("rate", 1000, "messages per second (open loop: sent on schedule whatever the answers' latency)")
	receivers := fs.Int("receivers", 1, "sockets receiving every message")
	via := fs.String("via", "rest", "teammate: how visitors write — rest (POST /conversations/{id}/reply, type user, with the token) or messenger (boot a visitor per conversation, POST /messenger/v1/conversations/{id}/reply with its session)")
	convs := fs.Int("conversations", 500, "teammate: conversations (one contact each) the replies are spread over")
	workers := fs.Int("workers", 128, "requests in flight at most")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured warm-up at the same rate")
	duration := fs.Duration("duration", 20*time.Second, "measured duration")
	drain := fs.Duration("drain", 5*time.Second, "wait this long after the last send for deliveries")
	pid := fs.Int("pid", 0, "server pid: report its largest RSS during the run")
	out := fs.String("out", "", "also write the result as JSON to this file")
	pprofURL := fs.String("pprof", "", "server's pprof base (http://127.0.0.1:P/debug/pprof): save a CPU profile of the measured window as --profile")
	profile := fs.String("profile", "cpu.pb.gz", "where --pprof saves the CPU profile")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pprofURL != "" {
		if err := checkLocal(*pprofURL); err != nil {
			return err
		}
	}
	if *rate <= 0 || *rate > 100000 || *receivers <= 0 || *workers <= 0 || *duration <= 0 {
		return errors.New("ws-latency: --rate in (0, 100000], --receivers, --workers and --duration positive")
	}
	if *target != targetTeammate && *target != targetEcho {
		return fmt.Errorf("ws-latency: --target must be teammate or echo, not %q", *target)
	}
	d, err := newWSDialer(*target, *base, *token, 1)
	if err != nil {
		return err
	}
	c, err := newClient(*base, *token, *workers)
	if err != nil {
		return err
	}
	res := &wsLatencyResult{Target: *target, URL: d.wsURL(), Rate: *rate, Receivers: *receivers, Workers: *workers,
		Warmup: warmup.Seconds(), Duration: duration.Seconds()}

	// What a send is.
	var send func(ctx context.Context, n int64, body string) error
	switch {
	case *target == targetEcho:
		res.Via = "POST /publish"
		send = func(ctx context.Context, _ int64, body string) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/publish", strings.NewReader(`{"type":"event","body":"`+body+`"}`))
			if err != nil {
				return err
			}
			return c.send(req, nil)
		}
	case *via == "messenger":
		res.Via = "POST /messenger/v1/conversations/{id}/reply"
		res.Conversations = *convs
		ids, sessions, err := messengerConversations(ctx, c, *convs)
		if err != nil {
			return err
		}
		send = func(ctx context.Context, n int64, body string) error {
			i := n % int64(len(ids))
			return c.doAs(ctx, sessions[i], http.MethodPost, "/messenger/v1/conversations/"+ids[i]+"/reply", map[string]any{"body": body}, nil)
		}
	case *via != "rest":
		return fmt.Errorf("ws-latency: --via must be rest or messenger, not %q", *via)
	default:
		res.Via = "POST /conversations/{id}/reply (type user)"
		res.Conversations = *convs
		ids, contacts, err := benchConversations(ctx, c, *convs)
		if err != nil {
			return err
		}
		send = func(ctx context.Context, n int64, body string) error {
			i := n % int64(len(ids))
			return c.do(ctx, http.MethodPost, "/conversations/"+ids[i]+"/reply",
				map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": contacts[i], "body": body}, nil)
		}
	}

	warmN := int64(warmup.Seconds() * *rate)
	total := warmN + int64(duration.Seconds()**rate)
	rs := make([]*receiver, *receivers)
	rctx, stopReceivers := context.WithCancel(context.Background())
	defer stopReceivers()
	for i := range rs {
		ws, err := d.dial(ctx, i, true)
		if err != nil {
			return fmt.Errorf("receiver %d: %w", i, err)
		}
		rs[i] = &receiver{ws: ws, from: warmN, recv: make([]int64, total)}
		go rs[i].run(rctx)
	}
	defer func() {
		for _, r := range rs {
			r.ws.CloseNow()
		}
	}()

	logf("ws-latency: %s, %.0f messages/s via %s, %d receiver(s), %v warm-up + %v", *target, *rate, res.Via, *receivers, *warmup, *duration)
	rss := sampleRSS(*pid, 100*time.Millisecond)
	type job struct {
		n  int64
		at time.Time
	}
	jobs := make(chan job, *workers)
	answered := make([]atomic.Int64, total) // by message number: when its send was answered (unix ns)
	var (
		mu       sync.Mutex
		sendH    hist.H
		errsBy   = map[string]int64{}
		sentOK   atomic.Int64
		late     atomic.Int64
		firstErr string
		wg       sync.WaitGroup
	)
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if time.Since(j.at) > 10*time.Millisecond && j.n >= warmN {
					late.Add(1)
				}
				t0 := time.Now()
				err := send(ctx, j.n, marker(j.at, j.n))
				el := time.Since(t0)
				if err == nil {
					answered[j.n].Store(time.Now().UnixNano())
				}
				if j.n < warmN {
					continue
				}
				mu.Lock()
				if err != nil {
					key := "transport"
					var ae *apiError
					if errors.As(err, &ae) {
						key = strconv.Itoa(ae.Status)
					}
					errsBy[key]++
					if firstErr == "" {
						firstErr = err.Error()
					}
				} else {
					sentOK.Add(1)
					sendH.Record(el)
				}
				mu.Unlock()
			}
		}()
	}
	// The schedule: message n is due at start + n/rate, sent by whichever
	// worker is free (a full pool delays it: counted as late, and its
	// latency includes the delay).
	start := time.Now().Add(50 * time.Millisecond)
	interval := time.Duration(float64(time.Second) / *rate)
	profDone := make(chan struct{})
	if *pprofURL != "" {
		go func() {
			defer close(profDone)
			sleepCtx(ctx, time.Until(start.Add(*warmup)))
			u := fmt.Sprintf("%s/profile?seconds=%d", *pprofURL, max(int(duration.Seconds()), 1))
			if err := fetchTo(ctx, u, *profile); err != nil {
				logf("ws-latency: CPU profile: %v", err)
			}
		}()
	} else {
		close(profDone)
	}
	var scheduled int64
	for n := int64(0); n < total && ctx.Err() == nil; n++ {
		at := start.Add(time.Duration(n) * interval)
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		jobs <- job{n: n, at: at}
		if n >= warmN {
			scheduled++
		}
	}
	close(jobs)
	wg.Wait()
	sendEnd := time.Now()
	sleepCtx(ctx, *drain)
	<-profDone
	stopReceivers()
	res.RSSMaxKiB = rss.Stop()

	res.Scheduled, res.Sent, res.Late = scheduled, sentOK.Load(), late.Load()
	for _, v := range errsBy {
		res.Errors += v
	}
	if len(errsBy) > 0 {
		res.ErrorsBy = errsBy
	}
	res.FirstError = firstErr
	if el := sendEnd.Sub(start.Add(time.Duration(warmN) * interval)).Seconds(); el > 0 {
		res.SentRate = float64(res.Sent) / el
	}
	var all, after hist.H
	for _, r := range rs {
		r.mu.Lock()
		all.Merge(&r.h)
		for n := warmN; n < int64(len(r.recv)); n++ {
			// Delivery counted from the send's answer: the socket's part.
			// Negative (the frame beat the HTTP answer) counts as 0.
			if a := answered[n].Load(); a != 0 && r.recv[n] != 0 {
				after.Record(time.Duration(r.recv[n] - a))
			}
		}
		r.mu.Unlock()
	}
	res.Expected = res.Sent * int64(len(rs))
	res.Received = int64(all.Count())
	res.Missing = max(res.Expected-res.Received, 0)
	res.P50MS, res.P95MS, res.P99MS, res.MaxMS = ms(all.Quantile(0.5)), ms(all.Quantile(0.95)), ms(all.Quantile(0.99)), ms(all.Max())
	res.SendP50MS, res.SendP99MS = ms(sendH.Quantile(0.5)), ms(sendH.Quantile(0.99))
	res.AfterAnswerP50MS, res.AfterAnswerP99MS = ms(after.Quantile(0.5)), ms(after.Quantile(0.99))

	fmt.Fprintf(stdout, "%-9s %.0f msg/s scheduled, %.0f/s sent ok (%d errors, %d late)  delivered %d/%d  p50 %.2fms  p95 %.2fms  p99 %.2fms  max %.2fms  (send p50 %.2fms p99 %.2fms; after the send's answer p50 %.2fms p99 %.2fms)\n",
		res.Target, res.Rate, res.SentRate, res.Errors, res.Late, res.Received, res.Expected, res.P50MS, res.P95MS, res.P99MS, res.MaxMS,
		res.SendP50MS, res.SendP99MS, res.AfterAnswerP50MS, res.AfterAnswerP99MS)
	if res.FirstError != "" {
		fmt.Fprintf(stdout, "  first error: %s\n", res.FirstError)
	}
	return writeResult(*out, res)
}

// benchConversations creates n contacts (users) and a conversation from
// each, returning the conversation and contact ids.
func benchConversations(ctx context.Context, c *client, n int) (convs, contacts []string, err error) {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range n {
		var ct struct {
			ID string `json:"id"`
		}
		ext := fmt.Sprintf("wsbench-%s-%d", run, i)
		if err := c.do(ctx, http.MethodPost, "/contacts", map[string]any{"role": "user", "external_id": ext, "name": "Bench visitor " + strconv.Itoa(i)}, &ct); err != nil {
			return nil, nil, fmt.Errorf("create contact: %w", err)
		}
		var conv struct {
			ConversationID string `json:"conversation_id"`
		}
		if err := c.do(ctx, http.MethodPost, "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": ct.ID}, "body": "benchmark conversation"}, &conv); err != nil {
			return nil, nil, fmt.Errorf("create conversation: %w", err)
		}
		convs, contacts = append(convs, conv.ConversationID), append(contacts, ct.ID)
	}
	return convs, contacts, nil
}

// messengerConversations boots n visitors, each starting a conversation in
// the Messenger, and returns the conversation ids and session tokens.
func messengerConversations(ctx context.Context, c *client, n int) (convs, sessions []string, err error) {
	d := &wsDialer{}
	if err := d.prepareMessenger(ctx, c, n); err != nil {
		return nil, nil, err
	}
	for _, s := range d.sessions {
		var conv struct {
			ID string `json:"id"`
		}
		if err := c.doAs(ctx, s, http.MethodPost, "/messenger/v1/conversations", map[string]any{"body": "benchmark conversation"}, &conv); err != nil {
			return nil, nil, fmt.Errorf("start a Messenger conversation: %w", err)
		}
		convs, sessions = append(convs, conv.ID), append(sessions, s)
	}
	return convs, sessions, nil
}

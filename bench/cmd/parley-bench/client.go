package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client calls Parley's REST API.
type client struct {
	base  string
	token string
	http  *http.Client
}

// newTransport is tuned for a closed-loop benchmark: one kept-alive
// connection per concurrent worker, no compression, no HTTP/2.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil, // only ever 127.0.0.1
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     16 << 10,
		ReadBufferSize:      32 << 10,
	}
}

func newClient(base, token string, conns int) (*client, error) {
	if err := checkLocal(base); err != nil {
		return nil, err
	}
	return &client{base: strings.TrimSuffix(base, "/"), token: token,
		http: &http.Client{Transport: newTransport(conns), Timeout: 60 * time.Second}}, nil
}

// checkLocal refuses to aim the benchmark anywhere but this machine.
func checkLocal(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to benchmark %s: only loopback addresses (127.0.0.1, ::1, localhost) are allowed", host)
}

// apiError is a non-2xx answer.
type apiError struct {
	Status int
	Code   string
	Msg    string
}

func (e *apiError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Msg)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Msg)
}

// missingRoute reports whether err says the endpoint does not exist (yet):
// Parley's catch-all 404 or a 405 for an unsupported method.
func missingRoute(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && (ae.Status == http.StatusMethodNotAllowed ||
		(ae.Status == http.StatusNotFound && strings.HasPrefix(ae.Msg, "The requested resource")))
}

func (c *client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Intercom-Version", "2.14")
	return req, nil
}

// do sends a request and decodes a 2xx JSON answer into out (if not nil).
func (c *client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, out)
}

func (c *client) send(req *http.Request, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return decodeAPIError(resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decoding answer: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

func decodeAPIError(status int, body []byte) error {
	var el struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if json.Unmarshal(body, &el) == nil && len(el.Errors) > 0 {
		return &apiError{Status: status, Code: el.Errors[0].Code, Msg: el.Errors[0].Message}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return &apiError{Status: status, Msg: msg}
}

// listPage is the part of a GET /contacts answer the benchmark reads.
type listPage struct {
	Data []struct {
		ID         string `json:"id"`
		ExternalID string `json:"external_id"`
		Name       string `json:"name"`
	} `json:"data"`
	TotalCount int `json:"total_count"`
	Pages      struct {
		Next *struct {
			StartingAfter string `json:"starting_after"`
		} `json:"next"`
	} `json:"pages"`
}

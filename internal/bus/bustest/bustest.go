// Package bustest finds the NATS server tests use.
package bustest

import (
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// NATSURL returns PARLEY_TEST_NATS_URL (default nats://127.0.0.1:4222) if a
// server answers there. A missing server skips the test, and fails it under
// CI=true.
func NATSURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PARLEY_TEST_NATS_URL")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	host := u
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		host = p.Host
	}
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("NATS is not reachable at %s but CI=true: NATS tests must run (%v)", u, err)
		}
		t.Skipf("NATS not reachable at %s: %v", u, err)
	}
	c.Close()
	return u
}

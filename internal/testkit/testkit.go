// Package testkit holds helpers shared by tests of several packages: the
// headless Chromium the browser tests drive, and a WebSocket frame reader.
package testkit

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/coder/websocket"
)

// Chromium returns the path of a Chromium for the browser tests
// (PARLEY_TEST_CHROMIUM, else Debian's). Without one the test fails under
// CI=true (the browser tests must run there) and is skipped elsewhere.
func Chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("PARLEY_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found (apt-get install chromium, or set PARLEY_TEST_CHROMIUM) but CI=true: the browser test must run")
	}
	t.Skip("no Chromium: apt-get install chromium, or set PARLEY_TEST_CHROMIUM")
	return ""
}

// Frames reads ws's JSON frames into a channel (buffered n) until the
// socket ends, then closes it.
func Frames(ws *websocket.Conn, n int) <-chan map[string]any {
	frames := make(chan map[string]any, n)
	go func() {
		defer close(frames)
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f map[string]any
			_ = json.Unmarshal(data, &f)
			frames <- f
		}
	}()
	return frames
}

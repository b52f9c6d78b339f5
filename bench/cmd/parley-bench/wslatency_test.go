package main

import (
	"testing"
	"time"
)

func TestMarkerSurvivesAFrame(t *testing.T) {
	at := time.Unix(1700000000, 123456789)
	// The marker as it comes back inside an event frame (HTML body of a
	// part, after an earlier marker in the same frame).
	frame := []byte(`{"type":"event","item":{"source":{"body":"<p>wsb1x1z</p>"},"parts":[{"body":"<p>` + marker(at, 4242) + `</p>"}]}}`)
	sent, n, ok := parseMarker(frame)
	if !ok || sent != at.UnixNano() || n != 4242 {
		t.Fatalf("parseMarker = %d, %d, %v; want %d, 4242, true", sent, n, ok, at.UnixNano())
	}
	for _, bad := range []string{`{"type":"welcome"}`, `wsbx1z`, `wsb12x`, `wsb12xz`, `wsb1a2x3z`} {
		if _, _, ok := parseMarker([]byte(bad)); ok {
			t.Errorf("parseMarker(%q) found a marker", bad)
		}
	}
}

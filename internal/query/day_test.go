package query

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata"
)

// TestDayBounds checks that dayBounds returns exactly the first second of
// the local calendar day containing t and the first second of the next
// day, in zones with DST, transitions at midnight, a skipped day (Apia,
// 2011-12-30) and non-hour offsets.
func TestDayBounds(t *testing.T) {
	zones := []string{
		"UTC", "America/New_York", "America/Sao_Paulo", "America/Havana", "Asia/Beirut",
		"Pacific/Apia", "Australia/Lord_Howe", "Asia/Kathmandu", "Europe/London",
	}
	r := rand.New(rand.NewPCG(1, 2))
	from := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	to := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for _, name := range zones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		date := func(u int64) [3]int {
			y, m, d := time.Unix(u, 0).In(loc).Date()
			return [3]int{y, int(m), d}
		}
		for ts := from; ts < to; ts += 3600 {
			u := ts + r.Int64N(3600)
			if r.IntN(4) == 0 {
				u = ts // often exactly on the hour, where transitions happen
			}
			start, next := dayBounds(u, loc)
			day := date(u)
			if date(start) != day || date(start-1) == day || date(next-1) != day || date(next) == day {
				t.Fatalf("%s: dayBounds(%d = %s) = [%s, %s)", name, u,
					time.Unix(u, 0).In(loc), time.Unix(start, 0).In(loc), time.Unix(next, 0).In(loc))
			}
		}
	}
}

func TestCmpIntFloat(t *testing.T) {
	const big = 1 << 62
	tests := []struct {
		i    int64
		f    float64
		want int
	}{
		{0, 0, 0}, {0, -0.0, 0}, {1, 0.5, 1}, {0, 0.5, -1}, {-1, -0.5, -1}, {-1, -1.5, 1},
		{3, 3, 0}, {big, big, 0}, {big + 1, big, 1}, {big - 1, big, -1},
		{1<<63 - 1, 1 << 63, -1}, {-1 << 63, -(1 << 63), 0}, {-1 << 63, -1e19, 1},
	}
	for _, tt := range tests {
		if got := cmpIntFloat(tt.i, tt.f); got != tt.want {
			t.Errorf("cmpIntFloat(%d, %g) = %d, want %d", tt.i, tt.f, got, tt.want)
		}
	}
}

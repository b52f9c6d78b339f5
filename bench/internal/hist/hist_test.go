package hist

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsAreContiguous(t *testing.T) {
	// Every value maps to a bucket whose bounds contain it, and bucket i+1
	// starts right after bucket i ends.
	for i := 0; i < buckets-1; i++ {
		_, hi := bounds(i)
		lo2, _ := bounds(i + 1)
		if lo2 != hi+1 {
			t.Fatalf("bucket %d ends at %d but bucket %d starts at %d", i, hi, i+1, lo2)
		}
	}
	for _, v := range []uint64{0, 1, 255, 256, 257, 1000, 123456789, 1 << 40, 1<<63 + 12345, ^uint64(0)} {
		lo, hi := bounds(index(v))
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d = [%d, %d]", v, index(v), lo, hi)
		}
	}
}

func TestQuantilesMatchExactSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h H
	var all []time.Duration
	for range 100000 {
		// Log-normal-ish latencies from ~50µs to a few hundred ms.
		d := time.Duration(50e3 * (1 + r.ExpFloat64()*r.ExpFloat64()*100))
		h.Record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999, 1} {
		exact := all[int(q*float64(len(all)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/128+1 {
			t.Errorf("p%v = %v, exact %v (allowed +%v)", q*100, got, exact, exact/128)
		}
	}
	if h.Max() != all[len(all)-1] || h.Min() != all[0] || h.Count() != uint64(len(all)) {
		t.Errorf("max %v min %v count %d; want %v %v %d", h.Max(), h.Min(), h.Count(), all[len(all)-1], all[0], len(all))
	}
}

func TestSmallValuesAreExactAndMergeAddsUp(t *testing.T) {
	var a, b H
	for v := 1; v <= 100; v++ {
		a.Record(time.Duration(v))
	}
	for v := 101; v <= 200; v++ {
		b.Record(time.Duration(v))
	}
	a.Merge(&b)
	a.Merge(&H{}) // merging an empty histogram changes nothing
	if a.Count() != 200 || a.Min() != 1 || a.Max() != 200 {
		t.Fatalf("count %d min %v max %v", a.Count(), a.Min(), a.Max())
	}
	for q, want := range map[float64]time.Duration{0.5: 100, 0.95: 190, 0.99: 198, 1: 200} {
		if got := a.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if a.Mean() != 100 { // (1+…+200)/200 = 100.5, truncated
		t.Errorf("mean %v", a.Mean())
	}
	var empty H
	if empty.Quantile(0.99) != 0 || empty.Mean() != 0 {
		t.Error("an empty histogram should report zeros")
	}
}

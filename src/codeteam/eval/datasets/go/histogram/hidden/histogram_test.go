package histogram

import (
	"math"
	"reflect"
	"sync"
	"testing"
)

func TestBuckets(t *testing.T) {
	bounds := []float64{1, 5, 10}
	h := New(bounds)
	bounds[0] = 100 // New copies
	for _, v := range []float64{0.5, 1, 1.5, 5, 7, 10, 11, -3} {
		h.Observe(v)
	}
	s := h.Snapshot()
	if want := []uint64{3, 2, 2, 1}; !reflect.DeepEqual(s.Counts, want) {
		t.Fatalf("Counts = %v, want %v", s.Counts, want)
	}
	if s.Count != 8 || s.Sum != 33 {
		t.Fatalf("Count, Sum = %d, %g; want 8, 33", s.Count, s.Sum)
	}
	s.Counts[0] = 99
	if h.Snapshot().Counts[0] != 3 {
		t.Fatal("Snapshot shares its Counts with the histogram")
	}
}

func TestQuantile(t *testing.T) {
	h := New([]float64{10, 20, 30})
	if q := h.Quantile(0.5); !math.IsNaN(q) {
		t.Fatalf("empty Quantile = %g, want NaN", q)
	}
	for _, v := range []float64{5, 15, 15, 25, 100} {
		h.Observe(v)
	}
	cases := map[float64]float64{0: 10, 0.2: 10, 0.21: 20, 0.6: 20, 0.61: 30, 0.8: 30, 0.81: math.Inf(1), 1: math.Inf(1)}
	for q, want := range cases {
		if got := h.Quantile(q); got != want {
			t.Errorf("Quantile(%g) = %g, want %g", q, got, want)
		}
	}
}

func TestBadBounds(t *testing.T) {
	for _, b := range [][]float64{{1, 1}, {2, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%v) did not panic", b)
				}
			}()
			New(b)
		}()
	}
	New(nil).Observe(3) // no bounds: one overflow bucket
}

func TestConcurrentObserveAndSnapshot(t *testing.T) {
	h := New([]float64{1, 2, 3})
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			<-start
			for i := 0; i < 500; i++ {
				h.Observe(float64((g + i) % 4))
			}
		}(g)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		var last uint64
		for i := 0; i < 200; i++ {
			s := h.Snapshot()
			if s.Count < last {
				t.Errorf("Count went back from %d to %d", last, s.Count)
			}
			last = s.Count
			h.Quantile(0.5)
		}
	}()
	close(start)
	wg.Wait()
	s := h.Snapshot()
	var total uint64
	for _, c := range s.Counts {
		total += c
	}
	if s.Count != 2000 || total != 2000 || s.Sum != 3000 {
		t.Fatalf("after the run: Count %d, sum of Counts %d, Sum %g", s.Count, total, s.Sum)
	}
}

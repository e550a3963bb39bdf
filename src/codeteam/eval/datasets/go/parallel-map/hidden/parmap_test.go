package parmap

import (
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestOrderKept(t *testing.T) {
	in := make([]int, 200)
	for i := range in {
		in[i] = i
	}
	out, err := Map(in, 7, func(x int) (string, error) {
		if x%3 == 0 {
			time.Sleep(50 * time.Microsecond)
		}
		return strconv.Itoa(x * 2), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range out {
		if s != strconv.Itoa(i*2) {
			t.Fatalf("out[%d] = %q", i, s)
		}
	}
}

func TestEmptyInput(t *testing.T) {
	out, err := Map([]int{}, 3, func(x int) (int, error) { return x, nil })
	if err != nil || out == nil || len(out) != 0 {
		t.Fatalf("Map(empty) = %#v, %v", out, err)
	}
}

func TestBoundedConcurrency(t *testing.T) {
	for _, workers := range []int{1, 3, 5} {
		var running, peak int32
		in := make([]int, 40)
		_, err := Map(in, workers, func(int) (int, error) {
			n := atomic.AddInt32(&running, 1)
			for {
				p := atomic.LoadInt32(&peak)
				if n <= p || atomic.CompareAndSwapInt32(&peak, p, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			atomic.AddInt32(&running, -1)
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if peak > int32(workers) {
			t.Fatalf("workers=%d: %d calls ran at once", workers, peak)
		}
		if workers > 1 && peak < 2 {
			t.Fatalf("workers=%d: calls never overlapped (peak %d)", workers, peak)
		}
	}
}

func TestZeroWorkersMeansOne(t *testing.T) {
	out, err := Map([]int{1, 2, 3}, 0, func(x int) (int, error) { return x * x, nil })
	if err != nil || fmt.Sprint(out) != "[1 4 9]" {
		t.Fatalf("Map = %v, %v", out, err)
	}
}

var errBad = errors.New("bad")

func TestErrorReturned(t *testing.T) {
	in := make([]int, 30)
	for i := range in {
		in[i] = i
	}
	out, err := Map(in, 4, func(x int) (int, error) {
		if x == 13 {
			return 0, errBad
		}
		return x, nil
	})
	if !errors.Is(err, errBad) || out != nil {
		t.Fatalf("Map = %v, %v; want nil, bad", out, err)
	}
}

func TestEveryCallFails(t *testing.T) {
	in := make([]int, 64)
	var started, finished int32
	out, err := Map(in, 8, func(int) (int, error) {
		atomic.AddInt32(&started, 1)
		// wait (briefly) for a second call to start, so that calls fail at once
		for end := time.Now().Add(50 * time.Millisecond); atomic.LoadInt32(&started) < 2 && time.Now().Before(end); {
			time.Sleep(50 * time.Microsecond)
		}
		time.Sleep(100 * time.Microsecond)
		atomic.AddInt32(&finished, 1)
		return 0, fmt.Errorf("failed: %w", errBad)
	})
	if !errors.Is(err, errBad) || out != nil {
		t.Fatalf("Map = %v, %v", out, err)
	}
	if atomic.LoadInt32(&started) != atomic.LoadInt32(&finished) {
		t.Fatal("Map returned before its calls finished")
	}
}

package lazy

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestComputedOnce(t *testing.T) {
	var calls int32
	v := New(func() (string, error) { atomic.AddInt32(&calls, 1); return "hello", nil })
	if calls != 0 {
		t.Fatal("New called f")
	}
	for i := 0; i < 3; i++ {
		if s, err := v.Get(); s != "hello" || err != nil {
			t.Fatalf("Get = %q, %v", s, err)
		}
	}
	if calls != 1 {
		t.Fatalf("f called %d times, want 1", calls)
	}
}

func TestErrorIsRetried(t *testing.T) {
	var calls int32
	boom := errors.New("boom")
	v := New(func() (int, error) {
		if atomic.AddInt32(&calls, 1) < 3 {
			return 99, boom
		}
		return 42, nil
	})
	for i := 0; i < 2; i++ {
		if n, err := v.Get(); !errors.Is(err, boom) || n != 0 {
			t.Fatalf("Get #%d = %d, %v; want 0, boom", i+1, n, err)
		}
	}
	if n, err := v.Get(); n != 42 || err != nil {
		t.Fatalf("Get #3 = %d, %v; want 42, nil", n, err)
	}
	if n, err := v.Get(); n != 42 || err != nil || calls != 3 {
		t.Fatalf("Get #4 = %d, %v after %d calls", n, err, calls)
	}
}

func TestConcurrentFirstUse(t *testing.T) {
	var calls, running int32
	v := New(func() ([]int, error) {
		if atomic.AddInt32(&running, 1) > 1 {
			t.Error("f ran twice at the same time")
		}
		atomic.AddInt32(&calls, 1)
		time.Sleep(5 * time.Millisecond)
		atomic.AddInt32(&running, -1)
		return []int{1, 2, 3}, nil
	})
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if s, err := v.Get(); err != nil || len(s) != 3 {
				t.Errorf("Get = %v, %v", s, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if calls != 1 {
		t.Fatalf("f called %d times, want 1", calls)
	}
}

func TestConcurrentFastPath(t *testing.T) {
	v := New(func() (int, error) { return 7, nil })
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < 100; i++ {
				if n, _ := v.Get(); n != 7 {
					t.Errorf("Get = %d", n)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
}

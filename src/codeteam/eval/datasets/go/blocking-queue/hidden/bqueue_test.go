package bqueue

import (
	"context"
	"errors"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestFIFOAndLen(t *testing.T) {
	ctx := context.Background()
	q := New[int](3)
	for i := 1; i <= 3; i++ {
		if err := q.Put(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if q.Len() != 3 {
		t.Fatalf("Len = %d", q.Len())
	}
	for i := 1; i <= 3; i++ {
		if v, err := q.Get(ctx); err != nil || v != i {
			t.Fatalf("Get = %d, %v; want %d", v, err, i)
		}
	}
}

func TestContextEndsWaits(t *testing.T) {
	q := New[string](1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := q.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get on empty queue: %v", err)
	}
	q.Put(context.Background(), "a")
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := q.Put(ctx2, "b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put on full queue with a cancelled context: %v", err)
	}
	if q.Len() != 1 {
		t.Fatal("a failed Put changed the queue")
	}
}

func TestCloseDrainsThenReportsClosed(t *testing.T) {
	// Many rounds: a Get that lets a ready close race a queued item (a select picks at
	// random among ready cases) must not pass by luck.
	ctx := context.Background()
	for round := 0; round < 100; round++ {
		q := New[int](4)
		q.Put(ctx, 1)
		q.Put(ctx, 2)
		q.Close()
		q.Close()
		if err := q.Put(ctx, 3); !errors.Is(err, ErrClosed) {
			t.Fatalf("Put after Close: %v", err)
		}
		for _, want := range []int{1, 2} {
			if v, err := q.Get(ctx); err != nil || v != want {
				t.Fatalf("Get after Close = %d, %v; want %d (queued items are still handed out)", v, err, want)
			}
		}
		if _, err := q.Get(ctx); !errors.Is(err, ErrClosed) {
			t.Fatalf("Get on closed empty queue: %v", err)
		}
	}
}

func TestCloseWakesWaiters(t *testing.T) {
	q := New[int](1)
	q.Put(context.Background(), 0)
	errs := make(chan error, 2)
	go func() { errs <- q.Put(context.Background(), 1) }() // blocked: full
	empty := New[int](1)
	go func() { _, err := empty.Get(context.Background()); errs <- err }() // blocked: empty
	time.Sleep(10 * time.Millisecond)
	q.Close()
	empty.Close()
	for i := 0; i < 2; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("waiter woke with %v, want ErrClosed", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Close did not wake a waiter")
		}
	}
}

func TestProducersConsumers(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx := context.Background()
	q := New[int](5)
	var got []int
	var mu sync.Mutex
	var consumers sync.WaitGroup
	for c := 0; c < 4; c++ {
		consumers.Add(1)
		go func() {
			defer consumers.Done()
			for {
				v, err := q.Get(ctx)
				if errors.Is(err, ErrClosed) {
					return
				}
				mu.Lock()
				got = append(got, v)
				mu.Unlock()
			}
		}()
	}
	var producers sync.WaitGroup
	for p := 0; p < 4; p++ {
		producers.Add(1)
		go func(p int) {
			defer producers.Done()
			for i := 0; i < 250; i++ {
				if err := q.Put(ctx, p*1000+i); err != nil {
					t.Error(err)
				}
			}
		}(p)
	}
	producers.Wait()
	q.Close()
	consumers.Wait()
	if len(got) != 1000 {
		t.Fatalf("consumers got %d items, want 1000", len(got))
	}
	sort.Ints(got)
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("item %d handed out twice", got[i])
		}
	}
	time.Sleep(5 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines leaked", after-before)
	}
}

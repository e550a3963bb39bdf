package ratelimit

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func near(a, b float64) bool             { return math.Abs(a-b) < 1e-9 }
func newClock() *clock                   { return &clock{time.Unix(1_700_000_000, 0)} }

func TestBurstThenRefill(t *testing.T) {
	c := newClock()
	l := New(2, 3, c.now) // 2 tokens/s, at most 3
	for i := 0; i < 3; i++ {
		if !l.Allow() {
			t.Fatalf("Allow #%d refused from a full bucket", i+1)
		}
	}
	if l.Allow() {
		t.Fatal("Allow granted from an empty bucket")
	}
	c.advance(250 * time.Millisecond) // half a token
	if l.Allow() || !near(l.Tokens(), 0.5) {
		t.Fatalf("after 250ms: Tokens = %g, want 0.5 and no token", l.Tokens())
	}
	c.advance(250 * time.Millisecond)
	if !l.Allow() {
		t.Fatal("a whole token accrued after 500ms, refused")
	}
}

func TestCappedAtBurst(t *testing.T) {
	c := newClock()
	l := New(10, 4, c.now)
	l.AllowN(4)
	c.advance(time.Hour)
	if got := l.Tokens(); !near(got, 4) {
		t.Fatalf("after an hour idle: Tokens = %g, want 4 (the burst)", got)
	}
	if !l.AllowN(4) || l.AllowN(1) {
		t.Fatal("burst of 4 not available exactly")
	}
}

func TestAllowN(t *testing.T) {
	c := newClock()
	l := New(1, 5, c.now)
	if !l.AllowN(0) || !l.AllowN(-3) || !near(l.Tokens(), 5) {
		t.Fatal("AllowN(n <= 0) must succeed and take nothing")
	}
	if l.AllowN(6) || !near(l.Tokens(), 5) {
		t.Fatal("AllowN above the tokens must take none")
	}
	if !l.AllowN(5) || l.AllowN(1) {
		t.Fatal("AllowN(5) of 5")
	}
}

func TestClockGoingBack(t *testing.T) {
	c := newClock()
	l := New(1, 2, c.now)
	l.AllowN(2)
	c.advance(-time.Minute)
	if got := l.Tokens(); !near(got, 0) {
		t.Fatalf("clock went back: Tokens = %g, want 0", got)
	}
	c.advance(time.Minute + time.Second)
	if got := l.Tokens(); got < 0 || got > 1+1e-9 {
		t.Fatalf("Tokens = %g after the clock came back", got)
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range []struct {
		rate  float64
		burst int
	}{{0, 1}, {-1, 1}, {1, 0}, {math.NaN(), 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%g, %d) did not panic", args.rate, args.burst)
				}
			}()
			New(args.rate, args.burst, time.Now)
		}()
	}
}

func TestConcurrentUse(t *testing.T) {
	frozen := time.Unix(1_700_000_000, 0)
	l := New(1, 1000, func() time.Time { return frozen })
	var granted int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := l.Tokens(); n < 0 || n > 1000 {
				t.Errorf("Tokens = %g mid-run", n)
			}
		}
	}()
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if l.Allow() {
					atomic.AddInt64(&granted, 1)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-watched
	if granted != 1000 || l.Tokens() != 0 {
		t.Fatalf("granted %d of 1600 asks from a bucket of 1000 with a frozen clock", granted)
	}
}

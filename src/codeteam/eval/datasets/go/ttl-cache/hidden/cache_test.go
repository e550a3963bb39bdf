package ttlcache

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestSetGet(t *testing.T) {
	c := NewWithClock[int](time.Minute, newClock().now)
	if _, ok := c.Get("a"); ok {
		t.Fatal("empty cache returned a value")
	}
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("a", 3)
	if v, ok := c.Get("a"); !ok || v != 3 {
		t.Fatalf("Get(a) = %v, %v; want 3, true", v, ok)
	}
	if v, ok := c.Get("b"); !ok || v != 2 {
		t.Fatalf("Get(b) = %v, %v; want 2, true", v, ok)
	}
	if n := c.Len(); n != 2 {
		t.Fatalf("Len = %d, want 2", n)
	}
	c.Delete("a")
	c.Delete("missing")
	if _, ok := c.Get("a"); ok {
		t.Fatal("deleted key still present")
	}
}

func TestExpiryBoundary(t *testing.T) {
	clk := newClock()
	c := NewWithClock[string](10*time.Second, clk.now)
	c.Set("k", "v")
	clk.advance(10*time.Second - time.Nanosecond)
	if v, ok := c.Get("k"); !ok || v != "v" {
		t.Fatal("entry expired before its TTL")
	}
	clk.advance(time.Nanosecond)
	if _, ok := c.Get("k"); ok {
		t.Fatal("entry still live at exactly set time + ttl")
	}
	if n := c.Len(); n != 0 {
		t.Fatalf("Len = %d after expiry, want 0", n)
	}
}

func TestSetRestartsTTL(t *testing.T) {
	clk := newClock()
	c := NewWithClock[int](time.Second, clk.now)
	c.Set("k", 1)
	clk.advance(900 * time.Millisecond)
	c.Set("k", 2)
	clk.advance(900 * time.Millisecond)
	if v, ok := c.Get("k"); !ok || v != 2 {
		t.Fatalf("Get = %v, %v; want 2, true (Set restarts the TTL)", v, ok)
	}
}

func TestPurgeAndLen(t *testing.T) {
	clk := newClock()
	c := NewWithClock[int](time.Second, clk.now)
	for i := 0; i < 5; i++ {
		c.Set(fmt.Sprint("old", i), i)
	}
	clk.advance(500 * time.Millisecond)
	for i := 0; i < 3; i++ {
		c.Set(fmt.Sprint("new", i), i)
	}
	clk.advance(500 * time.Millisecond)
	if n := c.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
	if n := c.Purge(); n != 5 {
		t.Fatalf("Purge = %d, want 5", n)
	}
	if n := c.Purge(); n != 0 {
		t.Fatalf("second Purge = %d, want 0", n)
	}
	if n := c.Len(); n != 3 {
		t.Fatalf("Len after Purge = %d, want 3", n)
	}
}

func TestStats(t *testing.T) {
	clk := newClock()
	c := NewWithClock[int](time.Second, clk.now)
	c.Get("x")
	c.Set("x", 1)
	c.Get("x")
	c.Get("x")
	clk.advance(time.Second)
	c.Get("x")
	if h, m := c.Stats(); h != 2 || m != 2 {
		t.Fatalf("Stats = %d hits, %d misses; want 2, 2", h, m)
	}
}

func TestRealClock(t *testing.T) {
	c := New[int](time.Hour)
	c.Set("a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatal("New: value not found")
	}
}

func TestConcurrentUse(t *testing.T) {
	clk := newClock()
	c := NewWithClock[int](time.Second, clk.now)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				k := fmt.Sprint(i % 17)
				switch i % 5 {
				case 0:
					c.Set(k, g)
				case 1:
					c.Delete(k)
				case 2:
					c.Len()
				case 3:
					c.Purge()
					c.Stats()
				default:
					c.Get(k)
				}
			}
		}(g)
	}
	for i := 0; i < 50; i++ {
		clk.advance(10 * time.Millisecond)
	}
	wg.Wait()
	c.Set("final", 7)
	if v, ok := c.Get("final"); !ok || v != 7 {
		t.Fatal("cache broken after concurrent use")
	}
}

func TestConcurrentReaders(t *testing.T) {
	c := New[int](time.Hour)
	for i := 0; i < 10; i++ {
		c.Set(fmt.Sprint(i), i)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < 200; i++ {
				if v, ok := c.Get(fmt.Sprint(i % 12)); ok && v != i%12 {
					t.Errorf("Get(%d) = %d", i%12, v)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := c.Len(); n != 10 {
		t.Fatalf("Len = %d, want 10", n)
	}
}

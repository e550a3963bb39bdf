package pubsub

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

func drain[T any](ch <-chan T) []T {
	var out []T
	for v := range ch {
		out = append(out, v)
	}
	return out
}

func TestFanOutAndUnsubscribe(t *testing.T) {
	b := New[int]()
	a, unsubA := b.Subscribe(4)
	c, unsubC := b.Subscribe(4)
	if n := b.Publish(1); n != 2 {
		t.Fatalf("Publish = %d, want 2", n)
	}
	unsubA()
	unsubA()
	if n := b.Publish(2); n != 1 {
		t.Fatalf("Publish after unsubscribe = %d, want 1", n)
	}
	if got := drain(a); len(got) != 1 || got[0] != 1 {
		t.Fatalf("a got %v, want [1]", got)
	}
	unsubC()
	if got := drain(c); len(got) != 2 || got[1] != 2 {
		t.Fatalf("c got %v, want [1 2]", got)
	}
}

func TestFullBufferMissesWithoutBlocking(t *testing.T) {
	b := New[string]()
	ch, unsub := b.Subscribe(1)
	zero, unsubZero := b.Subscribe(0)
	defer unsubZero()
	if n := b.Publish("x"); n != 1 {
		t.Fatalf("Publish = %d, want 1", n)
	}
	if n := b.Publish("y"); n != 0 {
		t.Fatalf("Publish to a full buffer = %d, want 0", n)
	}
	unsub()
	if got := drain(ch); len(got) != 1 || got[0] != "x" {
		t.Fatalf("got %v", got)
	}
	select {
	case v := <-zero:
		t.Fatalf("unbuffered subscriber with no reader received %q", v)
	default:
	}
}

func TestClose(t *testing.T) {
	b := New[int]()
	ch, unsub := b.Subscribe(2)
	b.Publish(5)
	b.Close()
	b.Close()
	unsub()
	if got := drain(ch); len(got) != 1 || got[0] != 5 {
		t.Fatalf("got %v", got)
	}
	if n := b.Publish(6); n != 0 {
		t.Fatalf("Publish after Close = %d", n)
	}
	late, unsubLate := b.Subscribe(1)
	unsubLate()
	if _, ok := <-late; ok {
		t.Fatal("Subscribe after Close: channel not closed")
	}
}

func TestConcurrentUse(t *testing.T) {
	b := New[int]()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for s := 0; s < 4; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < 20; i++ {
				ch, unsub := b.Subscribe(8)
				if i%2 == 0 {
					unsub()
				}
				go func() {
					for range ch {
					}
				}()
				if i%2 == 1 && i > 15 {
					unsub()
				}
			}
		}()
	}
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			<-start
			for i := 0; i < 200; i++ {
				b.Publish(p*1000 + i)
			}
		}(p)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		for i := 0; i < 100; i++ {
			b.Publish(-1)
		}
		b.Close()
	}()
	close(start)
	wg.Wait()
	b.Close()
	if n := b.Publish(0); n != 0 {
		t.Fatalf("Publish after Close = %d", n)
	}
}

func TestPublishWhileClosing(t *testing.T) {
	for round := 0; round < 3; round++ {
		b := New[int]()
		ch, unsub := b.Subscribe(1 << 16)
		var wg sync.WaitGroup
		for p := 0; p < 2; p++ {
			wg.Add(1)
			go func() { // publishes until it sees the broker closed
				defer wg.Done()
				for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
					if b.Publish(1) == 0 {
						return
					}
					runtime.Gosched()
				}
				t.Error("Publish kept delivering after Close")
			}()
		}
		<-ch // a publisher is running: close under it
		b.Close()
		wg.Wait()
		unsub()
	}
}

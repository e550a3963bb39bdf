// Package pubsub is an in-process publish/subscribe broker.
package pubsub

import "sync"

// Broker fans published values out to subscribers.
type Broker[T any] struct {
	mu     sync.Mutex
	next   int
	subs   map[int]chan T
	closed bool
}

// New returns a broker without subscribers.
func New[T any]() *Broker[T] { return &Broker[T]{subs: map[int]chan T{}} }

// Subscribe returns a channel of published values and a function that unsubscribes.
func (b *Broker[T]) Subscribe(buffer int) (<-chan T, func()) {
	ch := make(chan T, buffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	id := b.next
	b.next++
	b.subs[id] = ch
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if c, ok := b.subs[id]; ok {
			delete(b.subs, id)
			close(c)
		}
	}
}

// Publish offers v to every subscriber without blocking; it returns how many received it.
func (b *Broker[T]) Publish(v T) int {
	if b.closed { // cheap early exit; the subscriber map is only read under the lock
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, ch := range b.subs {
		select {
		case ch <- v:
			n++
		default:
		}
	}
	return n
}

// Close closes every subscriber's channel.
func (b *Broker[T]) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for id, ch := range b.subs {
		delete(b.subs, id)
		close(ch)
	}
}

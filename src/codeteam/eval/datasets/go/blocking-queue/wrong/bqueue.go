// Package bqueue is a bounded blocking FIFO queue.
package bqueue

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by Put after Close, and by Get once a closed queue is empty.
var ErrClosed = errors.New("queue closed")

// Queue is a bounded FIFO queue safe for concurrent producers and consumers.
type Queue[T any] struct {
	items  chan T
	closed chan struct{}
	once   sync.Once
}

// New returns an empty queue holding at most capacity items.
func New[T any](capacity int) *Queue[T] {
	if capacity < 1 {
		panic("bqueue: capacity must be at least 1")
	}
	return &Queue[T]{items: make(chan T, capacity), closed: make(chan struct{})}
}

// Put appends v, waiting while the queue is full.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	select {
	case <-q.closed:
		return ErrClosed
	default:
	}
	select {
	case q.items <- v:
		return nil
	case <-q.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Get removes the oldest item, waiting while the queue is empty.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	var zero T
	select {
	case <-q.closed:
		return zero, ErrClosed
	case v := <-q.items:
		return v, nil
	default:
	}
	select {
	case v := <-q.items:
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-q.closed:
		select { // an item put just before the close is still handed out
		case v := <-q.items:
			return v, nil
		default:
			return zero, ErrClosed
		}
	}
}

// Close closes the queue.
func (q *Queue[T]) Close() { q.once.Do(func() { close(q.closed) }) }

// Len is the number of queued items.
func (q *Queue[T]) Len() int { return len(q.items) }

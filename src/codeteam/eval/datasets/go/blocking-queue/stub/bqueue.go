// Package bqueue is a bounded blocking FIFO queue.
package bqueue

import (
	"context"
	"errors"
)

// ErrClosed is returned by Put after Close, and by Get once a closed queue is empty.
var ErrClosed = errors.New("queue closed")

// Queue is a bounded FIFO queue safe for concurrent producers and consumers.
type Queue[T any] struct{}

// New returns an empty queue holding at most capacity items.
func New[T any](capacity int) *Queue[T] { panic("not implemented") }

// Put appends v, waiting while the queue is full.
func (q *Queue[T]) Put(ctx context.Context, v T) error { panic("not implemented") }

// Get removes the oldest item, waiting while the queue is empty.
func (q *Queue[T]) Get(ctx context.Context) (T, error) { panic("not implemented") }

// Close closes the queue.
func (q *Queue[T]) Close() { panic("not implemented") }

// Len is the number of queued items.
func (q *Queue[T]) Len() int { panic("not implemented") }

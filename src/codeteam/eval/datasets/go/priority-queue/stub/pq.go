// Package pq is a priority queue on a binary heap.
package pq

// Queue pops its least element first, as ordered by less.
type Queue[T any] struct{}

// New returns an empty queue ordered by less.
func New[T any](less func(a, b T) bool) *Queue[T] { panic("not implemented") }

// Push adds x.
func (q *Queue[T]) Push(x T) { panic("not implemented") }

// Pop removes and returns the least element.
func (q *Queue[T]) Pop() (T, bool) { panic("not implemented") }

// Peek returns the least element without removing it.
func (q *Queue[T]) Peek() (T, bool) { panic("not implemented") }

// Len is the number of elements.
func (q *Queue[T]) Len() int { panic("not implemented") }

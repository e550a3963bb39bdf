// Package ring is a fixed-size ring buffer.
package ring

// Buffer keeps the most recent values, up to its capacity.
type Buffer[T any] struct{}

// New returns an empty buffer; it panics if capacity < 1.
func New[T any](capacity int) *Buffer[T] { panic("not implemented") }

// Push appends v, dropping and returning the oldest value when full.
func (b *Buffer[T]) Push(v T) (evicted T, ok bool) { panic("not implemented") }

// Pop removes and returns the oldest value.
func (b *Buffer[T]) Pop() (T, bool) { panic("not implemented") }

// At returns the i-th oldest value.
func (b *Buffer[T]) At(i int) (T, bool) { panic("not implemented") }

// Len is the number of values held.
func (b *Buffer[T]) Len() int { panic("not implemented") }

// Slice returns the values, oldest first.
func (b *Buffer[T]) Slice() []T { panic("not implemented") }

// Package ring is a fixed-size ring buffer.
package ring

// Buffer keeps the most recent values, up to its capacity.
type Buffer[T any] struct {
	data  []T
	start int // index of the oldest value
	n     int
}

// New returns an empty buffer; it panics if capacity < 1.
func New[T any](capacity int) *Buffer[T] {
	if capacity < 1 {
		panic("ring: capacity must be at least 1")
	}
	return &Buffer[T]{data: make([]T, capacity)}
}

// Push appends v, dropping and returning the oldest value when full.
func (b *Buffer[T]) Push(v T) (evicted T, ok bool) {
	if b.n == len(b.data) {
		evicted, ok = b.data[b.start], true
		b.data[b.start] = v
		b.start = (b.start + 1) % len(b.data)
		return evicted, ok
	}
	b.data[(b.start+b.n)%len(b.data)] = v
	b.n++
	return evicted, false
}

// Pop removes and returns the oldest value.
func (b *Buffer[T]) Pop() (T, bool) {
	var zero T
	if b.n == 0 {
		return zero, false
	}
	v := b.data[b.start]
	b.data[b.start] = zero
	b.start = (b.start + 1) % len(b.data)
	b.n--
	return v, true
}

// At returns the i-th oldest value.
func (b *Buffer[T]) At(i int) (T, bool) {
	if i < 0 || i > b.n {
		var zero T
		return zero, false
	}
	return b.data[(b.start+i)%len(b.data)], true
}

// Len is the number of values held.
func (b *Buffer[T]) Len() int { return b.n }

// Slice returns the values, oldest first.
func (b *Buffer[T]) Slice() []T {
	out := make([]T, b.n)
	for i := range out {
		out[i] = b.data[(b.start+i)%len(b.data)]
	}
	return out
}

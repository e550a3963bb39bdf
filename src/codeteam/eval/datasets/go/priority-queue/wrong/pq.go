// Package pq is a priority queue on a binary heap.
package pq

// Queue pops its least element first, as ordered by less.
type Queue[T any] struct {
	less  func(a, b T) bool
	items []T
}

// New returns an empty queue ordered by less.
func New[T any](less func(a, b T) bool) *Queue[T] { return &Queue[T]{less: less} }

// Push adds x.
func (q *Queue[T]) Push(x T) {
	q.items = append(q.items, x)
	i := len(q.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.less(q.items[i], q.items[parent]) {
			break
		}
		q.items[i], q.items[parent] = q.items[parent], q.items[i]
		i = parent
	}
}

// Pop removes and returns the least element.
func (q *Queue[T]) Pop() (T, bool) {
	var zero T
	if len(q.items) == 0 {
		return zero, false
	}
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items[last] = zero
	q.items = q.items[:last]
	i, n := 0, len(q.items)
	for {
		smallest, l, r := i, 2*i+1, 2*i+2
		if l < n && q.less(q.items[l], q.items[smallest]) {
			smallest = l
		}
		if r < n-1 && q.less(q.items[r], q.items[smallest]) {
			smallest = r
		}
		if smallest == i {
			return top, true
		}
		q.items[i], q.items[smallest] = q.items[smallest], q.items[i]
		i = smallest
	}
}

// Peek returns the least element without removing it.
func (q *Queue[T]) Peek() (T, bool) {
	if len(q.items) == 0 {
		var zero T
		return zero, false
	}
	return q.items[0], true
}

// Len is the number of elements.
func (q *Queue[T]) Len() int { return len(q.items) }

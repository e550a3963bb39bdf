// Package lazy computes a value on first use.
package lazy

import "sync"

// Value is computed by f on first use; errors are retried on the next Get.
type Value[T any] struct {
	mu    sync.Mutex
	f     func() (T, error)
	done  bool
	value T
}

// New returns a Value computed by f.
func New[T any](f func() (T, error)) *Value[T] { return &Value[T]{f: f} }

// Get returns the value, computing it if it is not known yet.
func (v *Value[T]) Get() (T, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.done {
		return v.value, nil
	}
	value, err := v.f()
	v.value, v.done = value, true
	if err != nil {
		var zero T
		return zero, err
	}
	return value, nil
}

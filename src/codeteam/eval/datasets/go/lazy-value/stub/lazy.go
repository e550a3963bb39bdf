// Package lazy computes a value on first use.
package lazy

// Value is computed by f on first use; errors are retried on the next Get.
type Value[T any] struct{}

// New returns a Value computed by f.
func New[T any](f func() (T, error)) *Value[T] { panic("not implemented") }

// Get returns the value, computing it if it is not known yet.
func (v *Value[T]) Get() (T, error) { panic("not implemented") }

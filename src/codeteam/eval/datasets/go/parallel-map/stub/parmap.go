// Package parmap maps a function over a slice with bounded parallelism.
package parmap

// Map applies f to every element of in, running at most workers calls at once, and returns
// the results in input order. If any call fails, Map returns a nil slice and one of the
// errors; calls not yet started when a failure is seen may be skipped. workers < 1 counts
// as 1. Map returns only after every call it started has returned.
func Map[T, U any](in []T, workers int, f func(T) (U, error)) ([]U, error) {
	panic("not implemented")
}

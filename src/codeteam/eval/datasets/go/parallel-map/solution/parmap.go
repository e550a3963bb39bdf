// Package parmap maps a function over a slice with bounded parallelism.
package parmap

import (
	"sync"
	"sync/atomic"
)

// Map applies f to every element of in, running at most workers calls at once, and returns
// the results in input order. If any call fails, Map returns a nil slice and one of the
// errors; calls not yet started when a failure is seen may be skipped. workers < 1 counts
// as 1. Map returns only after every call it started has returned.
func Map[T, U any](in []T, workers int, f func(T) (U, error)) ([]U, error) {
	if workers < 1 {
		workers = 1
	}
	out := make([]U, len(in))
	slots := make(chan struct{}, workers)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		failed   atomic.Bool
	)
	for i, x := range in {
		if failed.Load() {
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func(i int, x T) {
			defer func() { <-slots; wg.Done() }()
			u, err := f(x)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				failed.Store(true)
				return
			}
			out[i] = u
		}(i, x)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

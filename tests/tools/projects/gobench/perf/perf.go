// Package perf has a deliberately slow function beside a fast one.
package perf

// Slow sums with a needless inner loop.
func Slow(n int) int {
	total := 0
	for i := 0; i < n; i++ {
		for j := 0; j < 200; j++ {
			total += (i * j) % 7
		}
	}
	return total
}

// Fast sums 0..n-1 in closed form.
func Fast(n int) int { return n * (n - 1) / 2 }

// Package primes lists prime numbers.
package primes

// PrimesUpTo returns every prime p with 2 <= p <= n, ascending. n < 2 gives an empty
// non-nil slice.
func PrimesUpTo(n int) []int {
	out := []int{}
	for p := 2; p <= n; p++ {
		prime := true
		for d := 2; d < p; d++ {
			if p%d == 0 {
				prime = false
			}
		}
		if prime {
			out = append(out, p)
		}
	}
	return out
}

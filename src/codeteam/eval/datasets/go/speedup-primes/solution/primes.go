// Package primes lists prime numbers.
package primes

// PrimesUpTo returns every prime p with 2 <= p <= n, ascending. n < 2 gives an empty
// non-nil slice.
func PrimesUpTo(n int) []int {
	out := []int{}
	if n < 2 {
		return out
	}
	composite := make([]bool, n+1)
	for p := 2; p <= n; p++ {
		if composite[p] {
			continue
		}
		out = append(out, p)
		for m := p * p; m <= n; m += p {
			composite[m] = true
		}
	}
	return out
}

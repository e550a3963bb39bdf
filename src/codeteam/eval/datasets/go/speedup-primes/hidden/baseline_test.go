package primes

// baselinePrimesUpTo is the code as given: the benchmark's reference.
func baselinePrimesUpTo(n int) []int {
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

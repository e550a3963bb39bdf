package dedupe

// baselineDedupe is the code as given: the benchmark's reference.
func baselineDedupe(xs []string) []string {
	out := []string{}
	for _, x := range xs {
		seen := false
		for _, y := range out {
			if y == x {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, x)
		}
	}
	return out
}

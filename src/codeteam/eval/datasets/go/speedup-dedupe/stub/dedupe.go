// Package dedupe removes repeated strings.
package dedupe

// Dedupe returns xs without repeated strings, keeping the first occurrence of each, in the
// order they first appear. The result is a new slice (never nil); xs is not modified.
func Dedupe(xs []string) []string {
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

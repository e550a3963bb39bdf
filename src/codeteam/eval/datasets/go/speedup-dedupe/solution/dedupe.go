// Package dedupe removes repeated strings.
package dedupe

// Dedupe returns xs without repeated strings, keeping the first occurrence of each, in the
// order they first appear. The result is a new slice (never nil); xs is not modified.
func Dedupe(xs []string) []string {
	out := make([]string, 0, len(xs))
	seen := make(map[string]struct{}, len(xs))
	for _, x := range xs {
		if _, ok := seen[x]; !ok {
			seen[x] = struct{}{}
			out = append(out, x)
		}
	}
	return out
}

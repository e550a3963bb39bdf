// Package dedupe removes repeated strings.
package dedupe

import "sort"

// Dedupe returns xs without repeated strings, keeping the first occurrence of each, in the
// order they first appear. The result is a new slice (never nil); xs is not modified.
func Dedupe(xs []string) []string {
	sorted := append([]string{}, xs...)
	sort.Strings(sorted)
	out := []string{}
	for i, x := range sorted {
		if i == 0 || x != sorted[i-1] {
			out = append(out, x)
		}
	}
	return out
}

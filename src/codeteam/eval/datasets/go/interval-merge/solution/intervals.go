// Package intervals merges and queries closed integer intervals.
package intervals

import "sort"

// Interval holds every x with Lo <= x <= Hi.
type Interval struct{ Lo, Hi int }

// Merge returns the union of the intervals as sorted disjoint intervals.
func Merge(in []Interval) []Interval {
	sorted := make([]Interval, 0, len(in))
	for _, iv := range in {
		if iv.Lo <= iv.Hi {
			sorted = append(sorted, iv)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Lo < sorted[j].Lo })
	out := []Interval{}
	for _, iv := range sorted {
		if n := len(out); n > 0 && iv.Lo <= out[n-1].Hi {
			if iv.Hi > out[n-1].Hi {
				out[n-1].Hi = iv.Hi
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// Covered counts the integers in the union of the intervals.
func Covered(in []Interval) int {
	n := 0
	for _, iv := range Merge(in) {
		n += iv.Hi - iv.Lo + 1
	}
	return n
}

// Contains reports whether x lies in one of merged.
func Contains(merged []Interval, x int) bool {
	i := sort.Search(len(merged), func(i int) bool { return merged[i].Hi >= x })
	return i < len(merged) && merged[i].Lo <= x
}

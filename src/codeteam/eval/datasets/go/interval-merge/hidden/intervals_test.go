package intervals

import (
	"math/rand"
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	cases := []struct{ in, want []Interval }{
		{nil, []Interval{}},
		{[]Interval{{5, 3}}, []Interval{}},
		{[]Interval{{1, 3}, {2, 6}, {8, 10}, {15, 18}}, []Interval{{1, 6}, {8, 10}, {15, 18}}},
		{[]Interval{{1, 4}, {4, 5}}, []Interval{{1, 5}}},
		{[]Interval{{8, 9}, {1, 10}, {2, 3}}, []Interval{{1, 10}}},
		{[]Interval{{1, 2}, {3, 4}}, []Interval{{1, 2}, {3, 4}}},
		{[]Interval{{-5, -1}, {-1, 0}, {7, 7}}, []Interval{{-5, 0}, {7, 7}}},
	}
	for _, c := range cases {
		keep := append([]Interval(nil), c.in...)
		got := Merge(c.in)
		if got == nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Merge(%v) = %#v, want %v", c.in, got, c.want)
		}
		if !reflect.DeepEqual(keep, c.in) {
			t.Errorf("Merge modified its input")
		}
	}
}

func TestCoveredAndContainsAgainstASet(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for trial := 0; trial < 200; trial++ {
		var in []Interval
		set := map[int]bool{}
		for i := r.Intn(8); i > 0; i-- {
			lo := r.Intn(60) - 30
			iv := Interval{lo, lo + r.Intn(10) - 1}
			in = append(in, iv)
			for x := iv.Lo; x <= iv.Hi; x++ {
				set[x] = true
			}
		}
		if got := Covered(in); got != len(set) {
			t.Fatalf("Covered(%v) = %d, want %d", in, got, len(set))
		}
		merged := Merge(in)
		for i := 1; i < len(merged); i++ {
			if merged[i].Lo <= merged[i-1].Hi {
				t.Fatalf("Merge(%v) = %v: not disjoint and sorted", in, merged)
			}
		}
		for x := -45; x <= 45; x++ {
			if Contains(merged, x) != set[x] {
				t.Fatalf("Contains(%v, %d) = %v", merged, x, !set[x])
			}
		}
	}
}

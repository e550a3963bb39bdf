package dsu

import (
	"math/rand"
	"testing"
)

func TestBasics(t *testing.T) {
	s := New(6)
	if s.Count() != 6 || s.Size(3) != 1 || s.Same(0, 1) {
		t.Fatal("New: not singletons")
	}
	if !s.Union(0, 1) || !s.Union(2, 3) || !s.Union(1, 3) {
		t.Fatal("Union of different sets returned false")
	}
	if s.Union(0, 2) || s.Union(4, 4) {
		t.Fatal("Union within one set returned true")
	}
	if s.Count() != 3 {
		t.Fatalf("Count = %d, want 3", s.Count())
	}
	if !s.Same(0, 3) || s.Same(0, 4) || s.Size(2) != 4 || s.Size(5) != 1 {
		t.Fatal("wrong membership or size")
	}
	if s.Find(0) != s.Find(3) || s.Find(4) == s.Find(5) {
		t.Fatal("Find disagrees with Same")
	}
}

func TestAgainstLabels(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	const n = 300
	s := New(n)
	label := make([]int, n)
	for i := range label {
		label[i] = i
	}
	count := n
	for step := 0; step < 600; step++ {
		a, b := r.Intn(n), r.Intn(n)
		merged := label[a] != label[b]
		if merged {
			old := label[b]
			for i := range label {
				if label[i] == old {
					label[i] = label[a]
				}
			}
			count--
		}
		if got := s.Union(a, b); got != merged {
			t.Fatalf("step %d: Union(%d, %d) = %v, want %v", step, a, b, got, merged)
		}
		if s.Count() != count {
			t.Fatalf("step %d: Count = %d, want %d", step, s.Count(), count)
		}
		x := r.Intn(n)
		size := 0
		for i := range label {
			if label[i] == label[x] {
				size++
			}
		}
		if s.Size(x) != size {
			t.Fatalf("Size(%d) = %d, want %d", x, s.Size(x), size)
		}
	}
}

func TestLargeChainIsFast(t *testing.T) {
	const n = 1 << 20
	s := New(n)
	for i := 1; i < n; i++ {
		s.Union(i-1, i)
	}
	for i := 0; i < n; i += 7 {
		if !s.Same(0, i) {
			t.Fatal("chain broken")
		}
	}
	if s.Count() != 1 || s.Size(n-1) != n {
		t.Fatal("chain not one set")
	}
}

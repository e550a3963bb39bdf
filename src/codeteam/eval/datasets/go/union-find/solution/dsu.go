// Package dsu is a disjoint-set forest.
package dsu

// Sets partitions the elements 0..n-1.
type Sets struct {
	parent []int
	size   []int
	count  int
}

// New returns n singleton sets.
func New(n int) *Sets {
	s := &Sets{parent: make([]int, n), size: make([]int, n), count: n}
	for i := range s.parent {
		s.parent[i], s.size[i] = i, 1
	}
	return s
}

// Find returns the representative of x's set.
func (s *Sets) Find(x int) int {
	root := x
	for s.parent[root] != root {
		root = s.parent[root]
	}
	for s.parent[x] != root {
		s.parent[x], x = root, s.parent[x]
	}
	return root
}

// Union merges the sets of a and b; false if they were already one set.
func (s *Sets) Union(a, b int) bool {
	ra, rb := s.Find(a), s.Find(b)
	if ra == rb {
		return false
	}
	if s.size[ra] < s.size[rb] {
		ra, rb = rb, ra
	}
	s.parent[rb] = ra
	s.size[ra] += s.size[rb]
	s.count--
	return true
}

// Same reports whether a and b are in one set.
func (s *Sets) Same(a, b int) bool { return s.Find(a) == s.Find(b) }

// Size is the number of elements in x's set.
func (s *Sets) Size(x int) int { return s.size[s.Find(x)] }

// Count is the number of sets.
func (s *Sets) Count() int { return s.count }

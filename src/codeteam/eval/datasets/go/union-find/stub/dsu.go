// Package dsu is a disjoint-set forest.
package dsu

// Sets partitions the elements 0..n-1.
type Sets struct{}

// New returns n singleton sets.
func New(n int) *Sets { panic("not implemented") }

// Find returns the representative of x's set.
func (s *Sets) Find(x int) int { panic("not implemented") }

// Union merges the sets of a and b; false if they were already one set.
func (s *Sets) Union(a, b int) bool { panic("not implemented") }

// Same reports whether a and b are in one set.
func (s *Sets) Same(a, b int) bool { panic("not implemented") }

// Size is the number of elements in x's set.
func (s *Sets) Size(x int) int { panic("not implemented") }

// Count is the number of sets.
func (s *Sets) Count() int { panic("not implemented") }

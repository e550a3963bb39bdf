package lru

import (
	"reflect"
	"testing"
)

func TestPutGetEvict(t *testing.T) {
	c := New[string, int](2)
	c.Put("a", 1)
	c.Put("b", 2)
	c.Put("c", 3) // evicts a
	if _, ok := c.Get("a"); ok {
		t.Fatal("a should have been evicted")
	}
	if v, ok := c.Get("b"); !ok || v != 2 {
		t.Fatalf("Get(b) = %v, %v", v, ok)
	}
	if c.Len() != 2 {
		t.Fatalf("Len = %d, want 2", c.Len())
	}
}

func TestGetRefreshesRecency(t *testing.T) {
	c := New[string, int](2)
	c.Put("a", 1)
	c.Put("b", 2)
	c.Get("a")
	c.Put("c", 3) // evicts b, not a
	if _, ok := c.Get("b"); ok {
		t.Fatal("b should have been evicted: a was used more recently")
	}
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatal("a was evicted although recently used")
	}
}

func TestUpdateRefreshes(t *testing.T) {
	c := New[int, string](3)
	c.Put(1, "x")
	c.Put(2, "y")
	c.Put(3, "z")
	c.Put(1, "X")
	c.Put(4, "w") // evicts 2
	if got, want := c.Keys(), []int{4, 1, 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Keys = %v, want %v", got, want)
	}
	if v, _ := c.Get(1); v != "X" {
		t.Fatalf("Get(1) = %q, want X", v)
	}
	if got, want := c.Keys(), []int{1, 4, 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Keys after Get = %v, want %v", got, want)
	}
}

func TestCapacityOneAndEmpty(t *testing.T) {
	c := New[int, int](1)
	if k := c.Keys(); k == nil || len(k) != 0 {
		t.Fatalf("Keys of empty cache = %#v", k)
	}
	c.Put(1, 1)
	c.Put(2, 2)
	if got := c.Keys(); !reflect.DeepEqual(got, []int{2}) {
		t.Fatalf("Keys = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New(0) did not panic")
		}
	}()
	New[int, int](0)
}

func TestManyOps(t *testing.T) {
	c := New[int, int](100)
	for i := 0; i < 100000; i++ {
		c.Put(i%150, i)
		c.Get(i % 70)
	}
	if c.Len() != 100 {
		t.Fatalf("Len = %d", c.Len())
	}
}

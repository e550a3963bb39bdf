package pq

import (
	"math/rand"
	"sort"
	"testing"
)

func TestEmpty(t *testing.T) {
	q := New(func(a, b int) bool { return a < b })
	if _, ok := q.Pop(); ok {
		t.Fatal("Pop of empty queue")
	}
	if _, ok := q.Peek(); ok {
		t.Fatal("Peek of empty queue")
	}
	if q.Len() != 0 {
		t.Fatal("Len of empty queue")
	}
}

func TestSmall(t *testing.T) {
	q := New(func(a, b string) bool { return a < b })
	for _, s := range []string{"d", "b", "c", "a", "b"} {
		q.Push(s)
	}
	if v, _ := q.Peek(); v != "a" || q.Len() != 5 {
		t.Fatalf("Peek = %q, Len = %d", v, q.Len())
	}
	var got []string
	for q.Len() > 0 {
		v, _ := q.Pop()
		got = append(got, v)
	}
	if want := "abbcd"; join(got) != want {
		t.Fatalf("popped %v, want %s", got, want)
	}
}

func join(xs []string) string {
	s := ""
	for _, x := range xs {
		s += x
	}
	return s
}

func TestMaxHeapAndInterleaving(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for trial := 0; trial < 50; trial++ {
		q := New(func(a, b int) bool { return a > b })
		var model []int
		for i := 0; i < 200; i++ {
			if r.Intn(3) > 0 || len(model) == 0 {
				x := r.Intn(100)
				q.Push(x)
				model = append(model, x)
				continue
			}
			sort.Sort(sort.Reverse(sort.IntSlice(model)))
			want := model[0]
			model = model[1:]
			if got, ok := q.Pop(); !ok || got != want {
				t.Fatalf("trial %d step %d: Pop = %d, want %d", trial, i, got, want)
			}
			if q.Len() != len(model) {
				t.Fatalf("Len = %d, want %d", q.Len(), len(model))
			}
		}
	}
}

func TestStructElements(t *testing.T) {
	type job struct {
		name string
		pri  int
	}
	q := New(func(a, b job) bool { return a.pri < b.pri })
	q.Push(job{"low", 9})
	q.Push(job{"high", 1})
	q.Push(job{"mid", 5})
	if j, _ := q.Pop(); j.name != "high" {
		t.Fatalf("Pop = %v", j)
	}
	if j, _ := q.Pop(); j.name != "mid" {
		t.Fatalf("Pop = %v", j)
	}
}

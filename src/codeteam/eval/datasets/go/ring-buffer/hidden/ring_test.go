package ring

import (
	"reflect"
	"testing"
)

func TestPushPopWrap(t *testing.T) {
	b := New[int](3)
	for i := 1; i <= 3; i++ {
		if _, ok := b.Push(i); ok {
			t.Fatal("evicted before full")
		}
	}
	if old, ok := b.Push(4); !ok || old != 1 {
		t.Fatalf("Push(4) evicted %d, %v; want 1, true", old, ok)
	}
	if got := b.Slice(); !reflect.DeepEqual(got, []int{2, 3, 4}) {
		t.Fatalf("Slice = %v", got)
	}
	if v, _ := b.Pop(); v != 2 {
		t.Fatalf("Pop = %d", v)
	}
	b.Push(5)
	b.Push(6)
	if got := b.Slice(); !reflect.DeepEqual(got, []int{4, 5, 6}) {
		t.Fatalf("Slice = %v", got)
	}
	for _, want := range []int{4, 5, 6} {
		if v, ok := b.Pop(); !ok || v != want {
			t.Fatalf("Pop = %d, %v; want %d", v, ok, want)
		}
	}
	if _, ok := b.Pop(); ok || b.Len() != 0 {
		t.Fatal("Pop of empty buffer")
	}
	if s := b.Slice(); s == nil || len(s) != 0 {
		t.Fatalf("Slice of empty buffer = %#v", s)
	}
}

func TestAt(t *testing.T) {
	b := New[string](2)
	b.Push("a")
	b.Push("b")
	b.Push("c")
	for i, want := range []string{"b", "c"} {
		if v, ok := b.At(i); !ok || v != want {
			t.Fatalf("At(%d) = %q, %v", i, v, ok)
		}
	}
	for _, i := range []int{-1, 2, 3} {
		if _, ok := b.At(i); ok {
			t.Fatalf("At(%d) reported a value", i)
		}
	}
}

func TestAgainstASlice(t *testing.T) {
	b := New[int](5)
	var model []int
	for i := 0; i < 1000; i++ {
		if i%3 == 2 {
			v, ok := b.Pop()
			if len(model) == 0 {
				if ok {
					t.Fatal("Pop of empty buffer")
				}
				continue
			}
			if !ok || v != model[0] {
				t.Fatalf("step %d: Pop = %d, want %d", i, v, model[0])
			}
			model = model[1:]
			continue
		}
		b.Push(i)
		model = append(model, i)
		if len(model) > 5 {
			model = model[1:]
		}
		if got := b.Slice(); !reflect.DeepEqual(got, model) {
			t.Fatalf("step %d: Slice = %v, want %v", i, got, model)
		}
	}
}

func TestCapacityOne(t *testing.T) {
	b := New[int](1)
	b.Push(1)
	if old, ok := b.Push(2); !ok || old != 1 || b.Len() != 1 {
		t.Fatal("capacity 1 does not overwrite")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New(0) did not panic")
		}
	}()
	New[int](0)
}

func TestPushDoesNotAllocate(t *testing.T) {
	b := New[int](8)
	if n := testing.AllocsPerRun(100, func() { b.Push(1) }); n != 0 {
		t.Fatalf("Push allocates %.0f times", n)
	}
}

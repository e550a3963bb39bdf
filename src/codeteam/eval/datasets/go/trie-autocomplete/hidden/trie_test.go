package trie

import (
	"reflect"
	"testing"
)

func TestComplete(t *testing.T) {
	tr := New()
	for w, n := range map[string]int{"car": 5, "cart": 3, "care": 5, "carbon": 1, "cat": 9, "dog": 2, "ca": 4} {
		tr.Add(w, n)
	}
	cases := []struct {
		prefix string
		k      int
		want   []string
	}{
		{"car", 10, []string{"car", "care", "cart", "carbon"}},
		{"car", 2, []string{"car", "care"}},
		{"ca", 3, []string{"cat", "car", "care"}},
		{"", 2, []string{"cat", "car"}},
		{"x", 5, []string{}},
		{"carb", 5, []string{"carbon"}},
		{"cat", 0, []string{}},
	}
	for _, c := range cases {
		got := tr.Complete(c.prefix, c.k)
		if got == nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Complete(%q, %d) = %q, want %q", c.prefix, c.k, got, c.want)
		}
	}
}

func TestAddRemoveWeight(t *testing.T) {
	tr := New()
	tr.Add("go", 1)
	tr.Add("go", 2)
	tr.Add("gopher", 1)
	tr.Add("", 7)
	tr.Add("日本", 3)
	if w, ok := tr.Weight("go"); !ok || w != 3 || tr.Len() != 4 {
		t.Fatalf("Weight(go) = %d, %v; Len = %d", w, ok, tr.Len())
	}
	if _, ok := tr.Weight("g"); ok {
		t.Fatal("a prefix that is not a word has a weight")
	}
	if tr.Remove("g") || !tr.Remove("go") || tr.Remove("go") {
		t.Fatal("Remove results wrong")
	}
	if _, ok := tr.Weight("go"); ok || tr.Len() != 3 {
		t.Fatal("removed word still present")
	}
	if got := tr.Complete("go", 5); !reflect.DeepEqual(got, []string{"gopher"}) {
		t.Fatalf("Complete(go) after Remove = %q", got)
	}
	if got := tr.Complete("", 1); !reflect.DeepEqual(got, []string{""}) {
		t.Fatalf("empty word: %q", got)
	}
	if got := tr.Complete("日", 1); !reflect.DeepEqual(got, []string{"日本"}) {
		t.Fatalf("UTF-8 prefix: %q", got)
	}
	tr.Add("go", 1)
	if w, _ := tr.Weight("go"); w != 1 {
		t.Fatalf("re-added word keeps its old weight: %d", w)
	}
}

package dedupe

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"testing"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.benchtime").Value.String() == "1s" {
		_ = flag.Set("test.benchtime", "150ms")
	}
	os.Exit(m.Run())
}

func TestExamples(t *testing.T) {
	cases := []struct{ in, want []string }{
		{nil, []string{}},
		{[]string{}, []string{}},
		{[]string{"a"}, []string{"a"}},
		{[]string{"b", "a", "b", "c", "a"}, []string{"b", "a", "c"}},
		{[]string{"", "", "x", ""}, []string{"", "x"}},
		{[]string{"z", "y", "x"}, []string{"z", "y", "x"}},
	}
	for _, c := range cases {
		got := Dedupe(c.in)
		if got == nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Dedupe(%q) = %#v, want %q", c.in, got, c.want)
		}
	}
}

func TestMatchesBaselineAndKeepsInput(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for n := 0; n < 300; n += 17 {
		in := make([]string, n)
		for i := range in {
			in[i] = fmt.Sprint(r.Intn(n/2 + 1))
		}
		keep := append([]string{}, in...)
		got, want := Dedupe(in), baselineDedupe(in)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("n=%d: Dedupe = %q, want %q", n, got, want)
		}
		if !reflect.DeepEqual(in, keep) {
			t.Fatal("Dedupe modified its input")
		}
	}
}

func benchInput() []string {
	r := rand.New(rand.NewSource(1))
	in := make([]string, 4000)
	for i := range in {
		in[i] = fmt.Sprintf("item-%d", r.Intn(2000))
	}
	return in
}

func BenchmarkDedupe(b *testing.B) {
	in := benchInput()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Dedupe(in)
	}
}

func BenchmarkBaselineDedupe(b *testing.B) {
	in := benchInput()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		baselineDedupe(in)
	}
}

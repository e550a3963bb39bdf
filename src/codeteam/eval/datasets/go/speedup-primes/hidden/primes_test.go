package primes

import (
	"flag"
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

func TestSmall(t *testing.T) {
	cases := map[int][]int{
		-5: {}, 0: {}, 1: {}, 2: {2}, 3: {2, 3}, 4: {2, 3}, 13: {2, 3, 5, 7, 11, 13},
		30: {2, 3, 5, 7, 11, 13, 17, 19, 23, 29},
	}
	for n, want := range cases {
		got := PrimesUpTo(n)
		if got == nil || !reflect.DeepEqual(got, want) {
			t.Errorf("PrimesUpTo(%d) = %#v, want %v", n, got, want)
		}
	}
}

func TestMatchesBaseline(t *testing.T) {
	for _, n := range []int{97, 100, 101, 997, 1000, 2003} {
		if got, want := PrimesUpTo(n), baselinePrimesUpTo(n); !reflect.DeepEqual(got, want) {
			t.Fatalf("PrimesUpTo(%d) differs from the given code (%d vs %d primes)", n, len(got), len(want))
		}
	}
	if got := PrimesUpTo(7919); len(got) != 1000 || got[999] != 7919 {
		t.Fatalf("PrimesUpTo(7919) has %d primes, want 1000 ending in 7919", len(got))
	}
}

func BenchmarkPrimesUpTo(b *testing.B) {
	for i := 0; i < b.N; i++ {
		PrimesUpTo(5000)
	}
}

func BenchmarkBaselinePrimesUpTo(b *testing.B) {
	for i := 0; i < b.N; i++ {
		baselinePrimesUpTo(5000)
	}
}

package perf

import "testing"

var (
	sink      int
	sinkSlice []int
)

func BenchmarkFast(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink = Fast(1000)
	}
}

func BenchmarkAlloc(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sinkSlice = make([]int, 100)
	}
}

func TestSlow(t *testing.T) {
	for i := 0; i < 300; i++ {
		sink += Slow(20000)
	}
}

package words

import (
	"flag"
	"math/rand"
	"os"
	"reflect"
	"strings"
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
	got := TopWords("The cat; the DOG, the cat! a-b", 3)
	want := []WordCount{{"the", 3}, {"cat", 2}, {"a", 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TopWords = %v, want %v", got, want)
	}
	if got := TopWords("", 3); got == nil || len(got) != 0 {
		t.Fatalf("empty text: %#v, want empty non-nil", got)
	}
	if got := TopWords("a b c", 0); got == nil || len(got) != 0 {
		t.Fatalf("k=0: %#v, want empty non-nil", got)
	}
	if got := TopWords("a b c", -2); got == nil || len(got) != 0 {
		t.Fatalf("k<0: %#v, want empty non-nil", got)
	}
	if got := TopWords("x2y\té", 5); !reflect.DeepEqual(got, []WordCount{{"x", 1}, {"y", 1}}) {
		t.Fatalf("separators: %v", got)
	}
}

func TestTiesAlphabetical(t *testing.T) {
	got := TopWords("pear fig apple kiwi fig date pear kiwi", 10)
	want := []WordCount{{"fig", 2}, {"kiwi", 2}, {"pear", 2}, {"apple", 1}, {"date", 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TopWords = %v, want %v", got, want)
	}
}

func randomText(r *rand.Rand, words int) string {
	vocab := []string{"alpha", "beta", "Gamma", "delta", "eps", "zeta", "eta", "theta", "iota",
		"kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon"}
	var b strings.Builder
	for i := 0; i < words; i++ {
		w := vocab[r.Intn(len(vocab))]
		if r.Intn(2) == 0 {
			w = string([]byte{"abcdefgH"[r.Intn(8)], "abcdefgh"[r.Intn(8)], "aBcdefgh"[r.Intn(8)]})
		}
		b.WriteString(w)
		b.WriteString([]string{" ", ", ", ".\n", "--", "3"}[r.Intn(5)])
	}
	return b.String()
}

func TestMatchesBaseline(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 40; i++ {
		text, k := randomText(r, r.Intn(400)), r.Intn(30)
		if got, want := TopWords(text, k), baselineTopWords(text, k); !reflect.DeepEqual(got, want) {
			t.Fatalf("TopWords(%q, %d) = %v, want %v", text, k, got, want)
		}
	}
}

func BenchmarkTopWords(b *testing.B) {
	text := randomText(rand.New(rand.NewSource(1)), 8000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		TopWords(text, 10)
	}
}

func BenchmarkBaselineTopWords(b *testing.B) {
	text := randomText(rand.New(rand.NewSource(1)), 8000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		baselineTopWords(text, 10)
	}
}

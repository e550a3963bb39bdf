package wrap

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWrap(t *testing.T) {
	cases := []struct {
		text  string
		width int
		want  []string
	}{
		{"", 5, []string{}},
		{" \n\t ", 5, []string{}},
		{"the quick brown fox", 10, []string{"the quick", "brown fox"}},
		{"the quick brown fox", 9, []string{"the quick", "brown fox"}},
		{"the quick brown fox", 8, []string{"the", "quick", "brown", "fox"}},
		{"a b c d", 3, []string{"a b", "c d"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"ab abcdefg", 4, []string{"ab", "abcd", "efg"}},
		{"x abcdef y", 3, []string{"x", "abc", "def", "y"}},
		{"héllo wörld ünïcode", 11, []string{"héllo wörld", "ünïcode"}},
		{"one\ntwo\n\nthree", 20, []string{"one two three"}},
		{"a", 1, []string{"a"}},
	}
	for _, c := range cases {
		got := Wrap(c.text, c.width)
		if got == nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", c.text, c.width, got, c.want)
		}
	}
}

func TestInvariants(t *testing.T) {
	text := strings.Repeat("lorem ipsum dolor sit amet, consectetur adipiscing élit ", 20)
	for width := 1; width <= 30; width++ {
		lines := Wrap(text, width)
		for i, line := range lines {
			if n := utf8.RuneCountInString(line); n > width || n == 0 {
				t.Fatalf("width %d: line %d %q has %d runes", width, i, line, n)
			}
			if i+1 < len(lines) {
				next := strings.Fields(lines[i+1])[0]
				if utf8.RuneCountInString(line)+1+utf8.RuneCountInString(next) <= width {
					t.Fatalf("width %d: %q would fit on line %q", width, next, line)
				}
			}
		}
		if width > 12 && strings.Join(lines, " ") != strings.Join(strings.Fields(text), " ") {
			t.Fatalf("width %d: words changed", width)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("width 0 did not panic")
		}
	}()
	Wrap("x", 0)
}

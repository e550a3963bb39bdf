// Package roman converts between integers and canonical Roman numerals.
package roman

import (
	"fmt"
	"strings"
)

var symbols = []struct {
	value int
	text  string
}{
	{1000, "M"}, {900, "CM"}, {500, "D"}, {400, "CD"}, {100, "C"}, {90, "XC"},
	{50, "L"}, {40, "XL"}, {10, "X"}, {9, "IX"}, {5, "V"}, {4, "IV"}, {1, "I"},
}

// Format writes n (1..3999) as a canonical Roman numeral.
func Format(n int) (string, error) {
	if n < 1 || n > 3999 {
		return "", fmt.Errorf("roman: %d is outside 1..3999", n)
	}
	var b strings.Builder
	for _, s := range symbols {
		for n >= s.value {
			b.WriteString(s.text)
			n -= s.value
		}
	}
	return b.String(), nil
}

// Parse reads a canonical Roman numeral.
func Parse(s string) (int, error) {
	n, rest := 0, s
	for _, sym := range symbols {
		for strings.HasPrefix(rest, sym.text) {
			n += sym.value
			rest = rest[len(sym.text):]
		}
	}
	if rest != "" || n == 0 {
		return 0, fmt.Errorf("roman: %q is not a canonical numeral", s)
	}
	if n > 3999 {
		return 0, fmt.Errorf("roman: %q is above 3999", s)
	}
	return n, nil
}

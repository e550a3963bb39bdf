package csvrec

import (
	"reflect"
	"strings"
	"testing"
)

func TestFields(t *testing.T) {
	cases := []struct {
		line string
		sep  rune
		want []string
	}{
		{"", ',', []string{""}},
		{"a", ',', []string{"a"}},
		{"a,", ',', []string{"a", ""}},
		{",,", ',', []string{"", "", ""}},
		{"a, b ,c", ',', []string{"a", " b ", "c"}},
		{`"a,b",c`, ',', []string{"a,b", "c"}},
		{`"say ""hi""",x`, ',', []string{`say "hi"`, "x"}},
		{`""`, ',', []string{""}},
		{`"",""`, ',', []string{"", ""}},
		{`""""`, ',', []string{`"`}},
		{"x;\"y;z\";", ';', []string{"x", "y;z", ""}},
		{"é\tü\t\"ß\"", '\t', []string{"é", "ü", "ß"}},
		{"a,b\r", ',', []string{"a", "b"}},
		{"1·2·3", '·', []string{"1", "2", "3"}},
	}
	for _, c := range cases {
		got, err := ParseLine(c.line, c.sep)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseLine(%q) = %q, %v; want %q", c.line, got, err, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	cases := map[string]string{
		`"abc`:     "column",
		`a"b`:      "column 2",
		`"a"b,c`:   "column 4",
		`x,"a" ,c`: "column 6",
		`é,"ü`:     "column",
	}
	for line, want := range cases {
		got, err := ParseLine(line, ',')
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLine(%q) = %q, %v; want an error with %q", line, got, err, want)
		}
	}
}

package expr

import "testing"

func TestValues(t *testing.T) {
	vars := map[string]int64{"x": 7, "y_2": -3, "Big": 1 << 40}
	cases := map[string]int64{
		"1":                   1,
		" 42 ":                42,
		"1+2*3":               7,
		"(1+2)*3":             9,
		"8-3-2":               3,
		"2*3%4":               2,
		"100/10/5":            2,
		"-7/2":                -3,
		"-7%3":                -1,
		"7%-3":                1,
		"--5":                 5,
		"-(2+3)*-2":           10,
		"+4":                  4,
		"x*y_2":               -21,
		"Big/(x+1)":           (1 << 40) / 8,
		"1-2+3-4+5":           3,
		"\t(((x)))\t":         7,
		"9223372036854775807": 9223372036854775807,
		"2 * (3 + 4) - x % 4": 11,
	}
	for src, want := range cases {
		got, err := Eval(src, vars)
		if err != nil || got != want {
			t.Errorf("Eval(%q) = %d, %v; want %d", src, got, err, want)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, src := range []string{"", "   ", "1 +", "(1", "1)", "2 3", "1 $ 2", "z", "1/0",
		"5%(2-2)", "9223372036854775808", "()", "*2", "x y", "1 + + "} {
		if got, err := Eval(src, map[string]int64{"x": 1}); err == nil {
			t.Errorf("Eval(%q) = %d, want an error", src, got)
		}
	}
}

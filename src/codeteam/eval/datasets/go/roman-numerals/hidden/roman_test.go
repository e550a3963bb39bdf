package roman

import "testing"

func TestFormat(t *testing.T) {
	cases := map[int]string{1: "I", 4: "IV", 9: "IX", 14: "XIV", 40: "XL", 90: "XC", 400: "CD",
		1994: "MCMXCIV", 2024: "MMXXIV", 3999: "MMMCMXCIX", 444: "CDXLIV", 8: "VIII"}
	for n, want := range cases {
		if got, err := Format(n); err != nil || got != want {
			t.Errorf("Format(%d) = %q, %v; want %q", n, got, err, want)
		}
	}
	for _, n := range []int{0, -1, 4000} {
		if got, err := Format(n); err == nil {
			t.Errorf("Format(%d) = %q, want an error", n, got)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for n := 1; n <= 3999; n++ {
		s, err := Format(n)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Parse(s); err != nil || got != n {
			t.Fatalf("Parse(%q) = %d, %v; want %d", s, got, err, n)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "IIII", "VV", "IC", "MMMM", "iv", "XM", "IIV", "VX", "XCX",
		"LL", "DD", "CMCM", "IXI", "XXXX", "I V", "MCMXCIVI", "ABC", "IIX"} {
		if got, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", s, got)
		}
	}
}

package semver

import (
	"reflect"
	"sort"
	"testing"
)

func TestParse(t *testing.T) {
	v, err := Parse("v1.20.3-rc.1+build.5")
	want := Version{1, 20, 3, []string{"rc", "1"}, []string{"build", "5"}}
	if err != nil || !reflect.DeepEqual(v, want) {
		t.Fatalf("Parse = %+v, %v; want %+v", v, err, want)
	}
	if s := v.String(); s != "1.20.3-rc.1+build.5" {
		t.Fatalf("String = %q", s)
	}
	v, err = Parse("0.0.0")
	if err != nil || !reflect.DeepEqual(v, Version{}) || v.String() != "0.0.0" {
		t.Fatalf("Parse(0.0.0) = %+v, %v", v, err)
	}
	if v, err := Parse("1.0.0+001"); err != nil || v.Build[0] != "001" {
		t.Fatalf("build metadata may have leading zeros: %v", err)
	}
	if v, err := Parse("1.0.0-x-y-z.--"); err != nil || len(v.Pre) != 2 {
		t.Fatalf("hyphens in identifiers: %+v, %v", v, err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03",
		"1.2.3-", "1.2.3-a..b", "1.2.3-01", "1.2.3+", "1.2.3-a_b", "a.b.c", "1.2.-3",
		"1.2.3 ", " 1.2.3", "vv1.2.3", "1.2.3-é", "99999999999999999999.0.0"} {
		if v, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", s, v)
		}
	}
}

func TestPrecedence(t *testing.T) {
	ordered := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"}
	var vs []Version
	for i := len(ordered) - 1; i >= 0; i-- {
		v, err := Parse(ordered[i])
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return Compare(vs[i], vs[j]) < 0 })
	for i, v := range vs {
		if v.String() != ordered[i] {
			t.Fatalf("position %d: %s, want %s", i, v, ordered[i])
		}
	}
	a, _ := Parse("1.0.0+a")
	b, _ := Parse("1.0.0+b")
	if Compare(a, b) != 0 {
		t.Fatal("build metadata must not affect precedence")
	}
	x, _ := Parse("1.0.0-9")
	y, _ := Parse("1.0.0-10")
	if Compare(x, y) != -1 || Compare(y, x) != 1 {
		t.Fatal("numeric identifiers compare numerically")
	}
}

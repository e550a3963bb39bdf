// Package semver parses and orders semantic versions.
package semver

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed semantic version.
type Version struct {
	Major, Minor, Patch uint64
	Pre                 []string
	Build               []string
}

// Parse parses a semantic version, with an optional leading "v".
func Parse(s string) (Version, error) {
	var v Version
	rest := strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		ids, err := identifiers(rest[i+1:], false)
		if err != nil {
			return Version{}, fmt.Errorf("semver %q: build: %w", s, err)
		}
		v.Build, rest = ids, rest[:i]
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		ids, err := identifiers(rest[i+1:], true)
		if err != nil {
			return Version{}, fmt.Errorf("semver %q: pre-release: %w", s, err)
		}
		v.Pre, rest = ids, rest[:i]
	}
	core := strings.Split(rest, ".")
	if len(core) != 3 {
		return Version{}, fmt.Errorf("semver %q: want MAJOR.MINOR.PATCH", s)
	}
	nums := make([]uint64, 3)
	for i, part := range core {
		if !numeric(part) || (len(part) > 1 && part[0] == '0') {
			return Version{}, fmt.Errorf("semver %q: bad number %q", s, part)
		}
		n, err := strconv.ParseUint(part, 10, 64)
		if err != nil {
			return Version{}, fmt.Errorf("semver %q: %w", s, err)
		}
		nums[i] = n
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	return v, nil
}

func identifiers(s string, pre bool) ([]string, error) {
	ids := strings.Split(s, ".")
	for _, id := range ids {
		if id == "" {
			return nil, fmt.Errorf("empty identifier")
		}
		for _, c := range id {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return nil, fmt.Errorf("bad character %q", c)
			}
		}
		if pre && numeric(id) && len(id) > 1 && id[0] == '0' {
			return nil, fmt.Errorf("leading zero in %q", id)
		}
	}
	return ids, nil
}

func numeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// String is the canonical form.
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if len(v.Pre) > 0 {
		s += "-" + strings.Join(v.Pre, ".")
	}
	if len(v.Build) > 0 {
		s += "+" + strings.Join(v.Build, ".")
	}
	return s
}

func cmp[T int | uint64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Compare orders a and b by SemVer precedence.
func Compare(a, b Version) int {
	for _, c := range []int{cmp(a.Major, b.Major), cmp(a.Minor, b.Minor), cmp(a.Patch, b.Patch)} {
		if c != 0 {
			return c
		}
	}
	switch {
	case len(a.Pre) == 0 && len(b.Pre) == 0:
		return 0
	case len(a.Pre) == 0:
		return 1
	case len(b.Pre) == 0:
		return -1
	}
	for i := 0; i < len(a.Pre) && i < len(b.Pre); i++ {
		if c := compareIdentifier(a.Pre[i], b.Pre[i]); c != 0 {
			return c
		}
	}
	return cmp(len(a.Pre), len(b.Pre))
}

func compareIdentifier(x, y string) int {
	xn, yn := numeric(x), numeric(y)
	switch {
	case xn && yn:
		return cmp(x, y)
	case xn:
		return -1
	case yn:
		return 1
	}
	return cmp(x, y)
}

// Package semver parses and orders semantic versions.
package semver

// Version is a parsed semantic version.
type Version struct {
	Major, Minor, Patch uint64
	Pre                 []string
	Build               []string
}

// Parse parses a semantic version, with an optional leading "v".
func Parse(s string) (Version, error) { panic("not implemented") }

// String is the canonical form.
func (v Version) String() string { panic("not implemented") }

// Compare orders a and b by SemVer precedence.
func Compare(a, b Version) int { panic("not implemented") }

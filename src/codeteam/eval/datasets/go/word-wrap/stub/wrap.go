// Package wrap breaks text into lines.
package wrap

// Wrap breaks text into lines of at most width runes, greedily.
func Wrap(text string, width int) []string { panic("not implemented") }

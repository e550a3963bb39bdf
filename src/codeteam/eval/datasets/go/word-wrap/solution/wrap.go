// Package wrap breaks text into lines.
package wrap

import "strings"

// Wrap breaks text into lines of at most width runes, greedily.
func Wrap(text string, width int) []string {
	if width < 1 {
		panic("wrap: width must be at least 1")
	}
	lines := []string{}
	var line []rune
	for _, word := range strings.Fields(text) {
		runes := []rune(word)
		for len(runes) > 0 {
			chunk := runes
			if len(chunk) > width {
				chunk = runes[:width]
			}
			runes = runes[len(chunk):]
			switch {
			case len(line) == 0:
				line = append(line, chunk...)
			case len(line)+1+len(chunk) <= width:
				line = append(append(line, ' '), chunk...)
			default:
				lines = append(lines, string(line))
				line = append([]rune(nil), chunk...)
			}
		}
	}
	if len(line) > 0 {
		lines = append(lines, string(line))
	}
	return lines
}

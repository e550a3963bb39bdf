// Package humandur parses and formats durations with weeks and days.
package humandur

import "time"

// Parse reads a duration such as "1w2d3h4m5s6ms".
func Parse(s string) (time.Duration, error) { panic("not implemented") }

// Format writes d in the canonical form Parse reads.
func Format(d time.Duration) string { panic("not implemented") }

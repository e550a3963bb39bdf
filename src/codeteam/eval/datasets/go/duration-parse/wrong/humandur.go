// Package humandur parses and formats durations with weeks and days.
package humandur

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

var units = []struct {
	name string
	size time.Duration
}{
	{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour},
	{"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond},
}

// Parse reads a duration such as "1w2d3h4m5s6ms".
func Parse(s string) (time.Duration, error) {
	rest, negative := strings.CutPrefix(s, "-")
	if rest == "" {
		return 0, fmt.Errorf("duration %q: empty", s)
	}
	var total int64
	next := 0 // index of the smallest unit allowed next
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("duration %q: expected a number", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		found := -1
		for k := max(next-1, 0); k < len(units); k++ {
			if units[k].name == unit {
				found = k
				break
			}
		}
		if found < 0 {
			return 0, fmt.Errorf("duration %q: unit %q unknown, repeated or out of order", s, unit)
		}
		next = found + 1
		size := int64(units[found].size)
		if n > (math.MaxInt64-total)/size {
			return 0, errors.New("duration " + strconv.Quote(s) + ": overflow")
		}
		total += n * size
	}
	if negative {
		total = -total
	}
	return time.Duration(total), nil
}

// Format writes d in the canonical form Parse reads.
func Format(d time.Duration) string {
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
	}
	for _, u := range units {
		n := d / u.size
		if n < 0 {
			n = -n
		}
		if n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
		}
		d %= u.size
	}
	if s := b.String(); s != "" && s != "-" {
		return s
	}
	return "0s"
}

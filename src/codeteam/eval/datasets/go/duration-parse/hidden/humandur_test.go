package humandur

import (
	"math"
	"testing"
	"time"
)

const day = 24 * time.Hour

func TestParse(t *testing.T) {
	cases := map[string]time.Duration{
		"0s":            0,
		"1w2d":          9 * day,
		"90m":           90 * time.Minute,
		"1h30m15s":      time.Hour + 30*time.Minute + 15*time.Second,
		"2s500ms":       2500 * time.Millisecond,
		"-3d":           -3 * day,
		"1w1d1h1m1s1ms": 8*day + time.Hour + time.Minute + time.Second + time.Millisecond,
		"007h":          7 * time.Hour,
		"15250w":        15250 * 7 * day,
		"1000ms":        time.Second,
	}
	for s, want := range cases {
		if got, err := Parse(s); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "-", "5", "h", "1x", "1h 2m", "1m1h", "1h1h", "1s1m",
		"1ms1s", "--1s", "+1s", "1.5h", "1H", "15251w", "99999999999999999999s", "1d-2h", "1mss"} {
		if got, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", s, got)
		}
	}
}

func TestFormat(t *testing.T) {
	cases := map[time.Duration]string{
		0:                                       "0s",
		36 * time.Hour:                          "1d12h",
		15 * day:                                "2w1d",
		-90 * time.Minute:                       "-1h30m",
		2500 * time.Millisecond:                 "2s500ms",
		time.Millisecond + 999*time.Microsecond: "1ms",
		999 * time.Microsecond:                  "0s",
		-999 * time.Microsecond:                 "0s",
		time.Hour + time.Second:                 "1h1s",
	}
	for d, want := range cases {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{1, time.Millisecond, 59 * time.Second, 25 * time.Hour,
		8*day + 3*time.Millisecond, -(3*day + 4*time.Minute), time.Duration(math.MaxInt64) / 1e6 * 1e6,
		time.Duration(math.MinInt64+1) / 1e6 * 1e6} {
		want := d / time.Millisecond * time.Millisecond
		if got, err := Parse(Format(d)); err != nil || got != want {
			t.Errorf("Parse(Format(%v)) = %v, %v; want %v", d, got, err, want)
		}
	}
}

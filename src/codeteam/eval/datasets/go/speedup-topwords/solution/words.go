// Package words counts words.
package words

import "sort"

// WordCount is a word and how often it occurs.
type WordCount struct {
	Word  string
	Count int
}

// TopWords splits text into words (maximal runs of ASCII letters, lower-cased; every other
// byte separates words) and returns the k most frequent, most frequent first, ties in
// alphabetical order. Fewer than k when the text has fewer distinct words; k <= 0 gives an
// empty non-nil slice.
func TopWords(text string, k int) []WordCount {
	counts := map[string]int{}
	buf := make([]byte, 0, 32)
	for i := 0; i <= len(text); i++ {
		var c byte
		if i < len(text) {
			c = text[i]
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c >= 'a' && c <= 'z' {
			buf = append(buf, c)
			continue
		}
		if len(buf) > 0 {
			counts[string(buf)]++
			buf = buf[:0]
		}
	}
	all := make([]WordCount, 0, len(counts))
	for w, n := range counts {
		all = append(all, WordCount{w, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Count != all[j].Count {
			return all[i].Count > all[j].Count
		}
		return all[i].Word < all[j].Word
	})
	if k < 0 {
		k = 0
	}
	if k > len(all) {
		k = len(all)
	}
	return all[:k]
}

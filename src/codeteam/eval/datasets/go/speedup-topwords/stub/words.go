// Package words counts words.
package words

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
	counts := []WordCount{}
	word := ""
	flush := func() {
		if word == "" {
			return
		}
		for i := range counts {
			if counts[i].Word == word {
				counts[i].Count++
				word = ""
				return
			}
		}
		counts = append(counts, WordCount{word, 1})
		word = ""
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c >= 'a' && c <= 'z' {
			word += string(c)
		} else {
			flush()
		}
	}
	flush()
	for i := 0; i < len(counts); i++ {
		for j := 0; j+1 < len(counts)-i; j++ {
			a, b := counts[j], counts[j+1]
			if b.Count > a.Count || (b.Count == a.Count && b.Word < a.Word) {
				counts[j], counts[j+1] = b, a
			}
		}
	}
	if k < 0 {
		k = 0
	}
	if k > len(counts) {
		k = len(counts)
	}
	return counts[:k]
}

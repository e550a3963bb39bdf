package words

// baselineTopWords is the code as given: the benchmark's reference.
func baselineTopWords(text string, k int) []WordCount {
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

// Package trie is a prefix tree with weighted autocomplete.
package trie

// Trie holds weighted words.
type Trie struct{}

// New returns an empty trie.
func New() *Trie { panic("not implemented") }

// Add inserts word, or adds weight to it when present.
func (t *Trie) Add(word string, weight int) { panic("not implemented") }

// Remove deletes word; false if it was not present.
func (t *Trie) Remove(word string) bool { panic("not implemented") }

// Weight returns the weight of word.
func (t *Trie) Weight(word string) (int, bool) { panic("not implemented") }

// Len is the number of words.
func (t *Trie) Len() int { panic("not implemented") }

// Complete returns up to k words starting with prefix, best first.
func (t *Trie) Complete(prefix string, k int) []string { panic("not implemented") }

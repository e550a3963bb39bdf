// Package trie is a prefix tree with weighted autocomplete.
package trie

import "sort"

type node struct {
	children map[byte]*node
	word     bool
	weight   int
}

// Trie holds weighted words.
type Trie struct {
	root node
	n    int
}

// New returns an empty trie.
func New() *Trie { return &Trie{} }

func (t *Trie) find(s string) *node {
	cur := &t.root
	for i := 0; i < len(s) && cur != nil; i++ {
		cur = cur.children[s[i]]
	}
	return cur
}

// Add inserts word, or adds weight to it when present.
func (t *Trie) Add(word string, weight int) {
	cur := &t.root
	for i := 0; i < len(word); i++ {
		if cur.children == nil {
			cur.children = map[byte]*node{}
		}
		next := cur.children[word[i]]
		if next == nil {
			next = &node{}
			cur.children[word[i]] = next
		}
		cur = next
	}
	if !cur.word {
		cur.word, cur.weight = true, 0
		t.n++
	}
	cur.weight += weight
}

// Remove deletes word; false if it was not present.
func (t *Trie) Remove(word string) bool {
	n := t.find(word)
	if n == nil || !n.word {
		return false
	}
	n.word, n.weight = false, 0
	t.n--
	return true
}

// Weight returns the weight of word.
func (t *Trie) Weight(word string) (int, bool) {
	if n := t.find(word); n != nil && n.word {
		return n.weight, true
	}
	return 0, false
}

// Len is the number of words.
func (t *Trie) Len() int { return t.n }

type scored struct {
	word   string
	weight int
}

// Complete returns up to k words starting with prefix, best first.
func (t *Trie) Complete(prefix string, k int) []string {
	var found []scored
	var walk func(n *node, path []byte)
	walk = func(n *node, path []byte) {
		if n.word {
			found = append(found, scored{string(path), n.weight})
		}
		for b, child := range n.children {
			walk(child, append(path, b))
		}
	}
	if start := t.find(prefix); start != nil {
		walk(start, []byte(prefix))
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].weight != found[j].weight {
			return found[i].weight > found[j].weight
		}
		return found[i].word < found[j].word
	})
	out := []string{}
	for i := 0; i < len(found) && i < k; i++ {
		out = append(out, found[i].word)
	}
	return out
}

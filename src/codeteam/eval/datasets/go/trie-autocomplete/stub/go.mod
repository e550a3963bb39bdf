module trie

go 1.22

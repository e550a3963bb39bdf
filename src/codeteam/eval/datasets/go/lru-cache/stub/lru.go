// Package lru is a least-recently-used cache.
package lru

// Cache holds at most capacity entries, evicting the least recently used.
type Cache[K comparable, V any] struct{}

// New returns an empty cache; it panics if capacity < 1.
func New[K comparable, V any](capacity int) *Cache[K, V] { panic("not implemented") }

// Get returns the value of key; a hit makes key the most recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) { panic("not implemented") }

// Put inserts or updates key, making it the most recently used.
func (c *Cache[K, V]) Put(key K, value V) { panic("not implemented") }

// Len is the number of entries.
func (c *Cache[K, V]) Len() int { panic("not implemented") }

// Keys lists the keys, most recently used first.
func (c *Cache[K, V]) Keys() []K { panic("not implemented") }

// Package lru is a least-recently-used cache.
package lru

import "container/list"

type item[K comparable, V any] struct {
	key   K
	value V
}

// Cache holds at most capacity entries, evicting the least recently used.
type Cache[K comparable, V any] struct {
	capacity int
	order    *list.List // front: most recently used
	index    map[K]*list.Element
}

// New returns an empty cache; it panics if capacity < 1.
func New[K comparable, V any](capacity int) *Cache[K, V] {
	if capacity < 1 {
		panic("lru: capacity must be at least 1")
	}
	return &Cache[K, V]{capacity: capacity, order: list.New(), index: map[K]*list.Element{}}
}

// Get returns the value of key; a hit makes key the most recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	if e, ok := c.index[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*item[K, V]).value, true
	}
	var zero V
	return zero, false
}

// Put inserts or updates key, making it the most recently used.
func (c *Cache[K, V]) Put(key K, value V) {
	if e, ok := c.index[key]; ok {
		e.Value.(*item[K, V]).value = value
		c.order.MoveToFront(e)
		return
	}
	c.index[key] = c.order.PushFront(&item[K, V]{key, value})
	if c.order.Len() > c.capacity {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.index, last.Value.(*item[K, V]).key)
	}
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int { return c.order.Len() }

// Keys lists the keys, most recently used first.
func (c *Cache[K, V]) Keys() []K {
	keys := make([]K, 0, c.order.Len())
	for e := c.order.Front(); e != nil; e = e.Next() {
		keys = append(keys, e.Value.(*item[K, V]).key)
	}
	return keys
}

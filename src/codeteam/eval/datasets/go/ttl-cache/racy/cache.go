// Package ttlcache is a concurrency-safe cache whose entries expire after a TTL.
package ttlcache

import (
	"sync"
	"time"
)

type entry[V any] struct {
	value   V
	expires time.Time
}

// Cache maps string keys to values of type V that expire ttl after they are set.
type Cache[V any] struct {
	mu     sync.RWMutex
	ttl    time.Duration
	now    func() time.Time
	items  map[string]entry[V]
	hits   uint64
	misses uint64
}

// New returns an empty cache using time.Now as its clock.
func New[V any](ttl time.Duration) *Cache[V] { return NewWithClock[V](ttl, time.Now) }

// NewWithClock returns an empty cache reading the time from now.
func NewWithClock[V any](ttl time.Duration, now func() time.Time) *Cache[V] {
	return &Cache[V]{ttl: ttl, now: now, items: make(map[string]entry[V])}
}

// Set inserts or replaces key; its TTL restarts.
func (c *Cache[V]) Set(key string, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items[key] = entry[V]{value, c.now().Add(c.ttl)}
}

// Get returns the live value of key, or the zero value and false.
func (c *Cache[V]) Get(key string) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.items[key]
	if ok && c.now().Before(e.expires) {
		c.hits++
		return e.value, true
	}
	c.misses++
	var zero V
	return zero, false
}

// Delete removes key.
func (c *Cache[V]) Delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.items, key)
}

// Len counts the entries not yet expired.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, n := c.now(), 0
	for _, e := range c.items {
		if now.Before(e.expires) {
			n++
		}
	}
	return n
}

// Purge removes expired entries and returns how many it removed.
func (c *Cache[V]) Purge() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, n := c.now(), 0
	for k, e := range c.items {
		if !now.Before(e.expires) {
			delete(c.items, k)
			n++
		}
	}
	return n
}

// Stats returns how many Get calls found (hits) or did not find (misses) a live value.
func (c *Cache[V]) Stats() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

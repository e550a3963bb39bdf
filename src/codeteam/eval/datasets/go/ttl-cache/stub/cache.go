// Package ttlcache is a concurrency-safe cache whose entries expire after a TTL.
package ttlcache

import "time"

// Cache maps string keys to values of type V that expire ttl after they are set.
type Cache[V any] struct{}

// New returns an empty cache using time.Now as its clock.
func New[V any](ttl time.Duration) *Cache[V] { return NewWithClock[V](ttl, time.Now) }

// NewWithClock returns an empty cache reading the time from now.
func NewWithClock[V any](ttl time.Duration, now func() time.Time) *Cache[V] {
	panic("not implemented")
}

// Set inserts or replaces key; its TTL restarts.
func (c *Cache[V]) Set(key string, value V) { panic("not implemented") }

// Get returns the live value of key, or the zero value and false.
func (c *Cache[V]) Get(key string) (V, bool) { panic("not implemented") }

// Delete removes key.
func (c *Cache[V]) Delete(key string) { panic("not implemented") }

// Len counts the entries not yet expired.
func (c *Cache[V]) Len() int { panic("not implemented") }

// Purge removes expired entries and returns how many it removed.
func (c *Cache[V]) Purge() int { panic("not implemented") }

// Stats returns how many Get calls found (hits) or did not find (misses) a live value.
func (c *Cache[V]) Stats() (hits, misses uint64) { panic("not implemented") }

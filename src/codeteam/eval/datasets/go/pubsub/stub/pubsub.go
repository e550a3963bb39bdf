// Package pubsub is an in-process publish/subscribe broker.
package pubsub

// Broker fans published values out to subscribers.
type Broker[T any] struct{}

// New returns a broker without subscribers.
func New[T any]() *Broker[T] { panic("not implemented") }

// Subscribe returns a channel of published values and a function that unsubscribes.
func (b *Broker[T]) Subscribe(buffer int) (<-chan T, func()) { panic("not implemented") }

// Publish offers v to every subscriber without blocking; it returns how many received it.
func (b *Broker[T]) Publish(v T) int { panic("not implemented") }

// Close closes every subscriber's channel.
func (b *Broker[T]) Close() { panic("not implemented") }

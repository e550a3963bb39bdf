// Package ratelimit is a token-bucket rate limiter.
package ratelimit

import "time"

// Limiter hands out tokens from a bucket refilled at a fixed rate.
type Limiter struct{}

// New returns a full limiter refilling rate tokens per second, holding at most burst.
func New(rate float64, burst int, now func() time.Time) *Limiter { panic("not implemented") }

// Allow takes one token if there is one.
func (l *Limiter) Allow() bool { panic("not implemented") }

// AllowN takes n tokens if the bucket holds at least n, else none.
func (l *Limiter) AllowN(n int) bool { panic("not implemented") }

// Tokens is the number of tokens in the bucket now.
func (l *Limiter) Tokens() float64 { panic("not implemented") }

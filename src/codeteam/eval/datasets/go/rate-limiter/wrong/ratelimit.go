// Package ratelimit is a token-bucket rate limiter.
package ratelimit

import (
	"sync"
	"time"
)

// Limiter hands out tokens from a bucket refilled at a fixed rate.
type Limiter struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	now    func() time.Time
	tokens float64
	last   time.Time
}

// New returns a full limiter refilling rate tokens per second, holding at most burst.
func New(rate float64, burst int, now func() time.Time) *Limiter {
	if !(rate > 0) || burst < 1 {
		panic("ratelimit: rate must be > 0 and burst >= 1")
	}
	return &Limiter{rate: rate, burst: float64(burst), now: now, tokens: float64(burst), last: now()}
}

// refill adds the tokens accrued since the last call; l.mu is held.
func (l *Limiter) refill() {
	t := l.now()
	if elapsed := t.Sub(l.last); elapsed > 0 {
		l.tokens += l.rate * elapsed.Seconds()
		l.last = t
	}
}

// Allow takes one token if there is one.
func (l *Limiter) Allow() bool { return l.AllowN(1) }

// AllowN takes n tokens if the bucket holds at least n, else none.
func (l *Limiter) AllowN(n int) bool {
	if n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill()
	if l.tokens < float64(n) {
		return false
	}
	l.tokens -= float64(n)
	return true
}

// Tokens is the number of tokens in the bucket now.
func (l *Limiter) Tokens() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill()
	return l.tokens
}

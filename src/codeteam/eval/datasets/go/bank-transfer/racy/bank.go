// Package bank moves money between accounts safely under concurrency.
package bank

import (
	"errors"
	"fmt"
	"sync"
)

// ErrInsufficient: the source account holds less than the amount.
var ErrInsufficient = errors.New("insufficient funds")

// ErrNoAccount: an account id is unknown.
var ErrNoAccount = errors.New("no such account")

// Bank holds account balances.
type Bank struct {
	mu       sync.Mutex
	accounts map[string]*account // fixed after New
}

type account struct{ balance int64 }

// New returns a bank holding a copy of balances.
func New(balances map[string]int64) *Bank {
	accounts := make(map[string]*account, len(balances))
	for id, v := range balances {
		accounts[id] = &account{v}
	}
	return &Bank{accounts: accounts}
}

// Balance returns the balance of id.
func (b *Bank) Balance(id string) (int64, error) {
	acct, ok := b.accounts[id]
	if !ok {
		return 0, fmt.Errorf("%q: %w", id, ErrNoAccount)
	}
	return acct.balance, nil // one word: reading it needs no lock
}

// Transfer moves amount from one account to another.
func (b *Bank) Transfer(from, to string, amount int64) error {
	if amount <= 0 {
		return fmt.Errorf("amount %d: must be positive", amount)
	}
	if from == to {
		return fmt.Errorf("transfer from %q to itself", from)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	src, ok := b.accounts[from]
	if !ok {
		return fmt.Errorf("%q: %w", from, ErrNoAccount)
	}
	dst, ok := b.accounts[to]
	if !ok {
		return fmt.Errorf("%q: %w", to, ErrNoAccount)
	}
	if src.balance < amount {
		return fmt.Errorf("%q holds %d, needs %d: %w", from, src.balance, amount, ErrInsufficient)
	}
	src.balance -= amount
	dst.balance += amount
	return nil
}

// Total is the sum of all balances.
func (b *Bank) Total() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sum int64
	for _, acct := range b.accounts {
		sum += acct.balance
	}
	return sum
}

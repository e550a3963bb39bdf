// Package bank moves money between accounts safely under concurrency.
package bank

import "errors"

// ErrInsufficient: the source account holds less than the amount.
var ErrInsufficient = errors.New("insufficient funds")

// ErrNoAccount: an account id is unknown.
var ErrNoAccount = errors.New("no such account")

// Bank holds account balances.
type Bank struct{}

// New returns a bank holding a copy of balances.
func New(balances map[string]int64) *Bank { panic("not implemented") }

// Balance returns the balance of id.
func (b *Bank) Balance(id string) (int64, error) { panic("not implemented") }

// Transfer moves amount from one account to another.
func (b *Bank) Transfer(from, to string, amount int64) error { panic("not implemented") }

// Total is the sum of all balances.
func (b *Bank) Total() int64 { panic("not implemented") }

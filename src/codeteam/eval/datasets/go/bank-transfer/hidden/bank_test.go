package bank

import (
	"errors"
	"sync"
	"testing"
)

func TestTransferAndBalance(t *testing.T) {
	src := map[string]int64{"a": 100, "b": 5}
	b := New(src)
	src["a"] = 0
	if err := b.Transfer("a", "b", 30); err != nil {
		t.Fatal(err)
	}
	if v, _ := b.Balance("a"); v != 70 {
		t.Fatalf("a = %d, want 70 (New must copy the map)", v)
	}
	if v, _ := b.Balance("b"); v != 35 {
		t.Fatalf("b = %d, want 35", v)
	}
	if b.Total() != 105 {
		t.Fatalf("Total = %d", b.Total())
	}
}

func TestErrors(t *testing.T) {
	b := New(map[string]int64{"a": 10, "b": 0})
	if err := b.Transfer("a", "b", 11); !errors.Is(err, ErrInsufficient) {
		t.Fatalf("overdraw: %v", err)
	}
	if err := b.Transfer("a", "b", 10); err != nil {
		t.Fatalf("exact balance: %v", err)
	}
	if err := b.Transfer("b", "a", 11); !errors.Is(err, ErrInsufficient) {
		t.Fatalf("overdraw by one: %v", err)
	}
	if err := b.Transfer("a", "b", 1); !errors.Is(err, ErrInsufficient) {
		t.Fatalf("empty account: %v", err)
	}
	if err := b.Transfer("x", "a", 1); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("unknown from: %v", err)
	}
	if err := b.Transfer("b", "y", 1); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("unknown to: %v", err)
	}
	if _, err := b.Balance("zz"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("Balance unknown: %v", err)
	}
	for _, amt := range []int64{0, -5} {
		if err := b.Transfer("b", "a", amt); err == nil {
			t.Fatalf("amount %d accepted", amt)
		}
	}
	if err := b.Transfer("b", "b", 1); err == nil {
		t.Fatal("self transfer accepted")
	}
	if v, _ := b.Balance("b"); v != 10 {
		t.Fatalf("failed transfers changed b: %d", v)
	}
}

func TestConcurrentTransfers(t *testing.T) {
	ids := []string{"a", "b", "c", "d"}
	start := map[string]int64{}
	for _, id := range ids {
		start[id] = 1000
	}
	b := New(start)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() { // reads balances and the total while transfers run
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, id := range ids {
				if v, err := b.Balance(id); err != nil || v < 0 || v > 4000 {
					t.Errorf("Balance(%s) = %d, %v mid-run", id, v, err)
				}
			}
			if total := b.Total(); total != 4000 {
				t.Errorf("Total = %d mid-run", total)
			}
		}
	}()
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				from, to := ids[(g+i)%4], ids[(g+i+1+i%3)%4]
				if err := b.Transfer(from, to, int64(1+i%7)); err != nil && !errors.Is(err, ErrInsufficient) {
					t.Error(err)
				}
				if i%10 == 0 {
					if total := b.Total(); total != 4000 {
						t.Errorf("Total = %d mid-run", total)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(stop)
	<-watched
	for _, id := range ids {
		if v, _ := b.Balance(id); v < 0 {
			t.Fatalf("%s went negative: %d", id, v)
		}
	}
	if total := b.Total(); total != 4000 {
		t.Fatalf("Total = %d, want 4000", total)
	}
}

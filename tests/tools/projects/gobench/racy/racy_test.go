package racy

import (
	"sync"
	"testing"
)

func TestCounterRace(t *testing.T) {
	counter := 0
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				counter++
			}
		}()
	}
	wg.Wait()
	if counter == 0 {
		t.Fatal("no increments")
	}
}

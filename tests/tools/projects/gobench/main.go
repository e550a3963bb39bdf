package main

import (
	"fmt"

	"example.com/gobench/perf"
)

func main() {
	fmt.Println("gobench", perf.Fast(10))
}

// Command hello is the smallest user program: it greets, and checks that
// goroutines, timers and the environment work.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

func main() {
	fmt.Printf("hello from pid %d: args %q, HOME=%q\n", os.Getpid(), os.Args, os.Getenv("HOME"))
	var wg sync.WaitGroup
	results := make([]int, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Millisecond)
			results[i] = i * i
		}()
	}
	wg.Wait()
	fmt.Println("hello: goroutines say", results)
}

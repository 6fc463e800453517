package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// child plays a role for the process tests and returns the exit code.
func child(role string, args []string) int {
	switch {
	case strings.HasPrefix(role, "exit="):
		n, _ := strconv.Atoi(strings.TrimPrefix(role, "exit="))
		return n
	case role == "upcase":
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			fmt.Println(strings.ToUpper(sc.Text()))
		}
		if len(args) > 0 {
			n, _ := strconv.Atoi(strings.TrimPrefix(args[0], "exit="))
			return n
		}
		return 0
	case role == "printenv":
		fmt.Println(os.Getenv(args[0]))
		return 0
	case role == "spin":
		for {
		}
	case role == "crash" && len(args) == 1:
		crash(args[0])
		fmt.Println("still alive after crash", args[0])
		return 99
	}
	fmt.Fprintf(os.Stderr, "usertests: unknown role %q %q\n", role, args)
	return 100
}

// ud2 executes an undefined instruction (crash_amd64.s).
func ud2()

// divideByZero executes an integer division by zero, which Go code never
// does without a check (crash_amd64.s).
func divideByZero()

// jump transfers control to addr (crash_amd64.s).
func jump(addr uintptr)

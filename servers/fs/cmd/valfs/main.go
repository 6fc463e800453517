// Command valfs builds and inspects Valence filesystem images on the
// host. Run it from the repository root:
//
//	go run ./servers/fs/cmd/valfs mkfs [-size N] [-from DIR] IMAGE
//	go run ./servers/fs/cmd/valfs ls IMAGE PATH
//	go run ./servers/fs/cmd/valfs cat IMAGE PATH
//	go run ./servers/fs/cmd/valfs put IMAGE HOSTFILE PATH
//	go run ./servers/fs/cmd/valfs rm IMAGE PATH
//	go run ./servers/fs/cmd/valfs fsck IMAGE
//	go run ./servers/fs/cmd/valfs stat IMAGE [PATH]
//
// mkfs makes an image of N bytes (suffixes K, M, G, T; default 64M, or
// enough for DIR) and copies the host tree DIR into it, keeping modes,
// owners, modification times, symlinks and hard links. fsck exits 0 only
// when the image is clean and prints every problem it finds otherwise.
// Every command refuses a damaged, truncated or foreign image with an
// error saying so.
//
// Exit status: 0 success, 1 failure (or problems found by fsck), 2 bad
// usage.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// errUsage marks errors in how valfs was invoked.
var errUsage = errors.New("usage")

// command is one valfs subcommand.
type command struct {
	args string
	run  func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"mkfs": {"[-size N] [-from DIR] IMAGE", runMkfs},
	"ls":   {"IMAGE PATH", runLs},
	"cat":  {"IMAGE PATH", runCat},
	"put":  {"IMAGE HOSTFILE PATH", runPut},
	"rm":   {"IMAGE PATH", runRm},
	"fsck": {"IMAGE", runFsck},
	"stat": {"IMAGE [PATH]", runStat},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: valfs <command> [arguments]")
	for _, name := range []string{"mkfs", "ls", "cat", "put", "rm", "fsck", "stat"} {
		fmt.Fprintf(w, "  valfs %s %s\n", name, commands[name].args)
	}
}

// run is main without the process: tests call it directly.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "valfs: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	err := cmd.run(args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "usage: valfs %s %s\n", args[0], cmd.args)
		return 2
	case errors.Is(err, errProblems):
		return 1
	}
	fmt.Fprintf(stderr, "valfs: %s: %v\n", args[0], err)
	return 1
}

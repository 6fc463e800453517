// Command gensysnames writes rt/sysnames.go: the Linux amd64 system call
// names indexed by number, taken from golang.org/x/sys/unix, so that the
// kernel can log an unsupported call by name without carrying a table by
// hand. Run it with `go generate ./rt` from the microkernel module.
package main

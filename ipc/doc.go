// Package ipc is the wire ABI shared by the Valence kernel and user space.
// It is a leaf package: it imports nothing, so both sides can depend on it.
//
// For now it holds the numbers of the native (Valence-specific) system
// calls. They live in a range Linux does not use (NativeBase and up), on
// the same SYSCALL instruction as the Linux ABI; the kernel dispatches on
// the number. User programs reach them through valence.dev/libos.
package ipc

// Package kfile is the kernel's open-file layer: what a Linux file
// descriptor leads to, whatever serves it.
//
// Model. A File is an open object: a file or directory of a filesystem,
// a device, a pipe end (package pipe), the terminal (package tty), an
// eventfd or epoll instance (package epoll), or a file of a file server
// (package fsclient). An OpenFile is an open file description around a
// File: its offset and status flags, shared by dup'd descriptors and
// across fork, and reference-counted so that the File is released exactly
// once, when the last descriptor (or epoll interest) on it goes. An
// FDTable maps a process's descriptor numbers to open files, each with
// its close-on-exec flag.
//
// Filesystems. FS is what a mount serves (package vfs keeps the mounts;
// package proc resolves paths to a mount and a path inside it, At). It
// lives here, not in proc, because an open file description records its
// filesystem and because the forwarding client (fsclient) implements it;
// proc imports both, and neither imports proc.
//
// Callers. File and FS methods take the calling thread as a Caller, an
// interface package proc's Thread implements, so that files can block
// interruptibly (WaitUntil), raise SIGPIPE, and tell the processes they
// serve apart, without importing proc. A nil Caller is the kernel's own
// call (reading an executable, closing a file as its last descriptor
// goes): nothing interrupts it. Package kfiletest has a fake Caller for
// hosted tests.
//
// Wakeups. An Event is a broadcast condition: a waiter takes Wait's
// channel before it checks its condition, so a Signal in between is not
// lost. Every blocking file has one (returned by Poll), which epoll
// watches too; its Seq counts Signals for edge-triggered interests.
//
// Locking. FDTable.mu guards the table; OpenFile.Mu guards the offset and
// flags and is held across a write at the file offset, so that writers
// on one description take turns. Files are released with no table lock
// held (a release may block, e.g. on a file server).
package kfile

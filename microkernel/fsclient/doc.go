// Package fsclient forwards Linux file calls to file servers: a mount
// served over IPC is an FS (a kfile.FS), and the kernel calls the server
// as a client of the file protocol (servers/fs/fileproto; fsd is one)
// through the endpoint it was mounted with, with the badge of that
// capability, on behalf of the process making the file call.
//
// Files. Open files are the server's file ids; the kernel is one client
// of the server for every process, and closes an id when the last
// descriptor on the open file description is closed. Bulk data goes
// through shared buffers the server attaches (buf.go), small transfers
// inline in the messages.
//
// Failures. A dead server fails calls with EIO at once (the call never
// hangs on a server that is gone). A call made for a thread is not
// interrupted by a signal, as valence_call is not (the server may already
// be carrying the request out); only the caller's death abandons it. A
// call without a calling thread (the kernel's own: closing a file as its
// last descriptor goes) waits at most remoteCallTimeout. When the mount
// is given a restarted server (Replace, for MountReplace), files opened
// before are reopened by path on first use, without O_CREAT, O_EXCL and
// O_TRUNC, so a program that had a file open across the restart goes on
// with it; a file that cannot be reopened (removed meanwhile) gives EIO.
//
// What the client needs from package proc comes through interfaces proc
// implements: the calling thread as a kfile.Caller (its PID, blocking,
// interruption, the in-call mark), and a reply's handles as Handles (the
// transit table, to find the memory of an attached buffer). The
// credentials are the empty fileproto.Cred: every process is root until
// the kernel has users.
//
// Locking. mount.mu guards the server (endpoint, badge, generation);
// mount.bufMu the buffers; file.mu a file's id and generation, and is
// held while the file is reopened; dir.dmu a directory's batch of
// entries, held while a batch is fetched. No other lock is held across a
// call to the server.
package fsclient

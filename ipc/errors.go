package ipc

// Errors of the native calls are negative errno values in RAX, as for
// Linux calls, with Linux's numbers (syscall.Errno in user space; this
// leaf package defines none of them):
//
//	EBADF       not a handle of this process: forged, closed, or zero
//	ESTALE      the handle's slot was reused: its generation is old
//	EACCES      the capability lacks a right the call needs
//	EINVAL      bad arguments, including rights that are not a subset of
//	            the rights held (attenuation only removes)
//	EOWNERDEAD  the peer died: the server of an endpoint, or the caller
//	            awaiting a reply
//	EMSGSIZE    data or handles over the limits
//	ENOSPC      the handle table is full
//	EINTR       a signal interrupted a blocking call

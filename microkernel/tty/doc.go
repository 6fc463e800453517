// Package tty is the console as a terminal for user programs
// (/dev/console, /dev/tty, and the first process's descriptors 0, 1 and
// 2): Linux's line discipline (termios(3), tty_ioctl(4)) and the
// terminal's side of job control.
//
// Input. A goroutine reads the device (package console's serial port in
// the kernel, a fake in tests) from the first read or poll on, and runs
// the discipline over each typed byte (discipline.go), in Linux's order:
// ISTRIP and IUCLC; a byte after VLNEXT is taken literally; with IXON,
// VSTOP and VSTART stop and restart output (IXANY: any byte restarts);
// with ISIG, VINTR, VQUIT and VSUSP discard the input (unless NOFLSH)
// and send SIGINT, SIGQUIT or SIGTSTP to the foreground process group;
// IGNCR, ICRNL and INLCR map carriage returns and newlines. In canonical
// mode (ICANON) a line is edited (VERASE, VKILL, and with IEXTEN
// VWERASE, VREPRINT, VLNEXT) and becomes readable at a newline, VEOL,
// VEOL2 or VEOF; VEOF on an empty line is end of file; a read returns at
// most one line. In non-canonical mode bytes are readable as typed and a
// read follows VMIN and VTIME (termios(3): MIN bytes, an inter-byte
// timer, a read timer, or a poll). Echo follows ECHO, ECHOE, ECHOK,
// ECHOKE, ECHONL and ECHOCTL (control characters as ^X); erasing rubs
// out as many columns as the echo took (tabs, ^X, UTF-8 with IUTF8). The
// input held is bounded (4096 bytes, as Linux's buffer); beyond it input
// is dropped (a bell with IMAXBEL).
//
// Output (output.go) is processed as Linux's do_output_char with OPOST:
// ONLCR, OCRNL, ONOCR, ONLRET, XTABS, OLCUC, with the column tracked;
// without OPOST it goes to the device unchanged (the serial device is
// written raw). Echo goes through the same processing. Writes are
// synchronous, so TCSETSW and TCSETSF have nothing to wait for and
// TIOCOUTQ is 0; a stop (VSTOP, TCOOFF) holds writes back, not echo. Not implemented: parity and break handling (a serial
// console has neither here), output delays, ECHOPRT, FLUSHO and VDISCARD
// (disabled in the defaults), XCASE, PENDIN, IXOFF (input is never
// throttled, it is dropped when full), TIOCSTI and packet mode.
//
// Job control (jobs.go). The terminal records the session it is the
// controlling terminal of and that session's foreground process group;
// package proc keeps the processes' side (which processes have it as
// their controlling terminal, who may set the foreground group) and
// calls Attach, SetForeground and Detach, and sends the signals through
// the Jobs interface. A calling thread that implements Member is
// checked as Linux's __tty_check_change does: a process in a background
// group of the terminal's session gets SIGTTIN for a read and SIGTTOU for
// a write with TOSTOP or a change of settings, sent to its whole group,
// and the call fails with EINTR for the kernel to restart once the group
// is continued; if the signal is blocked or ignored a read fails with
// EIO and a write or change proceeds; an orphaned group gets EIO.
//
// The boot-time fallback. The first process's session has the console
// as its controlling terminal from boot, with the first process's group
// as its foreground group (what TIOCGPGRP reports, and what the
// background checks use). Until job control sets a foreground group
// (TIOCSPGRP, or TIOCSCTTY/open by another session leader), and again
// after the session gives the terminal up, the signal characters and
// SIGWINCH go to the process that last read the terminal rather than to
// a group: that is how the console behaved before there were process
// groups, and it keeps ^C from killing every process of the first
// session (init among them) when a program run without a job-control
// shell is interrupted. (If that process has ended and its PID been
// reused, the new holder of the PID is signalled.)
//
// Locking. Console.mu guards the settings, the queues, the column and
// the job-control state; Console.outMu serialises output (echo and
// writes), taken before mu. Device writes, wakeups and signals happen
// with mu released, and the terminal never calls into package proc with
// mu held (proc calls the terminal with its own job-control lock held).
package tty

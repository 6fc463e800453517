// Command svc lists and controls the services init (pid 1) supervises
// (docs/init.md):
//
//	svc [list]             every service: NAME STATE PID RESTARTS UPTIME BY LAST-EXIT
//	svc start NAME         start a stopped or failed service
//	svc stop NAME          stop a service and keep it stopped
//	svc restart NAME       stop it and start it again
//	svc kill NAME [SIG]    send a signal (default TERM; KILL, SIGKILL or 9 alike);
//	                       init then restarts it by its policy
//	svc log NAME           its recent lines: its output and init's events
//
// The drivers appear in the list after pcid, which supervises them (BY
// says which process restarts a row). start, stop and restart wait (at
// most -wait) until the service has settled and print its new state.
//
// svc talks to init over init's control socket (an abstract AF_UNIX
// name) with valence.dev/userland/init/control; init checks the
// caller's uid with SO_PEERCRED (start, stop, restart and kill need uid
// 0). svc exits 0 on success, 1 when init refuses (its reason on
// stderr) or cannot be reached, 2 on a usage error.
package main

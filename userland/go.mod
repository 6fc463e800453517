module valence.dev/userland

go 1.26

require (
	valence.dev/ipc v0.0.0
	valence.dev/libos v0.0.0
)

require golang.org/x/sys v0.43.0

replace valence.dev/libos => ../libos

replace valence.dev/ipc => ../ipc

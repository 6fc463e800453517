module valence.dev/microkernel

go 1.26.3

require (
	github.com/google/go-cmp v0.7.0
	golang.org/x/sys v0.50.0
	gvisor.dev/gvisor v0.0.0-20260905035102-160fafc42237
	valence.dev/caps v0.0.0
	valence.dev/ipc v0.0.0
)

require (
	golang.org/x/exp v0.0.0-20250711185948-6ae5c78190dc // indirect
	golang.org/x/time v0.15.0 // indirect
	valence.dev/servers/fs v0.0.0
	valence.dev/servers/net v0.0.0
)

replace valence.dev/ipc => ../ipc

replace valence.dev/caps => ../caps

replace valence.dev/servers/fs => ../servers/fs

replace valence.dev/drivers/lib => ../drivers/lib

replace valence.dev/libos => ../libos

replace valence.dev/servers/net => ../servers/net

module valence.dev/userland

go 1.26.3

require (
	github.com/BurntSushi/toml v1.6.0
	valence.dev/drivers/edu v0.0.0
	valence.dev/drivers/lib v0.0.0
	valence.dev/ipc v0.0.0
	valence.dev/libos v0.0.0
	valence.dev/servers/fs v0.0.0
	valence.dev/servers/net v0.0.0
)

require (
	golang.org/x/sys v0.50.0
	mvdan.cc/sh/v3 v3.14.1
)

require (
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	golang.org/x/term v0.45.0 // indirect
)

require (
	github.com/google/go-cmp v0.7.0
	golang.org/x/exp v0.0.0-20250711185948-6ae5c78190dc // indirect
	golang.org/x/time v0.15.0 // indirect
	gvisor.dev/gvisor v0.0.0-20260905035102-160fafc42237
)

replace valence.dev/libos => ../libos

replace valence.dev/ipc => ../ipc

replace valence.dev/drivers/lib => ../drivers/lib

replace valence.dev/drivers/edu => ../drivers/edu

replace valence.dev/servers/net => ../servers/net

replace valence.dev/servers/fs => ../servers/fs

module valence.dev/microkernel

go 1.26.3

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	golang.org/x/sys v0.43.0 // indirect
	gvisor.dev/gvisor v0.0.0-20260905035102-160fafc42237 // indirect
	valence.dev/caps v0.0.0
	valence.dev/ipc v0.0.0
)

replace valence.dev/ipc => ../ipc

replace valence.dev/caps => ../caps

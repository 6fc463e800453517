module valence.dev/tools/mkimage

go 1.26.3

require (
	github.com/google/go-cmp v0.7.0
	valence.dev/microkernel v0.0.0
	valence.dev/servers/fs v0.0.0
)

require (
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
)

// The workspace (go.work) normally supplies the microkernel and servers/fs
// modules; the replaces keep `GOWORK=off go build` working from a plain checkout.
replace (
	valence.dev/microkernel => ../../microkernel
	valence.dev/servers/fs => ../../servers/fs
)

module valence.dev/servers/fs

go 1.26

require (
	github.com/google/go-cmp v0.7.0
	github.com/hashicorp/go-multierror v1.1.1
)

require github.com/hashicorp/errwrap v1.0.0 // indirect

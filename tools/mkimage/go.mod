module valence.dev/tools/mkimage

go 1.26.3

require (
	github.com/google/go-cmp v0.7.0
	valence.dev/microkernel v0.0.0
)

// The workspace (go.work) normally supplies the microkernel module; the
// replace keeps `GOWORK=off go build` working from a plain checkout.
replace valence.dev/microkernel => ../../microkernel

module valence.dev/tools/bench

go 1.26.3

require (
	github.com/google/go-cmp v0.7.0
	valence.dev/servers/fs v0.0.0
)

// The workspace (go.work) normally supplies servers/fs (the file boots'
// Valence image is made with its hostcopy package); the replace keeps
// `GOWORK=off go build` working from a plain checkout.
replace valence.dev/servers/fs => ../../servers/fs

module valence.dev/tools/bench

go 1.26.3

require (
	github.com/google/go-cmp v0.7.0
	golang.org/x/sys v0.50.0
	valence.dev/servers/fs v0.0.0
	valence.dev/servers/net v0.0.0
)

// The workspace (go.work) normally supplies servers/fs (the file boots'
// Valence image is made with its hostcopy package) and servers/net (the
// network boots' namespaces and DHCP messages); the replaces keep
// `GOWORK=off go build` working from a plain checkout.
replace (
	valence.dev/drivers/lib => ../../drivers/lib
	valence.dev/ipc => ../../ipc
	valence.dev/libos => ../../libos
	valence.dev/servers/fs => ../../servers/fs
	valence.dev/servers/net => ../../servers/net
)

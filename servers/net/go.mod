module valence.dev/servers/net

go 1.26.3

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/google/go-cmp v0.7.0
	golang.org/x/sys v0.50.0
	gvisor.dev/gvisor v0.0.0-20260905035102-160fafc42237
	valence.dev/drivers/lib v0.0.0
	valence.dev/ipc v0.0.0
	valence.dev/libos v0.0.0
)

require (
	golang.org/x/exp v0.0.0-20250711185948-6ae5c78190dc // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace (
	valence.dev/drivers/lib => ../../drivers/lib
	valence.dev/ipc => ../../ipc
	valence.dev/libos => ../../libos
)

module valence.dev/drivers/lib

go 1.26

require (
	github.com/google/go-cmp v0.7.0
	valence.dev/ipc v0.0.0
	valence.dev/libos v0.0.0
)

replace (
	valence.dev/ipc => ../../ipc
	valence.dev/libos => ../../libos
)

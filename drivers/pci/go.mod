module valence.dev/drivers/pci

go 1.26

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/google/go-cmp v0.7.0
	valence.dev/drivers/lib v0.0.0
)

require (
	valence.dev/ipc v0.0.0 // indirect
	valence.dev/libos v0.0.0 // indirect
)

replace (
	valence.dev/drivers/lib => ../lib
	valence.dev/ipc => ../../ipc
	valence.dev/libos => ../../libos
)

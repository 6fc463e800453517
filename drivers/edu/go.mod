module valence.dev/drivers/edu

go 1.26

require (
	valence.dev/drivers/lib v0.0.0
	valence.dev/ipc v0.0.0
	valence.dev/libos v0.0.0
)

replace (
	valence.dev/drivers/lib => ../lib
	valence.dev/ipc => ../../ipc
	valence.dev/libos => ../../libos
)

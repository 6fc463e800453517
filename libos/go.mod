module valence.dev/libos

go 1.26

require valence.dev/ipc v0.0.0

replace valence.dev/ipc => ../ipc

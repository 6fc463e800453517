module valence.dev/ipc

go 1.26

module valence.dev/userland

go 1.26

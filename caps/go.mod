module valence.dev/caps

go 1.26

require valence.dev/ipc v0.0.0

require github.com/google/go-cmp v0.7.0

replace valence.dev/ipc => ../ipc

module valence.dev/tools/bench

go 1.26

package rt

//go:generate go run ./internal/gensysnames

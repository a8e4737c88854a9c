//go:build race

package lsp_test

// Under -race the server binary is built with the race detector too, so a
// data race in the server fails the test that provoked it (it exits 66).
func init() { buildFlags = append(buildFlags, "-race") }

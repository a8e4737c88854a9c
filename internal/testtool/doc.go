// Package testtool finds the outside programs that tests drive (Neovim for
// the editor test, Graphviz's dot for the diagrams) and decides what a
// missing one means. In CI (the environment variable CI is set, as CI
// services and .ci/run set it, to anything but "0" or "false") a missing
// tool is a failure: CI installs everything the tests need, and a test
// that quietly skips there checks nothing. Elsewhere the test is skipped with a message naming the Debian
// package to install; `make test` also prints that message, since `go test`
// shows skips only with -v.
package testtool

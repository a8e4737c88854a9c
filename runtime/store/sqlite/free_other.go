//go:build !unix

package sqlite

import "errors"

// freeBytes is not known here: WriteError then reports a full disk until a
// write succeeds.
func freeBytes(string) (int64, error) {
	return 0, errors.New("free space unknown on this system")
}

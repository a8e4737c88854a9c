//go:build !unix

package storelock

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked")

// lock does nothing where flock does not exist: the store is unguarded
// there, as it was before this package.
func lock(*os.File) error { return nil }

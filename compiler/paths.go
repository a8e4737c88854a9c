package compiler

import (
	"errors"
	"io/fs"
)

// unwrapPathError drops the path from an fs error: the diagnostic already
// names the file, relative to the workspace.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

package lang

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Limits on what a workspace may hold. A workspace comes from a pull
// request, so whoever wrote it must not be able to make the loader read
// without end or exhaust memory. The limits are far above real use (the
// examples are a few KB per file; a thousand generated journeys are 3 MB)
// and are documented in docs/operations.md.
const (
	// MaxFileBytes is the size limit of one workspace file or template.
	MaxFileBytes = 1 << 20
	// MaxWorkspaceBytes is the size limit of all of a workspace's files
	// together (templates are counted by the compiler against the same
	// limit). In the worst case (many small blocks) parsing costs about a
	// second per MiB here and, as reported, some 80 bytes of memory per
	// byte of source: this keeps a hostile workspace to seconds and under
	// a GB.
	MaxWorkspaceBytes = 8 << 20
	// MaxFiles is the limit on the number of workspace files.
	MaxFiles = 10_000
)

// The ways ReadFile refuses a file, for errors.Is.
var (
	// ErrOutsideWorkspace: the path climbs out of the workspace root, is
	// absolute, or is a symlink whose target is outside the root.
	ErrOutsideWorkspace = errors.New("outside the workspace")
	// ErrNotRegular: the path is a directory, a FIFO, a device or a socket.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file is larger than MaxFileBytes.
	ErrTooLarge = errors.New("too large")
)

// nonBlocking keeps open from waiting on a FIFO swapped in after the check:
// the open returns at once and the Stat of the open file refuses it.
const nonBlocking = syscall.O_NONBLOCK

// ReadFile reads the workspace file at rel, a slash-separated path relative
// to root, refusing anything whose contents the workspace's author does not
// own: a path outside the root (after symlinks), a file that is not a
// regular file (it is refused before it is opened: opening a FIFO would
// block, reading a device might never end), and a file over MaxFileBytes
// (it is read through a limit, so a file that grows while being read
// cannot exhaust memory either). Every entry point reads workspace files
// and templates through it.
func ReadFile(root, rel string) ([]byte, error) {
	name := filepath.FromSlash(rel)
	if !filepath.IsLocal(name) {
		return nil, fileError(rel, ErrOutsideWorkspace)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	info, err := r.Stat(name)
	if err != nil {
		if escapes(root, name) {
			return nil, fileError(rel, ErrOutsideWorkspace)
		}
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fileError(rel, ErrNotRegular)
	}
	if info.Size() > MaxFileBytes {
		return nil, fileError(rel, ErrTooLarge)
	}
	f, err := r.OpenFile(name, os.O_RDONLY|nonBlocking, 0)
	if err != nil {
		if escapes(root, name) { // swapped for a symlink since the Stat
			return nil, fileError(rel, ErrOutsideWorkspace)
		}
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return nil, err
	} else if !info.Mode().IsRegular() {
		return nil, fileError(rel, ErrNotRegular)
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxFileBytes {
		return nil, fileError(rel, ErrTooLarge)
	}
	return src, nil
}

// escapes reports whether name, resolved under root, ends outside root: the
// reason os.Root refused it.
func escapes(root, name string) bool {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return false
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root, name))
	if err != nil {
		// A dangling link or a loop: os.Root reports those itself unless
		// the link points out, which Readlink of the last element shows.
		target, lerr := os.Readlink(filepath.Join(root, name))
		return lerr == nil && filepath.IsAbs(target) && !within(realRoot, target)
	}
	return !within(realRoot, real)
}

func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && filepath.IsLocal(rel)
}

// FileError is a file ReadFile refuses: which, why (one of the Err
// values, for errors.Is), and what to do.
type FileError struct {
	Path   string // as given to ReadFile
	Reason error
}

func fileError(rel string, reason error) error { return &FileError{Path: rel, Reason: reason} }

func (e *FileError) Unwrap() error { return e.Reason }

func (e *FileError) Error() string {
	switch e.Reason {
	case ErrOutsideWorkspace:
		return fmt.Sprintf("%q is outside the workspace root (after symlinks); only files inside the workspace are read: move the file into the workspace", e.Path)
	case ErrNotRegular:
		return fmt.Sprintf("%q is not a regular file (a directory, FIFO, device or socket); only regular files are read: replace it with a file", e.Path)
	case ErrTooLarge:
		return fmt.Sprintf("%q is larger than %s, the limit of one workspace file: split it", e.Path, FormatBytes(MaxFileBytes))
	}
	return fmt.Sprintf("%q: %v", e.Path, e.Reason)
}

// Summary is the diagnostic summary for the refusal.
func (e *FileError) Summary() string {
	switch e.Reason {
	case ErrOutsideWorkspace:
		return "File outside the workspace"
	case ErrNotRegular:
		return "Not a regular file"
	case ErrTooLarge:
		return "File too large"
	}
	return "Cannot read file"
}

// FormatBytes writes a byte count for people: 1 MiB, 8 MiB, 14.5 MiB,
// 512 bytes.
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// readProblem turns a ReadFile error about the file rel into a diagnostic's
// summary and detail.
func readProblem(rel string, err error) (summary, detail string) {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe.Summary(), fe.Error() + "."
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return "Cannot read file", fmt.Sprintf("Reading %s failed: %v.", rel, err)
}

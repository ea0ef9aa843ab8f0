// Package userfile reads files a person or a network request named, which
// may be anything: /dev/zero, a FIFO nobody writes, a folder, a sparse file
// of terabytes. Every model, manifest and network file reverie opens comes
// through it.
package userfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Read reads a file a person named, which may be anything: /dev/zero,
// a FIFO nobody writes, a folder, a sparse file of terabytes. It opens the
// path non-blocking (so a FIFO cannot hang the caller), checks the open
// descriptor with fstat (so the file checked is the file read) for a
// regular file of at most limit bytes, and only then reads, never more
// than limit. Errors name the file and the rule, never its contents.
func Read(path, what string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, StripPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, StripPath(err))
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s: not a regular file (%s); expected a file", what, path, fileKind(st.Mode()))
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s %s: %d bytes; at most %d are accepted", what, path, st.Size(), limit)
	}
	// The file may grow between fstat and read: read at most limit+1.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, StripPath(err))
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s %s: grew past %d bytes while being read", what, path, limit)
	}
	return data, nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}

// StripPath drops the path an *os.PathError repeats, leaving the reason
// ("no such file or directory"): the caller names the file in its own words.
// Every package that reports a path error goes through it.
func StripPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CheckInput says why path cannot be read as an input file: it is missing,
// unreadable or a folder. The error gives the reason only; the caller names
// the flag or key.
func CheckInput(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return StripPath(err)
	}
	if st.IsDir() {
		return errors.New("is a folder")
	}
	return nil
}

// CheckWritable makes the folder dir if needed and proves a file can be
// created in it, so a long run does not fail at its first write.
func CheckWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the folder: %w", StripPath(err))
	}
	f, err := os.CreateTemp(dir, ".reverie-write-test-*")
	if err != nil {
		return fmt.Errorf("folder is not writable: %w", StripPath(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

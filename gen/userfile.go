package gen

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"syscall"

	"go.yaml.in/yaml/v3"
)

// Limits on the files a user (or a network request) names. A manifest is a
// few hundred bytes; the largest generators people export (StyleGAN2 at
// 1024²) are a few hundred megabytes.
const (
	MaxManifestBytes = 1 << 20
	MaxModelBytes    = 2 << 30
)

// readUserFile reads a file a person named, which may be anything: /dev/zero,
// a FIFO nobody writes, a folder, a sparse file of terabytes. It opens the
// path non-blocking (so a FIFO cannot hang the caller), checks the open
// descriptor with fstat (so the file checked is the file read) for a
// regular file of at most limit bytes, and only then reads, never more
// than limit. Errors name the file and the rule, never its contents.
func readUserFile(path, what string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, unwrapPathError(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, unwrapPathError(err))
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
		return nil, fmt.Errorf("%s %s: %w", what, path, unwrapPathError(err))
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

// yamlLine finds the "line N" a YAML error is about.
var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlError says what is wrong with a YAML file without its text: YAML's
// own messages quote the offending value, and a manifest path may name
// /etc/shadow.
func yamlError(err error) error {
	at := ""
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		at = "line " + m[1] + ": "
	}
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te) && len(te.Errors) > 0:
		if m := yamlLine.FindStringSubmatch(te.Errors[0]); m != nil {
			at = "line " + m[1] + ": "
		}
		return fmt.Errorf("%sa key that is not a manifest key, or a value of the wrong type (%d problems); expected the keys name, model, latent, inputs, output, directions as models/README.md shows", at, len(te.Errors))
	case errors.Is(err, io.EOF):
		return errors.New("empty; expected a YAML manifest")
	}
	return fmt.Errorf("%snot valid YAML", at)
}

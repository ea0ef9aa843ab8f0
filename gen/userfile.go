package gen

import (
	"errors"
	"fmt"
	"io"
	"regexp"

	"go.yaml.in/yaml/v3"

	"reverie/internal/userfile"
)

// Limits on the files a user (or a network request) names. A manifest is a
// few hundred bytes; the largest generators people export (StyleGAN2 at
// 1024²) are a few hundred megabytes.
const (
	MaxManifestBytes = 1 << 20
	MaxModelBytes    = 2 << 30
)

// readUserFile reads a file a person (or a network request) named, within
// limit bytes, as internal/userfile does.
func readUserFile(path, what string, limit int64) ([]byte, error) {
	return userfile.Read(path, what, limit)
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

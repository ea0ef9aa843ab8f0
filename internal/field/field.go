// Package field is the error every config section returns when one of its
// values is wrong: the key below the section and what was expected. The
// command adds the section and the line in config.yaml.
package field

// Error names the config key (below its section, such as "width" or
// "passes[0].zoom") a validation failure is about.
type Error struct {
	Key string
	Msg string
}

func (e *Error) Error() string { return e.Key + ": " + e.Msg }

// FieldKey is the key below the section.
func (e *Error) FieldKey() string { return e.Key }

package gen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"reverie/internal/project"
)

// LibraryFile is the ONNX Runtime shared library's file name, as scripts/setup.sh
// installs it under the project's third_party/onnxruntime folder.
const LibraryFile = "libonnxruntime.so.1"

// LibraryEnv names the environment variable that points at the library.
const LibraryEnv = "REVERIE_ORT_LIB"

// projectLibrary is the install location, relative to the project root.
var projectLibrary = filepath.Join("third_party", "onnxruntime", LibraryFile)

// Library is where the ONNX Runtime library was found and why it was chosen.
type Library struct {
	Path   string // the real file, symlinks resolved
	Source string // "config", "env REVERIE_ORT_LIB", "project", "system"
}

// ErrLibraryNotFound is returned by FindLibrary when no candidate exists.
var ErrLibraryNotFound = errors.New("ONNX Runtime library not found")

// FindLibrary looks for the ONNX Runtime library in this order: the configured
// path, $REVERIE_ORT_LIB, the project's own install location (searched upward
// from the working directory and from the executable), then the system library
// paths. A configured or env path that does not exist is an error, not a miss.
func FindLibrary(configured string) (Library, error) {
	if configured != "" {
		p, err := realFile(configured)
		if err != nil {
			return Library{}, fmt.Errorf("generator.ort_library %q: %w", configured, err)
		}
		return Library{p, "config"}, nil
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		p, err := realFile(env)
		if err != nil {
			return Library{}, fmt.Errorf("%s=%q: %w", LibraryEnv, env, err)
		}
		return Library{p, "env " + LibraryEnv}, nil
	}
	found := func(p string) bool { _, err := realFile(p); return err == nil }
	if p, ok := project.Find(projectLibrary, found); ok {
		r, _ := realFile(p)
		return Library{r, "project"}, nil
	}
	dirs := filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))
	dirs = append(dirs, "/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib", "/lib/x86_64-linux-gnu")
	for _, dir := range dirs {
		for _, name := range []string{LibraryFile, "libonnxruntime.so"} {
			if p, err := realFile(filepath.Join(dir, name)); err == nil {
				return Library{p, "system"}, nil
			}
		}
	}
	return Library{}, fmt.Errorf("%w (looked at generator.ort_library, $%s, %s, system library paths): run `make setup` to install it, or set %s to the library file",
		ErrLibraryNotFound, LibraryEnv, projectLibrary, LibraryEnv)
}

func realFile(p string) (string, error) {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", errors.New("no such file")
		}
		return "", err
	}
	st, err := os.Stat(r)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		return "", errors.New("is a folder, expected the library file " + LibraryFile)
	}
	return filepath.Abs(r)
}

var (
	initMu  sync.Mutex
	initLib Library
)

// Init loads the ONNX Runtime library once per process. Later calls return
// the library already loaded.
func Init(configured string) (Library, error) {
	initMu.Lock()
	defer initMu.Unlock()
	if ort.IsInitialized() {
		return initLib, nil
	}
	lib, err := FindLibrary(configured)
	if err != nil {
		return Library{}, err
	}
	ort.SetSharedLibraryPath(lib.Path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return Library{}, fmt.Errorf("loading ONNX Runtime from %s: %s", lib.Path, strings.TrimSpace(err.Error()))
	}
	initLib = lib
	return lib, nil
}

// RuntimeVersion is the loaded ONNX Runtime's version, or "" before Init.
func RuntimeVersion() string {
	if !ort.IsInitialized() {
		return ""
	}
	return ort.GetVersion()
}

// Package headless gives reverie a display where there is none. Ebiten opens
// its X11 connection while Go packages initialise, before main runs, and
// panics without one; so a C constructor, which runs before any Go code,
// restarts the program under xvfb-run when DISPLAY is unset. Rendering
// offline and commands that show nothing then work from any shell, and a
// missing display is one clear line instead of a panic.
package headless

/*
#cgo CFLAGS: -O2
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int reverie_headless = 0;

__attribute__((constructor)) static void reverie_need_display(int argc, char **argv) {
	const char *d = getenv("DISPLAY");
	if (d != NULL && d[0] != '\0') {
		reverie_headless = getenv("REVERIE_HEADLESS") != NULL;
		return;
	}
	if (getenv("REVERIE_HEADLESS") != NULL) {
		fprintf(stderr, "reverie: no display: DISPLAY is still unset under xvfb-run\n");
		_exit(1);
	}
	static char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0) {
		fprintf(stderr, "reverie: no display (DISPLAY is unset), and the program's own path cannot be read to restart it under xvfb-run\n");
		_exit(1);
	}
	self[len] = '\0';
	setenv("REVERIE_HEADLESS", "1", 1);
	char **args = calloc(argc + 6, sizeof(char *));
	if (args == NULL) {
		_exit(1);
	}
	int n = 0;
	args[n++] = "xvfb-run";
	args[n++] = "-a";
	args[n++] = "-s";
	args[n++] = "-screen 0 1920x1080x24 -nolisten tcp";
	args[n++] = self;
	for (int i = 1; i < argc; i++) {
		args[n++] = argv[i];
	}
	args[n] = NULL;
	execvp("xvfb-run", args);
	fprintf(stderr, "reverie: no display (DISPLAY is unset) and xvfb-run is not available to provide one: run `make setup`, or start reverie from a desktop session\n");
	_exit(1);
}

static int reverie_is_headless(void) { return reverie_headless; }
*/
import "C"

// Virtual reports whether the program runs on a virtual display that
// reverie started itself because DISPLAY was unset.
func Virtual() bool { return C.reverie_is_headless() != 0 }

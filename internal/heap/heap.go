// Package heap keeps the memory of C libraries from creeping over weeks.
//
// Opening a model session or a camera allocates hundreds of megabytes in
// ONNX Runtime, OpenCV and FFmpeg. glibc keeps freed blocks for reuse, so
// without a trim every model swap or camera reconnect leaves the process
// larger: measured here, 60 swaps grew RSS from 80 to about 200 MiB without
// trimming and stayed near 90 MiB with it. An installation that runs for
// weeks trims after each such rare event, never per frame.
package heap

/*
#include <malloc.h>

// glibc gives each new thread its own arena, up to eight per core, and
// ONNX Runtime, OpenCV and FFmpeg start threads of their own (FFmpeg again
// at every camera reopen). Memory freed in one arena is not reused by
// another, so RSS creeps. Four arenas keep allocation fast on the threads
// that matter and bound that spread. It runs at load, before any thread.
__attribute__((constructor)) static void reverie_limit_arenas(void) {
	mallopt(M_ARENA_MAX, 4);
}
*/
import "C"

// Trim returns free C heap memory to the system. It takes milliseconds;
// call it after releasing a large native resource, not on a hot path.
func Trim() { C.malloc_trim(0) }

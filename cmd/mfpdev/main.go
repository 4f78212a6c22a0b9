// Command mfpdev packages, serves and applies direct updates of the web
// resources of Cordova apps that use cordova-plugin-mfp.
package main

import (
	"os"

	"github.com/mfpdev/mfpdev/internal/cli"
)

func main() {
	os.Exit(int(cli.Main()))
}

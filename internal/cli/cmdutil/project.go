package cmdutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/mfpdev/mfpdev/pkg/cordova"
)

// FindProject returns the root of the Cordova project at or above dir, the
// value of a --project flag. Its errors name the flag and ask to check the
// path, because those of cordova.Find advise passing --project, which the
// user just did.
func FindProject(dir string) (string, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", Usagef("--project %s: folder not found: check the path of the Cordova project", dir)
	case err != nil:
		return "", fmt.Errorf("--project %s: %w", dir, err)
	case !info.IsDir():
		return "", Usagef("--project %s: not a folder: give the folder of the Cordova project", dir)
	}

	root, err := cordova.Find(dir)
	if errors.Is(err, cordova.ErrNoConfig) {
		return "", Usagef("--project %s: %w in that folder or any parent folder: check the path of the Cordova project", dir, cordova.ErrNoConfig)
	}
	return root, err
}

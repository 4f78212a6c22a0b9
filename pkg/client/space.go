package client

import (
	"fmt"
	"io/fs"
	"path/filepath"
)

// checkSpace fails with FAILURE_NOT_ENOUGH_SPACE unless dir's file system
// can hold the rest of the archive (packed bytes not yet downloaded) and
// the unpacked tree.
func checkSpace(dir string, packedLeft, unpacked int64) error {
	free, err := freeSpace(dir)
	if err != nil {
		return &Failure{Status: StatusFailureUnknown, Err: err}
	}
	need := packedLeft + unpacked
	if need < 0 || uint64(need) > free {
		return &Failure{Status: StatusFailureNotEnoughSpace,
			Err: fmt.Errorf("%s has %d bytes free, the update needs %d (%d to download, %d unpacked)", dir, free, need, packedLeft, unpacked)}
	}
	return nil
}

// treeSize returns the total size in bytes of the regular files under dir.
func treeSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", dir, err)
	}
	return total, nil
}

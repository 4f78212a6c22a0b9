//go:build unix

package client

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// freeSpace returns the bytes an unprivileged process may still write on
// the file system holding dir.
func freeSpace(dir string) (uint64, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return fs.Bavail * uint64(fs.Bsize), nil
}

// lockFile takes an exclusive flock(2) lock on f without waiting. It
// returns false when another process holds the lock.
func lockFile(f *os.File) (bool, error) {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

func unlockFile(f *os.File) {
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
}

// syncUnsupported reports whether a folder sync failed only because the
// file system does not sync folders.
func syncUnsupported(err error) bool {
	return errors.Is(err, unix.EINVAL)
}

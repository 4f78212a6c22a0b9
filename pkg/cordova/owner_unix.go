//go:build unix

package cordova

import (
	"io/fs"
	"os"
	"syscall"
)

// keepOwner gives the new file f the owner and group of the file it
// replaces. Only root may change them, and failure leaves the caller as
// owner, as any new file would have.
func keepOwner(f *os.File, old fs.FileInfo) {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return
	}
	f.Chown(int(st.Uid), int(st.Gid))
}

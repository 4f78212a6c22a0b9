// Package crashtest kills the process at named points of a write, for
// tests that check what a crash leaves behind. The point is chosen with
// the MFPDEV_TEST_CRASH_AT environment variable, which only tests set;
// without it At does nothing.
package crashtest

import "os"

// Env names the environment variable that selects the crash point.
const Env = "MFPDEV_TEST_CRASH_AT"

// Points of an upload, in the order they are reached.
const (
	AfterTemp        = "after-temp"         // the upload is spooled to a temporary file
	BlobBeforeRename = "blob-before-rename" // the blob is written and synced, not yet renamed into place
	AfterBlob        = "after-blob"         // the blob is stored, the metadata row not yet written
	BeforeCommit     = "before-commit"      // the metadata row is written in a transaction not yet committed
	AfterCommit      = "after-commit"       // the metadata row is committed, no response sent
)

var point = os.Getenv(Env)

// At kills the process with SIGKILL (TerminateProcess on Windows) when
// name is the point MFPDEV_TEST_CRASH_AT selects, so that no deferred
// function or buffered write runs, as in a power cut.
func At(name string) {
	if point == "" || point != name {
		return
	}

	self, err := os.FindProcess(os.Getpid())
	if err == nil {
		self.Kill()
	}
	select {}
}

//go:build unix

package webres

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestScanSpecialFile(t *testing.T) {
	root := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	problems := scanProblems(t, root)
	if p, ok := findProblem(problems, "pipe"); !ok || !strings.Contains(p.Reason, "not a regular file") {
		t.Errorf("FIFO not reported: %v", problems)
	}
}

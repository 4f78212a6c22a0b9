//go:build unix

package cordova

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestEditKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file another owner")
	}
	path := filepath.Join(t.TempDir(), "config.xml")
	if err := os.WriteFile(path, []byte(`<widget id="a" version="1"></widget>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if err := SetPublicKey(context.Background(), path, testKey); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	if st.Uid != 1234 || st.Gid != 5678 {
		t.Errorf("owner = %d:%d, want 1234:5678", st.Uid, st.Gid)
	}
}

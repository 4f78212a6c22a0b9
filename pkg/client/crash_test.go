package client

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// Environment of the helper process that TestUpdateRecoversCrashBetweenRenames kills.
const (
	crashEnvWWW = "MFPDEV_TEST_CRASH_WWW"
	crashEnvURL = "MFPDEV_TEST_CRASH_URL"
)

// TestHelperUpdateKilled is not a test on its own: it runs in a child
// process, which SIGKILLs itself between the two renames of the swap.
func TestHelperUpdateKilled(t *testing.T) {
	www := os.Getenv(crashEnvWWW)
	if www == "" {
		t.Skip("helper process of TestUpdateRecoversCrashBetweenRenames")
	}
	afterAside = func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	res, err := newDevice(www, os.Getenv(crashEnvURL)).Update(context.Background(), nil)
	t.Fatalf("the process survived the swap: %+v, %v", res, err)
}

// runKilledUpdate runs an update of www in a child process that is killed
// between the two renames.
func runKilledUpdate(t *testing.T, www, url string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperUpdateKilled$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvWWW+"="+www, crashEnvURL+"="+url)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	status, ok := exitErr.Sys().(syscall.WaitStatus)
	if !ok || !status.Signaled() || status.Signal() != syscall.SIGKILL {
		t.Fatalf("helper process ended with %v, want SIGKILL\n%s", err, out)
	}
}

func TestUpdateRecoversCrashBetweenRenames(t *testing.T) {
	srv := startServer(t)
	v2 := buildArchive(t, filesV2, testPlugin, nil)
	srv.push(t, v2)

	for _, next := range []string{"check", "update"} {
		t.Run(next, func(t *testing.T) {
			www, _ := deviceFolder(t, filesV1)
			runKilledUpdate(t, www, srv.URL)

			if _, err := os.Stat(www); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("after the kill, %s exists (%v): the kill did not land between the renames", www, err)
			}
			if _, err := os.Stat(filepath.Join(stateDir(www), journalName)); err != nil {
				t.Fatalf("after the kill, no journal: %v", err)
			}

			d := newDevice(www, srv.URL)
			// The killed process held the lock; flock released it, so the
			// next run takes it.
			if next == "check" {
				resp, err := d.Check(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if resp.UpdateAvailable {
					t.Errorf("check after recovery offers an update: %+v", resp)
				}
			} else {
				mustUpdate(t, d, StatusUpToDate)
			}
			assertSameTree(t, snapshot(t, www), expectedTree(t, filesV2))
			assertStateClean(t, www)
		})
	}
}

func TestRecoverRollsBackUnmovedTree(t *testing.T) {
	www, _ := deviceFolder(t, filesV1)
	before := snapshot(t, www)
	st, err := openState(www)
	if err != nil {
		t.Fatal(err)
	}
	// Killed after writing the journal, before setting WWW aside.
	writeFiles(t, st.path("staging-7"), map[string]string{"index.html": "new"})
	writeFiles(t, st.path(journalName), map[string]string{"": `{"checksum":7,"staging":"staging-7","old":"old-7"}`})

	if err := st.recover(); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, snapshot(t, www), before)
	assertStateClean(t, www)
}

func TestRecoverRestoresOldTree(t *testing.T) {
	www, _ := deviceFolder(t, filesV1)
	before := snapshot(t, www)
	st, err := openState(www)
	if err != nil {
		t.Fatal(err)
	}
	// WWW set aside and the staging tree lost: the old tree goes back.
	if err := os.Rename(www, st.path("old-7")); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, st.path(journalName), map[string]string{"": `{"checksum":7,"staging":"staging-7","old":"old-7"}`})

	if err := st.recover(); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, snapshot(t, www), before)
	assertStateClean(t, www)
}

func TestRecoverRejectsDamagedJournal(t *testing.T) {
	www, _ := deviceFolder(t, filesV1)
	st, err := openState(www)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, st.path(journalName), map[string]string{"": `{"checksum":7,"staging":"../../etc","old":"old-7"}`})

	if err := st.recover(); err == nil {
		t.Fatal("recover accepted a journal naming a folder outside the state folder")
	}
}

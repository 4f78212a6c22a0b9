package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Names inside the state folder.
const (
	lockName     = "lock"
	stateName    = "state.json"
	downloadName = "download.zip"
	journalName  = "journal.json"
	stagingStem  = "staging-"
	oldStem      = "old-"
)

// state is the hidden folder beside WWW where a device keeps what must
// survive between runs.
type state struct {
	www string // absolute path of the web resources folder
	dir string // absolute path of the state folder
}

// savedState is the content of state.json.
type savedState struct {
	// IntegrityFailure is set after FAILURE_INTEGRITY and cleared after
	// SUCCESS; the next check request carries it.
	IntegrityFailure bool `json:"integrityFailure,omitempty"`
	// Download describes the archive download.zip belongs to.
	Download *downloadTarget `json:"download,omitempty"`
}

// downloadTarget identifies an archive, so that a partial download is only
// resumed for the same bytes.
type downloadTarget struct {
	Checksum   uint32 `json:"checksum"`
	SHA256     string `json:"sha256,omitempty"`
	PackedSize int64  `json:"packedSize"`
	Link       string `json:"link"`
}

// openState returns the state folder of www, creating it if needed.
func openState(www string) (*state, error) {
	abs, err := filepath.Abs(www)
	if err != nil {
		return nil, fmt.Errorf("device state: %w", err)
	}
	abs = filepath.Clean(abs)
	dir := stateDir(abs)

	// WWW is missing only after a process was killed between the two
	// renames of a swap, and then the journal records how to put it back.
	info, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist) && !exists(filepath.Join(dir, journalName)):
		return nil, fmt.Errorf("web resources folder %s not found: check the path", abs)
	case err == nil && !info.IsDir():
		return nil, fmt.Errorf("web resources folder %s is not a folder: name the www folder", abs)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("device state: %w", err)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("device state: %w", err)
	}
	return &state{www: abs, dir: dir}, nil
}

// stateDir returns DIR/../.mfpdev-device-<basename of DIR>.
func stateDir(www string) string {
	return filepath.Join(filepath.Dir(www), ".mfpdev-device-"+filepath.Base(www))
}

func (s *state) path(name string) string { return filepath.Join(s.dir, name) }

// errLocked reports a lock that another process or Device holds.
var errLocked = errors.New("another update of the same web resources is running")

// fileLock is a held lock on the state folder's lock file: flock(2) on
// Unix, LockFileEx on Windows. The kernel releases it when the process
// exits, so a killed update never leaves a stale lock behind.
type fileLock struct{ f *os.File }

// tryLock takes the state folder's lock without waiting; it returns
// errLocked when the lock is taken.
func (s *state) tryLock() (*fileLock, error) {
	f, err := os.OpenFile(s.path(lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("device state: %w", err)
	}
	locked, err := lockFile(f)
	if err == nil && !locked {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", s.path(lockName), errLocked)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", s.path(lockName), err)
	}
	return &fileLock{f: f}, nil
}

func (l *fileLock) unlock() {
	unlockFile(l.f)
	l.f.Close()
}

// load reads state.json; a missing file is an empty state.
func (s *state) load() (savedState, error) {
	var saved savedState
	b, err := os.ReadFile(s.path(stateName))
	if errors.Is(err, os.ErrNotExist) {
		return saved, nil
	}
	if err != nil {
		return saved, fmt.Errorf("device state: %w", err)
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		// A damaged state file only costs a fresh download.
		return savedState{}, nil
	}
	return saved, nil
}

// save writes state.json atomically.
func (s *state) save(saved savedState) error {
	b, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path(stateName), b)
}

// update loads state.json, applies change and saves it.
func (s *state) update(change func(*savedState)) error {
	saved, err := s.load()
	if err != nil {
		return err
	}
	change(&saved)
	return s.save(saved)
}

// writeFileAtomic writes b to a temporary file beside path, syncs it and
// renames it over path.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())

	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes the renames inside dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !syncUnsupported(err) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// removeLeftovers deletes staging and old trees that no journal refers to.
// Callers hold the lock and have already processed the journal.
func (s *state) removeLeftovers() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("device state: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, stagingStem) && !strings.HasPrefix(name, oldStem) {
			continue
		}
		if err := os.RemoveAll(s.path(name)); err != nil {
			return fmt.Errorf("device state: remove leftover %s: %w", s.path(name), err)
		}
	}
	return nil
}

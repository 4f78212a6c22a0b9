package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// journal records a swap of the web resources folder in progress. It is
// written before the first rename and removed after the old tree is
// deleted, so the next run that finds it finishes the swap.
type journal struct {
	// Checksum is the new tree's checksum.
	Checksum uint32 `json:"checksum"`
	// Staging and Old are names inside the state folder: the verified new
	// tree, and where the current tree is set aside.
	Staging string `json:"staging"`
	Old     string `json:"old"`
}

// afterAside runs between the two renames of a swap. Tests replace it to
// kill the process at the worst moment.
var afterAside = func() {}

// swap replaces the web resources folder with the verified tree in the
// staging folder: WWW is renamed aside, staging is renamed to WWW, then the
// old tree is deleted. The journal makes every step recoverable.
func (s *state) swap(staging string, checksum uint32) error {
	j := journal{Checksum: checksum, Staging: staging, Old: fmt.Sprintf("%s%d", oldStem, checksum)}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.path(journalName), b); err != nil {
		return fmt.Errorf("swap web resources: %w", err)
	}

	if err := os.Rename(s.www, s.path(j.Old)); err != nil {
		os.Remove(s.path(journalName))
		return fmt.Errorf("swap web resources: set %s aside: %w", s.www, err)
	}
	afterAside()

	if err := os.Rename(s.path(j.Staging), s.www); err != nil {
		if backErr := os.Rename(s.path(j.Old), s.www); backErr != nil {
			// The journal stays, so the next run puts a tree back in place.
			return fmt.Errorf("swap web resources: move new tree to %s: %w (restoring the old tree also failed: %v)", s.www, err, backErr)
		}
		os.Remove(s.path(journalName))
		return fmt.Errorf("swap web resources: move new tree to %s: %w", s.www, err)
	}
	if err := syncDir(filepath.Dir(s.www)); err != nil {
		return fmt.Errorf("swap web resources: %w", err)
	}

	return s.finishSwap(j)
}

// finishSwap deletes the old tree, then the journal.
func (s *state) finishSwap(j journal) error {
	if err := os.RemoveAll(s.path(j.Old)); err != nil {
		return fmt.Errorf("swap web resources: remove old tree %s: %w", s.path(j.Old), err)
	}
	if err := os.Remove(s.path(journalName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("swap web resources: %w", err)
	}
	return syncDir(s.dir)
}

// recover finishes or rolls back a swap that a killed process left behind,
// then deletes staging and old trees no journal refers to. Callers hold
// the lock. A swap is finished when the verified new tree is still in the
// staging folder and WWW is gone (killed between the two renames); it is
// rolled back when WWW was never moved.
func (s *state) recover() error {
	b, err := os.ReadFile(s.path(journalName))
	if errors.Is(err, os.ErrNotExist) {
		return s.removeLeftovers()
	}
	if err != nil {
		return fmt.Errorf("recover interrupted update: %w", err)
	}
	var j journal
	if err := json.Unmarshal(b, &j); err != nil || !validLeaf(j.Staging) || !validLeaf(j.Old) {
		// The journal is written atomically, so this is not a crash we
		// caused; leave the folders alone for a person to inspect.
		return fmt.Errorf("recover interrupted update: %s is damaged: check that %s contains the web resources, then delete the journal", s.path(journalName), s.www)
	}

	// The journal is written once the staging tree is complete, so a WWW
	// without a staging tree beside it is the new tree.
	wwwExists, stagingExists, oldExists := exists(s.www), exists(s.path(j.Staging)), exists(s.path(j.Old))
	installed := false
	switch {
	case wwwExists:
		installed = !stagingExists
	case stagingExists:
		if err := os.Rename(s.path(j.Staging), s.www); err != nil {
			return fmt.Errorf("recover interrupted update: move new tree to %s: %w", s.www, err)
		}
		installed = true
	case oldExists:
		if err := os.Rename(s.path(j.Old), s.www); err != nil {
			return fmt.Errorf("recover interrupted update: restore old tree to %s: %w", s.www, err)
		}
	default:
		return fmt.Errorf("recover interrupted update: %s is missing and neither %s nor %s exists: reinstall the web resources", s.www, s.path(j.Staging), s.path(j.Old))
	}
	if err := syncDir(filepath.Dir(s.www)); err != nil {
		return fmt.Errorf("recover interrupted update: %w", err)
	}

	if err := s.finishSwap(j); err != nil {
		return err
	}
	if installed {
		if err := s.completeInstall(j.Checksum); err != nil {
			return err
		}
	}
	return s.removeLeftovers()
}

// completeInstall deletes the download of the archive with checksum and
// clears the integrity-failure flag, once that archive's tree is at WWW.
func (s *state) completeInstall(checksum uint32) error {
	saved, err := s.load()
	if err != nil {
		return err
	}
	if saved.Download != nil && saved.Download.Checksum == checksum {
		if err := os.Remove(s.path(downloadName)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("device state: %w", err)
		}
		saved.Download = nil
	}
	saved.IntegrityFailure = false
	return s.save(saved)
}

// validLeaf reports whether name is a single path element inside the state folder.
func validLeaf(name string) bool {
	return name != "" && name != "." && name != ".." && filepath.Base(name) == name
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/mfpdev/mfpdev/pkg/webres"
)

// source is one file of one job.
type source struct {
	job  int
	file *SourceFile
	size int64
}

func (s *source) name() string {
	if s.file.DiskPath != "" {
		return s.file.DiskPath
	}

	return s.file.Path
}

func (s *source) open() (io.ReadCloser, error) {
	if s.file.DiskPath == "" {
		return io.NopCloser(bytes.NewReader(s.file.Content)), nil
	}

	return os.Open(s.file.DiskPath)
}

// item is one path under www/ with the files of every job that has it.
type item struct {
	path    string
	sources []source
	cost    int64 // upper bound of the memory held while in flight, in bytes
}

// planItems checks the jobs and groups their files by path, in checksum
// order. It reports every invalid input at once.
func planItems(jobs []Job) ([]*item, error) {
	if len(jobs) == 0 {
		return nil, errNoJobs
	}

	var errs []error
	byPath := make(map[string]*item)
	dests := make(map[string]bool)

	for j := range jobs {
		job := &jobs[j]
		if job.Dest == "" {
			errs = append(errs, fmt.Errorf("write archives: job %d (%s) has no destination path", j, job.Meta.Platform))
			continue
		}
		if dests[job.Dest] {
			errs = append(errs, fmt.Errorf("write archive %s: two jobs write the same file", job.Dest))
		}
		dests[job.Dest] = true

		errs = append(errs, planJob(j, job, byPath)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	items := make([]*item, 0, len(byPath))
	for _, it := range byPath {
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b *item) int {
		switch {
		case webres.Less(a.path, b.path):
			return -1
		case webres.Less(b.path, a.path):
			return 1
		}

		return strings.Compare(a.path, b.path)
	})

	return items, nil
}

// planJob adds the files of one job to byPath and returns its invalid
// inputs.
func planJob(j int, job *Job, byPath map[string]*item) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("write archive %s: "+format, append([]any{job.Dest}, args...)...))
	}

	seen := make(map[string]bool, len(job.Files))
	paths := make([]string, 0, len(job.Files))

	for i := range job.Files {
		f := &job.Files[i]
		if err := webres.ValidatePath(f.Path); err != nil {
			fail("%w", err)
			continue
		}
		if seen[f.Path] {
			fail("%s listed twice", f.Path)
			continue
		}
		seen[f.Path] = true
		paths = append(paths, f.Path)

		size, err := sourceSize(f)
		if err != nil {
			fail("%s: %w", f.Path, err)
			continue
		}

		it := byPath[f.Path]
		if it == nil {
			it = &item{path: f.Path}
			byPath[f.Path] = it
		}
		it.sources = append(it.sources, source{job: j, file: f, size: size})
		if size > smallMax && f.DiskPath != "" {
			it.cost += largeFileCost
		} else {
			it.cost += size
		}
	}

	for _, p := range webres.FindCollisions(paths) {
		fail("%s: %s", strings.Join(p.Paths, ", "), p.Reason)
	}

	return errs
}

// sourceSize returns the size of a source file, which must be a regular
// file small enough for an entry without zip64 fields.
func sourceSize(f *SourceFile) (int64, error) {
	if f.DiskPath != "" && f.Content != nil {
		return 0, errors.New("both DiskPath and Content set: set one")
	}
	if f.DiskPath == "" {
		return int64(len(f.Content)), nil
	}

	fi, err := os.Stat(f.DiskPath)
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", f.DiskPath)
	}
	if fi.Size() > maxEntrySize {
		return 0, fmt.Errorf("%s is %d bytes, more than the %d-byte maximum of an entry", f.DiskPath, fi.Size(), int64(maxEntrySize))
	}

	return fi.Size(), nil
}

package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mfpdev/mfpdev/pkg/webres"
)

// DeltaKeepPrefix starts each line of ddu.script that names a file the
// device copies unchanged from its current web resources ("/www/js/app.js").
const DeltaKeepPrefix = "/www/"

// maxScriptProblems bounds the problems Read lists for one ddu.script, so
// that a script of a million bad lines gives a readable error.
const maxScriptProblems = 20

// DiffDigests splits the files of target into those a delta from base
// must ship and those the device keeps from base, both in the order of
// target. A file is kept only when base has the same path with the same
// size and SHA-256. The filelist and every file the web-resources checksum
// leaves out (checksum.js, skinLoader.js, …) are always shipped, because
// the device's checksum cannot vouch for its copy of them. Files of base
// missing from target are in neither list, so the device deletes them.
func DiffDigests(base, target []FileDigest) (ship, keep []string) {
	have := make(map[string]FileDigest, len(base))
	for _, d := range base {
		have[d.Path] = d
	}

	for _, d := range target {
		old, ok := have[d.Path]
		switch {
		case d.Path == webres.FileListName, webres.ExcludedFromChecksum(d.Path):
			ship = append(ship, d.Path)
		case ok && old.Size == d.Size && old.SHA256 == d.SHA256:
			keep = append(keep, d.Path)
		default:
			ship = append(ship, d.Path)
		}
	}

	return ship, keep
}

// DeltaScript returns the content of ddu.script that keeps the files of
// keep: one "/www/"+path line each, every line ending with '\n'.
func DeltaScript(keep []string) []byte {
	var b bytes.Buffer
	for _, p := range keep {
		b.WriteString(DeltaKeepPrefix)
		b.WriteString(p)
		b.WriteByte('\n')
	}

	return b.Bytes()
}

// WriteDelta writes one delta archive: job.Files under www/ (the new and
// changed files, the target's filelist and checksum.js included), a
// ddu.script listing keep, the files the device copies from its current
// tree, and the metadata. job.Meta carries the target's identity, checksum
// and size, and must set BaseChecksum. The archive is written to a temp
// file and renamed to job.Dest like WriteArchives does.
func WriteDelta(ctx context.Context, job Job, keep []string, opts WriteOptions) (Result, error) {
	if job.Meta.BaseChecksum == nil {
		return Result{}, fmt.Errorf("write delta archive %s: Meta.BaseChecksum not set: a delta names the checksum it applies to", job.Dest)
	}
	if err := checkKeep(job, keep); err != nil {
		return Result{}, err
	}
	if err := opts.validate(); err != nil {
		return Result{}, err
	}

	jobs := []Job{job}
	items, err := planItems(jobs)
	if err != nil {
		return Result{}, err
	}
	outs, err := createOutputs(jobs, opts)
	if err != nil {
		return Result{}, err
	}
	o := outs[0]

	res, err := writeDeltaOutput(ctx, o, items, keep, opts)
	if err != nil {
		o.discard()
		return Result{}, err
	}
	if err := o.commit(); err != nil {
		o.discard()
		return Result{}, err
	}

	return res, nil
}

// writeDeltaOutput writes the www/ entries, ddu.script and the metadata
// of a delta archive into o.
func writeDeltaOutput(ctx context.Context, o *output, items []*item, keep []string, opts WriteOptions) (Result, error) {
	if err := runPipeline(ctx, items, []*output{o}, filepath.Dir(o.job.Dest), opts); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}

	if err := writeRootFile(o, DDUScriptName, DeltaScript(keep)); err != nil {
		return Result{}, fmt.Errorf("write delta archive %s: %w", o.job.Dest, err)
	}

	res, err := o.finish(opts.Signer)
	if err != nil {
		return Result{}, fmt.Errorf("write delta archive %s: %w", o.job.Dest, err)
	}

	return res, nil
}

// checkKeep rejects keep paths that are invalid, repeated or also shipped.
func checkKeep(job Job, keep []string) error {
	shipped := make(map[string]bool, len(job.Files))
	for _, f := range job.Files {
		shipped[f.Path] = true
	}

	seen := make(map[string]bool, len(keep))
	var errs []error
	for _, p := range keep {
		switch err := webres.ValidatePath(p); {
		case err != nil:
			errs = append(errs, fmt.Errorf("write delta archive %s: kept file: %w", job.Dest, err))
		case seen[p]:
			errs = append(errs, fmt.Errorf("write delta archive %s: kept file %s listed twice", job.Dest, p))
		case shipped[p]:
			errs = append(errs, fmt.Errorf("write delta archive %s: %s is both kept and shipped: list it in one of them", job.Dest, p))
		}
		seen[p] = true
	}

	return errors.Join(errs...)
}

// ReadMetadata returns the metadata file of an archive without reading or
// checking its other entries. Use it on archives Read has already
// accepted, such as stored deployments.
func ReadMetadata(ctx context.Context, r io.ReaderAt, size int64) (*Metadata, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("read archive metadata: %w", err)
	}

	for _, f := range zr.File {
		if f.Name != MetadataName {
			continue
		}
		if f.UncompressedSize64 > maxMetadataSize {
			return nil, fmt.Errorf("read archive metadata: %s is %d bytes, more than the %d-byte maximum", MetadataName, f.UncompressedSize64, maxMetadataSize)
		}

		raw, err := readSmallEntry(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("read archive metadata: %w", err)
		}
		meta, problems := parseMetadata(raw)
		if len(problems) > 0 {
			return nil, fmt.Errorf("read archive metadata: %s: %s", MetadataName, strings.Join(problems, "; "))
		}

		return meta, nil
	}

	return nil, fmt.Errorf("read archive metadata: %s missing: the archive was not written by mfpdev", MetadataName)
}

func readSmallEntry(ctx context.Context, f *zip.File) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()

	return io.ReadAll(io.LimitReader(rc, maxMetadataSize+1))
}

// checkDelta checks the rules only a delta archive has. The ddu.script
// keeps valid paths, each once and none shipped. The shipped filelist
// lists exactly the shipped and kept files, and the shipped checksum.js
// carries the metadata's checksum, which checkDelta returns.
func (rd *reader) checkDelta(meta *Metadata) uint32 {
	script := rd.byName[DDUScriptName]
	if !script.read {
		return 0
	}
	kept := rd.checkScript(script.data)

	paths := slices.Clone(kept)
	for _, es := range rd.entries {
		if es.entry.Path != "" && !es.entry.Dir {
			paths = append(paths, es.entry.Path)
		}
	}
	for _, c := range webres.FindCollisions(paths) {
		rd.problem(DDUScriptName, "the new tree would hold colliding files %s: %s", strings.Join(c.Paths, ", "), c.Reason)
	}

	return rd.checkDeltaWebResources(meta, paths)
}

// checkScript checks each line of ddu.script that starts with
// DeltaKeepPrefix and returns the kept paths.
func (rd *reader) checkScript(data []byte) []string {
	var kept []string
	seen := make(map[string]bool)
	problems := 0
	fail := func(format string, args ...any) {
		problems++
		if problems <= maxScriptProblems {
			rd.problem(DDUScriptName, format, args...)
		}
	}

	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return nil
	}
	for i, line := range strings.Split(text, "\n") {
		// Devices ignore lines that do not start with the prefix, and
		// the '\r' of a CRLF line end.
		p, ok := strings.CutPrefix(strings.TrimSuffix(line, "\r"), DeltaKeepPrefix)
		if !ok {
			continue
		}
		if err := webres.ValidatePath(p); err != nil {
			fail("line %d: %v", i+1, err)
			continue
		}
		if seen[p] {
			fail("line %d: %s listed twice", i+1, p)
			continue
		}
		seen[p] = true
		if es := rd.byName["www/"+p]; es != nil {
			fail("line %d: %s is listed to keep and also shipped as %s", i+1, p, es.file.Name)
			continue
		}
		if rd.byName["www/"+p+"/"] != nil {
			fail("line %d: %s is listed to keep, but the archive has a directory of that name", i+1, p)
			continue
		}
		kept = append(kept, p)
	}
	if problems > maxScriptProblems {
		rd.problem(DDUScriptName, "%d more problems not listed", problems-maxScriptProblems)
	}

	return kept
}

// checkDeltaWebResources compares the shipped filelist with the files of
// the new tree, paths, and the shipped checksum.js with the metadata.
func (rd *reader) checkDeltaWebResources(meta *Metadata, paths []string) uint32 {
	fileList := rd.byName["www/"+webres.FileListName]
	switch {
	case fileList == nil:
		rd.problem("www/"+webres.FileListName, "missing: a delta archive ships the new tree's filelist")
	case fileList.read:
		want := buildFileList(paths)
		if !bytes.Equal(fileList.data, want) {
			rd.problem(fileList.file.Name, "differs from the list of the shipped and kept files (%d bytes, expected %d)", len(fileList.data), len(want))
		}
	}

	checksumJS := rd.byName["www/"+webres.ChecksumJSPath]
	if checksumJS == nil {
		rd.problem("www/"+webres.ChecksumJSPath, "missing: a delta archive ships the new tree's checksum.js")
		return 0
	}
	if !checksumJS.read {
		return 0
	}
	v, err := webres.ParseChecksumJS(checksumJS.data)
	if err != nil {
		rd.problem(checksumJS.file.Name, "%v", err)
		return 0
	}
	if meta != nil && v != meta.Checksum {
		rd.problem(checksumJS.file.Name, "carries checksum %d, but %s has %d: devices would download the update again and again", v, MetadataName, meta.Checksum)
	}

	return v
}

// buildFileList returns the filelist content of a tree of paths: every
// path the checksum covers, filelist included, in checksum order, each
// prefixed with '/' and joined with '\n'.
func buildFileList(paths []string) []byte {
	set := map[string]bool{webres.FileListName: true}
	for _, p := range paths {
		if !webres.ExcludedFromChecksum(p) {
			set[p] = true
		}
	}

	list := make([]string, 0, len(set))
	for p := range set {
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b string) int {
		switch {
		case webres.Less(a, b):
			return -1
		case webres.Less(b, a):
			return 1
		}

		return strings.Compare(a, b)
	})

	var b bytes.Buffer
	for i, p := range list {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("/" + p)
	}

	return b.Bytes()
}

package client

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/signing"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// wwwPrefix is the folder of an archive that holds the web resources.
const wwwPrefix = "www/"

// verifyArchive checks the downloaded archive before anything is unpacked:
// its signature when the device has a public key, every rule of the format
// (entry names, no symlinks, no duplicates, the recomputed checksum), and
// that it is the archive the server announced for this app.
func (d *Device) verifyArchive(ctx context.Context, path string, resp *protocol.CheckResponse) (*bundle.Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Failure{Status: StatusFailureUnknown, Err: err}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, &Failure{Status: StatusFailureUnknown, Err: err}
	}

	if d.PublicKey != nil {
		if err := signing.Verify(f, info.Size(), d.PublicKey); err != nil {
			return nil, &Failure{Status: StatusFailureIntegrity, Err: fmt.Errorf("verify signature of %s: %w", path, err)}
		}
	}

	// bundle.Read reports an undecodable zip as one more broken rule, so
	// the zip is parsed here first to tell FAILURE_UNZIPPING apart.
	if _, err := zip.NewReader(f, info.Size()); err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, &Failure{Status: StatusFailureUnzipping, Err: fmt.Errorf("unzip %s: %w", path, err)}
	}
	archive, err := bundle.Read(ctx, f, info.Size(), bundle.ReadOptions{})
	if err != nil {
		return nil, readFailure(ctx, fmt.Errorf("verify %s: %w", path, err))
	}

	meta := archive.Meta
	switch {
	case archive.Delta && resp.Type != protocol.TypeDelta:
		return nil, integrityf("verify %s: the archive is a delta (it contains %s), the server announced a full archive", path, bundle.DDUScriptName)
	case !archive.Delta && resp.Type == protocol.TypeDelta:
		return nil, integrityf("verify %s: the server announced a delta archive, the archive is a full one", path)
	case meta.Checksum != resp.Checksum:
		return nil, integrityf("verify %s: the archive's checksum is %d, the server announced %d", path, meta.Checksum, resp.Checksum)
	case !archive.Delta && archive.ChecksumJS != resp.Checksum:
		return nil, integrityf("verify %s: the archive's checksum.js carries %d, the server announced %d", path, archive.ChecksumJS, resp.Checksum)
	case meta.AppID != d.AppID || meta.Platform != d.Platform || meta.AppVersion != d.AppVersion:
		return nil, integrityf("verify %s: the archive is for %s %s %s, the device is %s %s %s",
			path, meta.AppID, meta.Platform, meta.AppVersion, d.AppID, d.Platform, d.AppVersion)
	}
	return archive, nil
}

// readFailure classifies an error reading an archive: a zip that cannot be
// decoded is FAILURE_UNZIPPING, a zip that breaks a rule is FAILURE_INTEGRITY.
func readFailure(ctx context.Context, err error) *Failure {
	var invalid *bundle.InvalidArchiveError
	switch {
	case ctx.Err() != nil:
		return &Failure{Status: StatusCanceled, Err: err}
	case errors.Is(err, zip.ErrFormat), errors.Is(err, zip.ErrChecksum), errors.Is(err, zip.ErrAlgorithm),
		errors.Is(err, io.ErrUnexpectedEOF):
		return &Failure{Status: StatusFailureUnzipping, Err: err}
	case errors.As(err, &invalid):
		return &Failure{Status: StatusFailureIntegrity, Err: err}
	}
	return &Failure{Status: StatusFailureUnzipping, Err: err}
}

func integrityf(format string, args ...any) *Failure {
	return &Failure{Status: StatusFailureIntegrity, Err: fmt.Errorf(format, args...)}
}

// unpack extracts the www/ folder of the archive at path into staging,
// which must not exist. For a delta archive it then copies the files
// ddu.script lists from base, the current tree. Finally it checks the
// result against the announced checksum. Every entry name is validated
// again while extracting, and files are created inside an os.Root, so no
// entry can land outside staging even if an earlier check missed it.
func unpack(ctx context.Context, path, staging, base string, checksum uint32) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return readFailure(ctx, fmt.Errorf("unzip %s: %w", path, err))
	}
	defer zr.Close()

	if err := os.Mkdir(staging, 0o755); err != nil {
		return diskFailure(fmt.Errorf("unzip: %w", err))
	}
	root, err := os.OpenRoot(staging)
	if err != nil {
		return diskFailure(fmt.Errorf("unzip: %w", err))
	}
	defer root.Close()

	var script *zip.File
	for _, entry := range zr.File {
		if err := ctx.Err(); err != nil {
			return &Failure{Status: StatusCanceled, Err: err}
		}
		if entry.Name == bundle.DDUScriptName {
			script = entry
			continue
		}
		name, ok := strings.CutPrefix(entry.Name, wwwPrefix)
		if !ok || name == "" {
			continue // the metadata file and the www/ folder entry
		}
		if err := extractEntry(root, entry, name); err != nil {
			return err
		}
	}
	if script != nil {
		if err := copyListed(ctx, script, base, root); err != nil {
			return err
		}
	}
	if err := root.Close(); err != nil {
		return diskFailure(fmt.Errorf("unzip: %w", err))
	}

	return checkTree(ctx, staging, checksum)
}

// extractEntry writes one www/ entry, named name inside www/, under root.
func extractEntry(root *os.Root, entry *zip.File, name string) error {
	mode := entry.Mode()
	if strings.HasSuffix(name, "/") {
		dir := strings.TrimSuffix(name, "/")
		if err := webres.ValidatePath(dir); err != nil {
			return integrityf("unzip: entry %q: %v", entry.Name, err)
		}
		if !mode.IsDir() {
			return integrityf("unzip: entry %q ends with / but is not a folder", entry.Name)
		}
		return mkdirAll(root, dir)
	}
	if err := webres.ValidatePath(name); err != nil {
		return integrityf("unzip: entry %q: %v", entry.Name, err)
	}
	if !mode.IsRegular() {
		return integrityf("unzip: entry %q is a %v, only regular files are allowed", entry.Name, mode.Type())
	}
	if dir := filepath.Dir(filepath.FromSlash(name)); dir != "." {
		if err := mkdirAll(root, dir); err != nil {
			return err
		}
	}

	src, err := entry.Open()
	if err != nil {
		return &Failure{Status: StatusFailureUnzipping, Err: fmt.Errorf("unzip: entry %q: %w", entry.Name, err)}
	}
	defer src.Close()
	// O_EXCL makes a duplicate name fail instead of overwriting.
	dst, err := root.OpenFile(filepath.FromSlash(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return integrityf("unzip: entry %q appears twice", entry.Name)
	}
	if err != nil {
		return diskFailure(fmt.Errorf("unzip: entry %q: %w", entry.Name, err))
	}
	// archive/zip fails the read when the data exceeds the declared size
	// or its CRC-32 differs.
	_, copyErr := io.Copy(dst, src)
	closeErr := dst.Close()
	var pathErr *fs.PathError
	switch {
	case copyErr != nil && errors.As(copyErr, &pathErr):
		return diskFailure(fmt.Errorf("unzip: entry %q: %w", entry.Name, copyErr))
	case copyErr != nil:
		return &Failure{Status: StatusFailureUnzipping, Err: fmt.Errorf("unzip: entry %q: %w", entry.Name, copyErr)}
	case closeErr != nil:
		return diskFailure(fmt.Errorf("unzip: entry %q: %w", entry.Name, closeErr))
	}
	return nil
}

func mkdirAll(root *os.Root, dir string) error {
	if err := root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
		return integrityf("unzip: folder %q: %v", dir, err)
	}
	return nil
}

// checkTree recomputes the checksum of the unpacked tree the way a device
// computes it and compares it, and the tree's checksum.js, with checksum.
func checkTree(ctx context.Context, staging string, checksum uint32) error {
	tree, err := webres.Scan(ctx, staging)
	if err != nil {
		return integrityf("check unpacked tree: %v", err)
	}
	sum, err := tree.Sum(ctx)
	if err != nil {
		return integrityf("check unpacked tree: %v", err)
	}
	if sum.Checksum != checksum {
		return integrityf("check unpacked tree: its checksum is %d, the server announced %d", sum.Checksum, checksum)
	}

	inJS, err := readChecksumJS(staging)
	if err != nil {
		return integrityf("check unpacked tree: %v", err)
	}
	if inJS != checksum {
		return integrityf("check unpacked tree: checksum.js carries %d, the server announced %d", inJS, checksum)
	}

	shipped, err := os.ReadFile(filepath.Join(staging, webres.FileListName))
	if err != nil {
		return integrityf("check unpacked tree: %v", err)
	}
	if !bytes.Equal(shipped, sum.FileList) {
		return integrityf("check unpacked tree: %s does not list the tree's files", webres.FileListName)
	}
	return nil
}

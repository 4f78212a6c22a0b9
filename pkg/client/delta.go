package client

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// deltaKeepPrefix starts each line of ddu.script that names a file to copy
// unchanged from the current tree ("/www/js/app.js"). Other lines are
// ignored.
const deltaKeepPrefix = "/www/"

// maxScriptLine bounds one line of ddu.script in bytes.
const maxScriptLine = 64 << 10

// copyListed copies into root every file that the delta's ddu.script
// lists from base, the current web resources. A listed file that base
// lacks, or that the archive also ships, means the delta was made for
// another tree, which is FAILURE_INTEGRITY. Base files neither listed nor
// shipped are left out, which deletes them from the new tree.
func copyListed(ctx context.Context, script *zip.File, base string, root *os.Root) error {
	rc, err := script.Open()
	if err != nil {
		return &Failure{Status: StatusFailureUnzipping, Err: fmt.Errorf("unzip %s: %w", bundle.DDUScriptName, err)}
	}
	defer rc.Close()
	baseRoot, err := os.OpenRoot(base)
	if err != nil {
		return &Failure{Status: StatusFailureUnknown, Err: fmt.Errorf("apply %s: %w", bundle.DDUScriptName, err)}
	}
	defer baseRoot.Close()

	lines := bufio.NewScanner(rc)
	lines.Buffer(make([]byte, 4096), maxScriptLine)
	for lines.Scan() {
		if err := ctx.Err(); err != nil {
			return &Failure{Status: StatusCanceled, Err: err}
		}
		rel, ok := strings.CutPrefix(strings.TrimSuffix(lines.Text(), "\r"), deltaKeepPrefix)
		if !ok {
			continue
		}
		if err := webres.ValidatePath(rel); err != nil {
			return integrityf("apply %s: line %q: %v", bundle.DDUScriptName, lines.Text(), err)
		}
		if err := copyFromBase(baseRoot, root, rel); err != nil {
			return err
		}
	}
	if err := lines.Err(); err != nil {
		return &Failure{Status: StatusFailureUnzipping, Err: fmt.Errorf("apply %s: %w", bundle.DDUScriptName, err)}
	}
	return nil
}

// copyFromBase copies the regular file rel from base to staging.
func copyFromBase(base, staging *os.Root, rel string) error {
	name := filepath.FromSlash(rel)
	info, err := base.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return integrityf("apply %s: %s is listed but the current web resources lack it: the delta was made for another tree", bundle.DDUScriptName, rel)
	}
	if err != nil {
		return &Failure{Status: StatusFailureUnknown, Err: fmt.Errorf("apply %s: %w", bundle.DDUScriptName, err)}
	}
	if !info.Mode().IsRegular() {
		return integrityf("apply %s: %s in the current web resources is not a regular file", bundle.DDUScriptName, rel)
	}

	src, err := base.Open(name)
	if err != nil {
		return &Failure{Status: StatusFailureUnknown, Err: fmt.Errorf("apply %s: %w", bundle.DDUScriptName, err)}
	}
	defer src.Close()
	if dir := filepath.Dir(name); dir != "." {
		if err := mkdirAll(staging, dir); err != nil {
			return err
		}
	}
	dst, err := staging.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return integrityf("apply %s: %s is listed and also shipped in the archive", bundle.DDUScriptName, rel)
	}
	if err != nil {
		return diskFailure(fmt.Errorf("apply %s: %w", bundle.DDUScriptName, err))
	}
	_, copyErr := io.Copy(dst, src)
	closeErr := dst.Close()
	if err := errors.Join(copyErr, closeErr); err != nil {
		return diskFailure(fmt.Errorf("apply %s: copy %s: %w", bundle.DDUScriptName, rel, err))
	}
	return nil
}

package server

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

// build writes the delta archive from base to target into the blob store
// and returns its index entry. The file lists come from the
// per-file SHA-256 digests in the metadata of both archives, never from
// names or folders alone.
func (c *deltaCache) build(ctx context.Context, k store.DeltaKey, base, target store.Deployment) (*deltaInfo, error) {
	work, err := os.MkdirTemp(c.workDir, deltaWorkPrefix)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	baseMeta, err := c.readBaseMetadata(ctx, base, work)
	if err != nil {
		return nil, fmt.Errorf("read base archive %s: %w", base.SHA256, err)
	}

	ra, size, closeTarget, err := c.openAt(ctx, target.SHA256, work)
	if err != nil {
		return nil, fmt.Errorf("open target archive %s: %w", target.SHA256, err)
	}
	defer closeTarget()
	archive, err := bundle.Read(ctx, ra, size, bundle.ReadOptions{Limits: c.s.cfg.Limits})
	if err != nil {
		return nil, fmt.Errorf("read target archive %s: %w", target.SHA256, err)
	}

	var signer crypto.Signer
	if k.KeyID != "unsigned" {
		pub, err := c.signerPublicKey()
		if err != nil {
			return nil, err
		}
		if err := signing.Verify(ra, size, pub); err != nil {
			return nil, fmt.Errorf("the server's signing key does not verify the signature of archive %s, so devices would reject a delta signed with it: start the server with the key that signed the uploads: %w", target.SHA256, err)
		}
		signer = c.signer
	}

	ship, keep := bundle.DiffDigests(baseMeta.Digests, archive.Meta.Digests)
	info := &deltaInfo{FullPackedSize: target.PackedSize}
	if estimate := shippedPackedSize(archive, ship); estimate >= target.PackedSize {
		info.Skipped = fmt.Sprintf("the changed files alone take %d bytes compressed, the full archive %d", estimate, target.PackedSize)
		return info, nil
	}

	files, err := extractShipped(ctx, archive, ship, filepath.Join(work, "www"))
	if err != nil {
		return nil, err
	}
	meta := archive.Meta
	meta.BaseChecksum = &base.Checksum
	dest := filepath.Join(work, "delta.zip")
	res, err := bundle.WriteDelta(ctx, bundle.Job{Dest: dest, Files: files, Meta: meta}, keep, bundle.WriteOptions{Signer: signer})
	if err != nil {
		return nil, err
	}

	info.PackedSize = res.PackedSize
	if !c.s.deltaWorthIt(info) {
		info.Skipped = fmt.Sprintf("the delta takes %d bytes, the full archive %d: less than the %d%% savings required", res.PackedSize, target.PackedSize, c.s.cfg.DeltaMinSavings)
		info.MinSavings = c.s.cfg.DeltaMinSavings
		return info, nil
	}
	info.SHA256 = res.SHA256
	if err := c.checkAndStore(ctx, dest, info); err != nil {
		return nil, err
	}

	return info, nil
}

// checkAndStore reads the delta archive back with bundle.Read, as devices
// do, records its unpacked size and stores it in the blob store.
func (c *deltaCache) checkAndStore(ctx context.Context, path string, info *deltaInfo) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	delta, err := bundle.Read(ctx, f, info.PackedSize, bundle.ReadOptions{})
	if err != nil {
		return fmt.Errorf("check the delta archive written: %w", err)
	}
	info.UnpackedSize = delta.Meta.UnpackedSize

	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}

	return c.s.blobs.Put(ctx, info.SHA256, f)
}

// readBaseMetadata returns the metadata of the base archive, which holds
// the digest of every file the device has.
func (c *deltaCache) readBaseMetadata(ctx context.Context, base store.Deployment, work string) (*bundle.Metadata, error) {
	ra, size, closeBase, err := c.openAt(ctx, base.SHA256, work)
	if err != nil {
		return nil, err
	}
	defer closeBase()

	return bundle.ReadMetadata(ctx, ra, size)
}

// openAt opens a deployment's archive for random access. A blob store
// whose blobs are not files is copied to a temporary file in work first.
func (c *deltaCache) openAt(ctx context.Context, key, work string) (io.ReaderAt, int64, func(), error) {
	rc, info, err := c.s.blobs.Open(ctx, key)
	if err != nil {
		return nil, 0, nil, err
	}
	if f, ok := rc.(*os.File); ok {
		return f, info.Size, func() { f.Close() }, nil
	}
	defer rc.Close()

	tmp, err := os.CreateTemp(work, "blob-*.zip")
	if err != nil {
		return nil, 0, nil, err
	}
	n, err := io.Copy(tmp, rc)
	if err != nil {
		tmp.Close()
		return nil, 0, nil, err
	}

	return tmp, n, func() { tmp.Close() }, nil
}

// shippedPackedSize returns the compressed bytes the shipped files take in
// the full archive, a close estimate of their size in the delta.
func shippedPackedSize(a *bundle.Archive, ship []string) int64 {
	shipped := make(map[string]bool, len(ship))
	for _, p := range ship {
		shipped[p] = true
	}

	var n int64
	for _, e := range a.WWWEntries() {
		if shipped[e.Path] {
			n += e.PackedSize
		}
	}

	return n
}

// extractShipped copies the shipped files out of the target archive into
// dir and returns them as writer sources. Read has validated every path.
func extractShipped(ctx context.Context, a *bundle.Archive, ship []string, dir string) ([]bundle.SourceFile, error) {
	files := make([]bundle.SourceFile, 0, len(ship))
	for _, p := range ship {
		if err := ctx.Err(); err != nil {
			return nil, err
		}

		disk := filepath.Join(dir, filepath.FromSlash(p))
		if err := extractEntry(a, "www/"+p, disk); err != nil {
			return nil, fmt.Errorf("extract %s from the target archive: %w", p, err)
		}
		files = append(files, bundle.SourceFile{Path: p, DiskPath: disk})
	}

	return files, nil
}

func extractEntry(a *bundle.Archive, name, disk string) error {
	if err := os.MkdirAll(filepath.Dir(disk), 0o750); err != nil {
		return err
	}
	rc, err := a.OpenEntry(name)
	if err != nil {
		return err
	}
	defer rc.Close()

	f, err := os.OpenFile(disk, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}

	return f.Close()
}

package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mfpdev/mfpdev/internal/crashtest"
)

// Folder is a Blobs backend that keeps each blob as a file under
// Root/sha256/<first two hex digits>/<key>, and partial writes under
// Root/tmp.
type Folder struct {
	root string
}

// OpenFolder returns the blob folder at root, creating it if needed.
func OpenFolder(root string) (*Folder, error) {
	for _, dir := range []string{root, filepath.Join(root, "sha256"), filepath.Join(root, "tmp")} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open blob folder: %w", err)
		}
	}
	return &Folder{root: root}, nil
}

func (f *Folder) path(key string) string {
	return filepath.Join(f.root, "sha256", key[:2], key)
}

// Put writes r to a temporary file while hashing it, syncs it, checks the
// hash against key, and renames the file into place.
func (f *Folder) Put(ctx context.Context, key string, r io.Reader) error {
	if err := ValidateBlobKey(key); err != nil {
		return err
	}
	final := f.path(key)
	if _, err := os.Stat(final); err == nil {
		now := time.Now()
		if err := os.Chtimes(final, now, now); err != nil {
			return fmt.Errorf("store blob %s: refresh modification time: %w", key, err)
		}
		return nil
	}

	tmp, err := os.CreateTemp(filepath.Join(f.root, "tmp"), "put-*")
	if err != nil {
		return fmt.Errorf("store blob %s: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	hash := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, hash), contextReader{ctx, r}); err != nil {
		return fmt.Errorf("store blob %s: %w", key, err)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != key {
		return fmt.Errorf("store blob %s: content has SHA-256 %s", key, got)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("store blob %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store blob %s: %w", key, err)
	}

	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("store blob %s: %w", key, err)
	}
	crashtest.At(crashtest.BlobBeforeRename)
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("store blob %s: %w", key, err)
	}
	committed = true
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// Open opens the blob's file.
func (f *Folder) Open(ctx context.Context, key string) (io.ReadSeekCloser, BlobInfo, error) {
	if err := ValidateBlobKey(key); err != nil {
		return nil, BlobInfo{}, err
	}
	file, err := os.Open(f.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, BlobInfo{}, fmt.Errorf("open blob %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, BlobInfo{}, fmt.Errorf("open blob %s: %w", key, err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, BlobInfo{}, fmt.Errorf("open blob %s: %w", key, err)
	}
	return file, BlobInfo{Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete removes the blob's file.
func (f *Folder) Delete(ctx context.Context, key string) error {
	if err := ValidateBlobKey(key); err != nil {
		return err
	}
	err := os.Remove(f.path(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// List walks Root/sha256 and returns the names that are valid keys;
// other files there are left alone.
func (f *Folder) List(ctx context.Context) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(filepath.Join(f.root, "sha256"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Type().IsRegular() && ValidateBlobKey(d.Name()) == nil {
			keys = append(keys, d.Name())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	return keys, nil
}

// RemoveTemp empties Root/tmp.
func (f *Folder) RemoveTemp(ctx context.Context) error {
	dir := filepath.Join(f.root, "tmp")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("remove temporary blobs: %w", err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "put-") {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove temporary blobs: %w", err)
		}
	}
	return nil
}

// contextReader stops a copy once ctx is cancelled.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

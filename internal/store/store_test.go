package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfpdev/mfpdev/internal/store"
)

// backend opens one Metadata and one Blobs implementation in dir. Every
// behaviour test runs against each entry of backends;
// shared_backend_test.go adds postgres+s3.
type backend struct {
	name string
	open func(t *testing.T, dir string) (store.Metadata, store.Blobs)
}

var backends = []backend{
	{
		name: "sqlite+folder",
		open: func(t *testing.T, dir string) (store.Metadata, store.Blobs) {
			meta, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "meta.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { meta.Close() })
			blobs, err := store.OpenFolder(filepath.Join(dir, "blobs"))
			if err != nil {
				t.Fatal(err)
			}
			return meta, blobs
		},
	},
}

func forEachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}

func sha(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

var key = store.AppKey{Runtime: "mfp", AppID: "com.example.app", Platform: "android", AppVersion: "1.0.0"}

func deployment(checksum uint32, content []byte) *store.Deployment {
	return &store.Deployment{
		AppKey:        key,
		PluginVersion: "8.0.2024082705",
		Checksum:      checksum,
		Size:          100,
		Files:         3,
		UnpackedSize:  120,
		PackedSize:    int64(len(content)),
		SHA256:        sha(content),
		DeployedAt:    time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		DeployedBy:    "admin",
	}
}

func TestInsertKeepsHistory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		meta, _ := b.open(t, t.TempDir())

		first := deployment(4000000000, []byte("first"))
		if err := meta.Insert(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := deployment(2, []byte("second"))
		if err := meta.Insert(ctx, second); err != nil {
			t.Fatal(err)
		}
		if second.ID <= first.ID {
			t.Errorf("second ID %d is not above first ID %d", second.ID, first.ID)
		}

		active, err := meta.Active(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if active.ID != second.ID || !active.Active {
			t.Errorf("active = %+v, want the second deployment", active)
		}
		if !active.DeployedAt.Equal(second.DeployedAt) {
			t.Errorf("DeployedAt = %v, want %v", active.DeployedAt, second.DeployedAt)
		}

		history, err := meta.History(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(history) != 2 {
			t.Fatalf("history has %d entries, want 2", len(history))
		}
		if history[0].ID != second.ID || history[1].ID != first.ID {
			t.Errorf("history order = %d, %d; want newest first", history[0].ID, history[1].ID)
		}
		if history[1].Active {
			t.Error("first deployment is still active")
		}
		if history[1].Checksum != 4000000000 {
			t.Errorf("checksum above 2^31 read back as %d", history[1].Checksum)
		}
	})
}

func TestFindByChecksumInHistory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		meta, _ := b.open(t, t.TempDir())
		first := deployment(1, []byte("first"))
		second := deployment(2, []byte("second"))
		for _, d := range []*store.Deployment{first, second} {
			if err := meta.Insert(ctx, d); err != nil {
				t.Fatal(err)
			}
		}

		got, err := meta.FindByChecksum(ctx, key, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != first.ID {
			t.Errorf("found ID %d, want %d", got.ID, first.ID)
		}

		_, err = meta.FindByChecksum(ctx, key, 3)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown checksum: err = %v, want ErrNotFound", err)
		}
		other := key
		other.AppVersion = "2.0.0"
		_, err = meta.FindByChecksum(ctx, other, 1)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other app version: err = %v, want ErrNotFound", err)
		}
	})
}

func TestDeactivateAndDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		meta, _ := b.open(t, t.TempDir())
		d := deployment(1, []byte("first"))
		if err := meta.Insert(ctx, d); err != nil {
			t.Fatal(err)
		}

		if err := meta.Deactivate(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := meta.Active(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Active after Deactivate: err = %v, want ErrNotFound", err)
		}
		if err := meta.Deactivate(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second Deactivate: err = %v, want ErrNotFound", err)
		}
		history, err := meta.History(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(history) != 1 {
			t.Errorf("history has %d entries after Deactivate, want 1", len(history))
		}

		if err := meta.Delete(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if err := meta.Delete(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second Delete: err = %v, want ErrNotFound", err)
		}
	})
}

func TestApps(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		meta, _ := b.open(t, t.TempDir())
		for _, k := range []store.AppKey{
			{"mfp", "b.app", "ios", "1.0"},
			{"mfp", "a.app", "android", "2.0"},
			{"mfp", "a.app", "android", "1.0"},
			{"other", "c.app", "android", "1.0"},
		} {
			d := deployment(1, []byte("x"))
			d.AppKey = k
			if err := meta.Insert(ctx, d); err != nil {
				t.Fatal(err)
			}
		}

		apps, err := meta.Apps(ctx, "mfp")
		if err != nil {
			t.Fatal(err)
		}
		want := []store.App{
			{AppID: "a.app", Platform: "android", Versions: []string{"1.0", "2.0"}},
			{AppID: "b.app", Platform: "ios", Versions: []string{"1.0"}},
		}
		if len(apps) != len(want) {
			t.Fatalf("apps = %+v, want %+v", apps, want)
		}
		for i := range want {
			if apps[i].AppID != want[i].AppID || apps[i].Platform != want[i].Platform || !slices.Equal(apps[i].Versions, want[i].Versions) {
				t.Errorf("apps[%d] = %+v, want %+v", i, apps[i], want[i])
			}
		}
	})
}

func TestMetadataSurvivesReopen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		dir := t.TempDir()
		meta, _ := b.open(t, dir)
		d := deployment(7, []byte("first"))
		if err := meta.Insert(ctx, d); err != nil {
			t.Fatal(err)
		}
		meta.Close()

		meta, _ = b.open(t, dir)
		got, err := meta.Active(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Checksum != 7 || got.SHA256 != d.SHA256 || got.DeployedBy != "admin" {
			t.Errorf("reopened deployment = %+v", got)
		}
	})
}

func TestBlobPutOpen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		_, blobs := b.open(t, t.TempDir())
		content := bytes.Repeat([]byte("archive bytes "), 10000)
		key := sha(content)

		if err := blobs.Put(ctx, key, bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		// A second Put of the same key must not read r.
		if err := blobs.Put(ctx, key, errReader{}); err != nil {
			t.Errorf("second Put: %v", err)
		}

		r, info, err := blobs.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if info.Size != int64(len(content)) {
			t.Errorf("size = %d, want %d", info.Size, len(content))
		}
		if _, err := r.Seek(100, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		rest, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rest, content[100:]) {
			t.Error("content read after Seek differs")
		}
	})
}

func TestBlobPutRejectsWrongHash(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		_, blobs := b.open(t, t.TempDir())
		key := sha([]byte("expected"))

		err := blobs.Put(ctx, key, strings.NewReader("something else"))
		if err == nil {
			t.Fatal("Put accepted content whose SHA-256 differs from the key")
		}
		if _, _, err := blobs.Open(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Open after rejected Put: err = %v, want ErrNotFound", err)
		}
		if err := blobs.Put(ctx, "../../etc/passwd", strings.NewReader("x")); err == nil {
			t.Error("Put accepted a key that is not a SHA-256")
		}
	})
}

func TestBlobPutCancelled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, blobs := b.open(t, t.TempDir())
		content := []byte("content")

		if err := blobs.Put(ctx, sha(content), bytes.NewReader(content)); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		keys, err := blobs.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 0 {
			t.Errorf("cancelled Put left blobs %v", keys)
		}
	})
}

func TestRemoveUnreferenced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		dir := t.TempDir()
		meta, blobs := b.open(t, dir)
		kept, orphan := []byte("kept"), []byte("orphan")
		for _, content := range [][]byte{kept, orphan} {
			if err := blobs.Put(ctx, sha(content), bytes.NewReader(content)); err != nil {
				t.Fatal(err)
			}
		}
		if err := meta.Insert(ctx, deployment(1, kept)); err != nil {
			t.Fatal(err)
		}

		removed, err := store.RemoveUnreferenced(ctx, meta, blobs)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(removed, []string{sha(orphan)}) {
			t.Errorf("removed = %v, want only the orphan %s", removed, sha(orphan))
		}
		keys, err := blobs.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(keys, []string{sha(kept)}) {
			t.Errorf("blobs left = %v, want %s", keys, sha(kept))
		}
	})
}

func TestRemoveUnreferencedKeepsRecentBlobs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		meta, blobs := b.open(t, t.TempDir())
		orphan := []byte("orphan stored by another instance")
		if err := blobs.Put(ctx, sha(orphan), bytes.NewReader(orphan)); err != nil {
			t.Fatal(err)
		}

		removed, err := store.RemoveUnreferencedOlderThan(ctx, meta, blobs, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(removed) != 0 {
			t.Errorf("removed = %v, want nothing: the blob is younger than an hour", removed)
		}

		removed, err = store.RemoveUnreferencedOlderThan(ctx, meta, blobs, time.Hour, time.Now().Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(removed, []string{sha(orphan)}) {
			t.Errorf("removed two hours later = %v, want %s", removed, sha(orphan))
		}
	})
}

func TestFolderPutRefreshesExistingBlob(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	blobs, err := store.OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("stored again by another upload")
	if err := blobs.Put(ctx, sha(content), bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sha256", sha(content)[:2], sha(content))
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}

	if err := blobs.Put(ctx, sha(content), errReader{}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !st.ModTime().After(old.Add(time.Hour)) {
		t.Errorf("modification time after the second Put = %v, want about now", st.ModTime())
	}
}

func TestFolderRemovesTempFiles(t *testing.T) {
	dir := t.TempDir()
	blobs, err := store.OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, "tmp", "put-123")
	if err := os.WriteFile(leftover, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}

	if err := blobs.RemoveTemp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("temporary file still there: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("read called") }

package webupdate

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/signing"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// copySample copies the committed sample project into a temporary folder.
func copySample(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "sample")
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func loadSample(t *testing.T, root string) *cordova.Project {
	t.Helper()
	project, err := cordova.Load(context.Background(), root)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return project
}

// snapshot returns the content of every file under root.
func snapshot(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		files[path] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestWriteSampleChecksums(t *testing.T) {
	root := copySample(t)
	ctx := context.Background()
	plan, err := Prepare(ctx, loadSample(t, root), Options{})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	archives, err := plan.Write(ctx, nil)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}

	// Computed by cordova-plugin-mfp 8.0.2024082705's lib/mfp-checksum.js
	// on the sample's prepared folders (testdata/sample-checksums.json).
	want := map[string]uint32{"android": 987322419, "ios": 4106755918}
	if len(archives) != 2 {
		t.Fatalf("got %d archives, want 2", len(archives))
	}
	for _, a := range archives {
		if a.Checksum != want[a.Platform] {
			t.Errorf("%s: checksum = %d, want %d", a.Platform, a.Checksum, want[a.Platform])
		}
		if a.Path != "mobilefirst/"+ArchiveName("com.example.sample", a.Platform, "1.0.0") {
			t.Errorf("%s: path = %q", a.Platform, a.Path)
		}
	}

	config, err := os.ReadFile(filepath.Join(root, "config.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, checksum := range []string{"987322419", "4106755918"} {
		if !bytes.Contains(config, []byte("<mfp:appChecksum>"+checksum+"</mfp:appChecksum>")) {
			t.Errorf("config.xml does not record appChecksum %s", checksum)
		}
	}
	checksumJS, err := os.ReadFile(filepath.Join(root, "platforms", "ios", "www", filepath.FromSlash(webres.ChecksumJSPath)))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := webres.ParseChecksumJS(checksumJS); err != nil || got != want["ios"] {
		t.Errorf("ios checksum.js carries %d (%v), want %d", got, err, want["ios"])
	}
}

func TestWriteCancelledKeepsEverything(t *testing.T) {
	root := copySample(t)
	ctx := context.Background()
	plan, err := Prepare(ctx, loadSample(t, root), Options{})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if _, err := plan.Write(ctx, nil); err != nil {
		t.Fatalf("first Write: %v", err)
	}

	// Change a file so the second build would produce other archives.
	index := filepath.Join(root, "platforms", "ios", "www", "index.html")
	if err := os.WriteFile(index, []byte("<!doctype html><title>changed</title>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)

	plan, err = Prepare(ctx, loadSample(t, root), Options{})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	cancelCtx, cancel := context.WithCancel(ctx)
	_, err = plan.Write(cancelCtx, func(int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Write after cancel = %v, want context.Canceled", err)
	}

	after := snapshot(t, root)
	if len(after) != len(before) {
		t.Errorf("cancelled build left %d files, want %d", len(after), len(before))
	}
	for path, data := range before {
		if !bytes.Equal(after[path], data) {
			t.Errorf("cancelled build changed %s", path)
		}
	}
}

func TestPrepareRejectsKeyMismatch(t *testing.T) {
	root := copySample(t)
	ctx := context.Background()
	trusted, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	b64, err := signing.PublicKeyBase64(&trusted.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := cordova.SetPublicKey(ctx, filepath.Join(root, "config.xml"), b64); err != nil {
		t.Fatal(err)
	}
	project := loadSample(t, root)

	if _, err := Prepare(ctx, project, Options{}); !errors.Is(err, ErrSigningKeyRequired) {
		t.Errorf("Prepare without a key = %v, want ErrSigningKeyRequired", err)
	}
	if _, err := Prepare(ctx, project, Options{SigningKey: other}); !errors.Is(err, ErrSigningKeyMismatch) {
		t.Errorf("Prepare with another key = %v, want ErrSigningKeyMismatch", err)
	}
	plan, err := Prepare(ctx, project, Options{SigningKey: trusted})
	if err != nil {
		t.Fatalf("Prepare with the trusted key: %v", err)
	}
	archives, err := plan.Write(ctx, nil)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	for _, a := range archives {
		if !a.Signed {
			t.Errorf("%s: archive not signed", a.Platform)
		}
	}
}

package client

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfpdev/mfpdev/pkg/bundle"
)

// FuzzDeltaScript applies arbitrary ddu.script content to a small base
// tree. Applying must not panic, must fail only with a *Failure, and may
// only create copies of base files that a "/www/" line names.
func FuzzDeltaScript(f *testing.F) {
	for _, s := range []string{
		"/www/index.html\n/www/js/app.js\n",
		"/www/index.html\r\n# comment\n\n",
		"/www/../outside\n",
		"/www//etc/passwd\n",
		"/www/missing.js\n",
		"/www/js\n",
		"/www/C:/x\n",
		"/www/" + strings.Repeat("a", 70_000) + "\n",
		"/www/index.html\x00\n",
	} {
		f.Add([]byte(s))
	}

	base := f.TempDir()
	for name, content := range map[string]string{
		"index.html": "<html></html>", "js/app.js": "app();", "css/a.css": "a{}",
	} {
		path := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	secret := filepath.Join(filepath.Dir(base), "outside")
	os.WriteFile(secret, []byte("not in base"), 0o644)

	f.Fuzz(func(t *testing.T, script []byte) {
		staging := t.TempDir()
		root, err := os.OpenRoot(staging)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()

		err = copyListed(context.Background(), scriptEntry(t, script), base, root)
		var failure *Failure
		if err != nil && !errors.As(err, &failure) {
			t.Fatalf("error %v is not a *Failure", err)
		}

		listed := make(map[string]bool)
		for line := range strings.SplitSeq(string(script), "\n") {
			if rel, ok := strings.CutPrefix(strings.TrimSuffix(line, "\r"), deltaKeepPrefix); ok {
				listed[rel] = true
			}
		}
		filepath.WalkDir(staging, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(staging, path)
			rel = filepath.ToSlash(rel)
			if !listed[rel] {
				t.Errorf("staging has %s, which no line lists", rel)
			}
			want, readErr := os.ReadFile(filepath.Join(base, filepath.FromSlash(rel)))
			got, _ := os.ReadFile(path)
			if readErr != nil || !bytes.Equal(got, want) {
				t.Errorf("staging %s is not a copy of the base file", rel)
			}
			return nil
		})
	})
}

// scriptEntry returns the ddu.script entry of a zip holding script.
func scriptEntry(t *testing.T, script []byte) *zip.File {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(bundle.DDUScriptName)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(script)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return zr.File[0]
}

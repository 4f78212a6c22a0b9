package server_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mfpdev/mfpdev/pkg/client"
)

// TestZip64ArchiveEndToEnd uploads an archive of more than 65,535 entries,
// which needs the zip64 end records, and lets a device apply it: every
// file must arrive, none cut off at the 16-bit entry count.
func TestZip64ArchiveEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and unpacks 70,000 files")
	}
	const count = 70_000
	files := make(map[string]string, count)
	for i := range count {
		files[fmt.Sprintf("d%03d/f%05d.txt", i%200, i)] = fmt.Sprint(i)
	}
	a := buildArchive(t, appID, platform, appVersion, pluginVersion, files, nil)
	if !bytes.Contains(a.Data, []byte("PK\x06\x06")) {
		t.Fatal("archive has no zip64 end of central directory record")
	}

	ts := startServer(t, t.TempDir(), nil)
	d := upload(t, ts, a, appID, platform, appVersion)
	// www files, filelist and checksum.js.
	if d.Files != count+2 {
		t.Errorf("deployment has %d files, expected %d", d.Files, count+2)
	}

	www := filepath.Join(t.TempDir(), "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte("store build"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := uint32(1)
	device := &client.Device{
		WWW: www, AppID: appID, Platform: platform, AppVersion: appVersion,
		PluginVersion: pluginVersion, Checksum: &old, ServerURL: ts.URL,
	}
	result, err := device.Update(context.Background(), nil)
	if err != nil {
		t.Fatalf("device update: %v", err)
	}
	if result.Status != client.StatusSuccess || result.Checksum != a.Checksum {
		t.Errorf("device update = %s, checksum %d, expected SUCCESS, %d", result.Status, result.Checksum, a.Checksum)
	}

	for _, i := range []int{0, 65_534, 65_535, 65_536, count - 1} {
		name := fmt.Sprintf("d%03d/f%05d.txt", i%200, i)
		got, err := os.ReadFile(filepath.Join(www, filepath.FromSlash(name)))
		if err != nil || string(got) != fmt.Sprint(i) {
			t.Errorf("%s after the update: %q, %v", name, got, err)
		}
	}
	var applied int
	filepath.WalkDir(www, func(path string, entry os.DirEntry, err error) error {
		if err == nil && entry.Type().IsRegular() {
			applied++
		}
		return nil
	})
	if applied < count+2 {
		t.Errorf("%d files in www after the update, expected at least %d", applied, count+2)
	}
}

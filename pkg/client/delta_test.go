package client

import (
	"archive/zip"
	"bytes"
	"context"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// buildDelta writes a delta archive that turns a tree of base files into
// a tree of target files: it ships the files of target that differ from
// base and lists the others in ddu.script. It returns the archive with the
// target's checksum.
func buildDelta(t *testing.T, base, target map[string]string) testArchive {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "www")
	checksum := prepareTree(t, dir, target)
	sum := treeSum(t, dir)

	var shipped []bundle.SourceFile
	var script strings.Builder
	script.WriteString("# files kept from the base\n")
	for p, content := range target {
		if base[p] == content {
			script.WriteString("/www/" + p + "\r\n")
			continue
		}
		shipped = append(shipped, bundle.SourceFile{Path: p, Content: []byte(content)})
	}
	shipped = append(shipped,
		bundle.SourceFile{Path: webres.FileListName, Content: sum.FileList},
		bundle.SourceFile{Path: webres.ChecksumJSPath, Content: webres.ChecksumJS(checksum, buildDate)})

	full := filepath.Join(t.TempDir(), "shipped.zip")
	job := bundle.Job{Dest: full, Files: shipped, Meta: bundle.Metadata{
		FormatVersion: bundle.FormatVersion, AppID: testAppID, Platform: testPlatform, AppVersion: testVersion,
		PluginVersion: testPlugin, PlatformVersion: "8.0.0.00-20230609-123807", Checksum: checksum, Size: sum.Size,
	}}
	if _, err := bundle.WriteArchives(context.Background(), []bundle.Job{job}, bundle.WriteOptions{ModTime: buildDate}); err != nil {
		t.Fatal(err)
	}
	b := addScript(t, full, []byte(script.String()))

	var unpacked int64
	for _, content := range target {
		unpacked += int64(len(content))
	}
	return testArchive{Bytes: b, Checksum: checksum, SHA256: sha256Hex(b), Unpacked: unpacked}
}

// addScript returns the archive at path with a stored ddu.script entry
// added at the end and the 512-space comment kept.
func addScript(t *testing.T, path string, script []byte) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()

	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: bundle.DDUScriptName, Method: zip.Store, Modified: buildDate,
		CRC32: crc32.ChecksumIEEE(script), CompressedSize64: uint64(len(script)), UncompressedSize64: uint64(len(script)),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(script)
	if err := zw.SetComment(zr.Comment); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// filesDelta changes index.html, adds img/new.txt, keeps js/index.js and
// worklight.js, and deletes css/index.css of filesV1.
var filesDelta = map[string]string{
	"index.html":  "<h1>delta</h1>\n",
	"js/index.js": filesV1["js/index.js"],
	"img/new.txt": "added by the delta\n",
	"plugins/cordova-plugin-mfp/worklight/worklight.js": filesV1["plugins/cordova-plugin-mfp/worklight/worklight.js"],
}

func deltaFake(t *testing.T, a testArchive, base uint32) *fakeServer {
	t.Helper()
	fake := startFake(t, a, serveArchive(a.Bytes))
	fake.resp.Type = protocol.TypeDelta
	fake.resp.BaseChecksum = base
	return fake
}

func TestUpdateAppliesDelta(t *testing.T) {
	www, sumV1 := deviceFolder(t, filesV1)
	delta := buildDelta(t, filesV1, filesDelta)
	fake := deltaFake(t, delta, sumV1)

	res := mustUpdate(t, newDevice(www, fake.URL), StatusSuccess)
	if res.Type != protocol.TypeDelta || res.Checksum != delta.Checksum {
		t.Errorf("result = %+v, want a delta to %d", res, delta.Checksum)
	}
	assertSameTree(t, snapshot(t, www), expectedTree(t, filesDelta))
	assertStateClean(t, www)
}

func TestUpdateRejectsDeltaForOtherBase(t *testing.T) {
	www, sumV1 := deviceFolder(t, filesV1)
	// Made for a base that already has every target file: it ships
	// nothing and lists img/new.txt, which the device lacks.
	delta := buildDelta(t, filesDelta, filesDelta)
	before := snapshot(t, www)

	mustUpdate(t, newDevice(www, deltaFake(t, delta, sumV1).URL), StatusFailureIntegrity)
	assertSameTree(t, snapshot(t, www), before)

	// A delta announced for another base is not downloaded at all.
	fake := deltaFake(t, delta, sumV1+1)
	mustUpdate(t, newDevice(www, fake.URL), StatusFailureUnknown)
	if n := len(fake.archiveRequests()); n != 0 {
		t.Errorf("%d download requests for a delta of another base, want none", n)
	}
	assertSameTree(t, snapshot(t, www), before)
	if _, err := os.Stat(filepath.Join(stateDir(www), downloadName)); err == nil {
		t.Error("download file kept after FAILURE_INTEGRITY")
	}
}

func TestUpdateRejectsDeltaAnnouncedAsFull(t *testing.T) {
	www, _ := deviceFolder(t, filesV1)
	delta := buildDelta(t, filesV1, filesDelta)
	before := snapshot(t, www)
	fake := startFake(t, delta, serveArchive(delta.Bytes))

	mustUpdate(t, newDevice(www, fake.URL), StatusFailureIntegrity)
	assertSameTree(t, snapshot(t, www), before)
}

// Package ziptest builds valid and hostile direct-update archives for the
// tests of the update server and of "mfpdev archive verify", so that both
// check the same list of attacks and broken files.
package ziptest

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// Sample app of Valid.
const (
	AppID         = "com.example.app"
	Platform      = "android"
	AppVersion    = "1.0.0"
	PluginVersion = "8.0.2024082705"
)

// modTime is the time of every entry, so that archives are reproducible.
var modTime = time.Unix(1700000000, 0)

// SampleFiles are the www files of the archive Valid writes.
func SampleFiles() map[string]string {
	return map[string]string{
		"index.html":         "<html><body>sample</body></html>\n",
		"js/app.js":          "console.log('sample');\n",
		"css/app.css":        "body { color: black; }\n",
		"cordova.js":         "// cordova\n",
		"cordova_plugins.js": "module.exports = [];\n",
	}
}

// Valid returns an unsigned archive of the sample app written by
// bundle.WriteArchives, with files as its www/ content (SampleFiles when
// nil) plus filelist and checksum.js. tmpDir receives the file while it is
// written.
func Valid(ctx context.Context, tmpDir string, files map[string]string) ([]byte, error) {
	if files == nil {
		files = SampleFiles()
	}

	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	sum, err := webres.Compute(ctx, paths, func(p string) (io.ReadCloser, error) {
		content, ok := files[p]
		if !ok {
			return nil, os.ErrNotExist
		}
		return io.NopCloser(strings.NewReader(content)), nil
	})
	if err != nil {
		return nil, err
	}

	sources := make([]bundle.SourceFile, 0, len(paths)+2)
	for _, p := range paths {
		sources = append(sources, bundle.SourceFile{Path: p, Content: []byte(files[p])})
	}
	sources = append(sources,
		bundle.SourceFile{Path: webres.FileListName, Content: sum.FileList},
		bundle.SourceFile{Path: webres.ChecksumJSPath, Content: webres.ChecksumJS(sum.Checksum, modTime)},
	)

	dest := filepath.Join(tmpDir, fmt.Sprintf("%s-%s-%s.zip", AppID, Platform, AppVersion))
	_, err = bundle.WriteArchives(ctx, []bundle.Job{{
		Dest:  dest,
		Files: sources,
		Meta: bundle.Metadata{
			AppID: AppID, Platform: Platform, AppVersion: AppVersion,
			PluginVersion: PluginVersion, PlatformVersion: "8.0.0.00-20230609-123807",
			Checksum: sum.Checksum, Size: sum.Size,
		},
	}}, bundle.WriteOptions{ModTime: modTime})
	if err != nil {
		return nil, err
	}
	defer os.Remove(dest)

	return os.ReadFile(dest)
}

// Entry is one zip entry with its data as stored (compressed for Deflate).
type Entry struct {
	Header zip.FileHeader
	Raw    []byte
}

// Entries returns the entries of the zip in data.
func Entries(data []byte) ([]Entry, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}

	out := make([]Entry, 0, len(zr.File))
	for _, f := range zr.File {
		r, err := f.OpenRaw()
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Header: f.FileHeader, Raw: raw})
	}

	return out, nil
}

// BlankComment is the 512-space comment of an unsigned archive.
var BlankComment = strings.Repeat(" ", 512)

// Build writes entries as they are into a zip with the given comment.
func Build(entries []Entry, comment string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := e.Header
		w, err := zw.CreateRaw(&h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.Raw); err != nil {
			return nil, err
		}
	}
	if err := zw.SetComment(comment); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}

	return buf.Bytes(), nil
}

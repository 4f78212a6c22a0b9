package adminclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// App names the web resources of one app version on one platform.
type App struct {
	ID       string // the app id, for example "com.example.app"
	Platform string // android, ios, windows or browser
	Version  string // the app version the archive is made for
}

func (a App) String() string {
	return fmt.Sprintf("%s %s %s", a.ID, a.Platform, a.Version)
}

// Archive is a direct-update archive to upload, read from a file or from
// a ReaderAt. Either way every attempt reads it again from the start.
type Archive struct {
	// Path is the archive file, used when ReaderAt is nil.
	Path string
	// ReaderAt and Size give the archive's bytes instead of Path.
	ReaderAt io.ReaderAt
	Size     int64
	// Checksum is the web-resources checksum recorded in the archive. The
	// upload succeeds only when the server stored this checksum.
	Checksum uint32
	// SHA256 is the expected hex SHA-256 of the archive, or empty. The
	// upload fails before sending when the bytes do not match it.
	SHA256 string
}

// Uploaded is the server's response to an upload: the active deployment.
type Uploaded struct {
	protocol.Deployment
	// Unchanged is true when the archive already was the active deployment,
	// so the server stored nothing new.
	Unchanged bool
}

// Upload sends archive as the web resources of app in runtime, as a raw
// application/zip body with an exact Content-Length. progress, when not
// nil, is called with the number of bytes sent so far in the current
// attempt, so the count starts again from 0 on a retry.
//
// Upload succeeds only when the server's deployment carries the
// web-resources checksum and the SHA-256 it stored and both equal the
// local archive's; otherwise the error matches ErrMismatch.
func (c *Client) Upload(ctx context.Context, runtime string, app App, archive Archive,
	progress func(sent int64)) (*Uploaded, error) {
	readerAt, size, closeArchive, err := openArchive(archive)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", app, err)
	}
	defer closeArchive()

	localSHA, err := sha256Hex(ctx, readerAt, size)
	if err != nil {
		return nil, fmt.Errorf("upload %s: hash %s: %w", app, archive.name(), err)
	}
	if archive.SHA256 != "" && !strings.EqualFold(archive.SHA256, localSHA) {
		return nil, fmt.Errorf("upload %s: %s has SHA-256 %s, expected %s: the file changed after it was built, build it again",
			app, archive.name(), localSHA, archive.SHA256)
	}

	path := protocol.AdminWebPath(c.adminContext(), runtime, app.ID, app.Platform, app.Version)
	resp, err := c.do(ctx, request{
		method: http.MethodPost,
		path:   path,
		body: func() io.Reader {
			return &progressReader{r: io.NewSectionReader(readerAt, 0, size), report: progress}
		},
		size:         size,
		contentType:  protocol.ZipContentType,
		notFoundHint: c.runtimeNotFoundHint(runtime),
	})
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", app, err)
	}

	deployment, err := verifyDeployment(resp, app, archive.Checksum, localSHA)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", app, err)
	}
	return &Uploaded{Deployment: *deployment, Unchanged: resp.admin.Unchanged}, nil
}

func (c *Client) runtimeNotFoundHint(runtime string) string {
	return fmt.Sprintf("check the runtime name %q and the admin context root %q", runtime, c.adminContext())
}

// verifyDeployment checks that the server stored the archive that was sent.
func verifyDeployment(resp *response, app App, checksum uint32, sha string) (*protocol.Deployment, error) {
	d := resp.admin.Deployment
	if d == nil || !jsonHasKeys(resp.raw, "deployment", "checksum", "sha256") {
		return nil, fmt.Errorf("%w: the server's response lacks the deployment's checksum and sha256, "+
			"so the upload cannot be confirmed: check that the server is an mfpdev server", ErrMismatch)
	}
	if !strings.EqualFold(d.SHA256, sha) {
		return nil, fmt.Errorf("%w: the server stored SHA-256 %s, the archive has %s: upload it again", ErrMismatch, d.SHA256, sha)
	}
	if d.Checksum != checksum {
		return nil, fmt.Errorf("%w: the server stored checksum %d, the archive's metadata records %d: "+
			"build the archive again", ErrMismatch, d.Checksum, checksum)
	}
	if d.AppID != app.ID || d.Platform != app.Platform || d.AppVersion != app.Version {
		return nil, fmt.Errorf("%w: the server stored it as %s %s %s", ErrMismatch, d.AppID, d.Platform, d.AppVersion)
	}
	return d, nil
}

func (a Archive) name() string {
	if a.Path != "" {
		return a.Path
	}
	return "the archive"
}

// openArchive returns the archive's bytes and a function releasing them.
func openArchive(a Archive) (io.ReaderAt, int64, func(), error) {
	if a.ReaderAt != nil {
		if a.Size <= 0 {
			return nil, 0, nil, fmt.Errorf("archive size %d: give the size of the ReaderAt", a.Size)
		}
		return a.ReaderAt, a.Size, func() {}, nil
	}

	f, err := os.Open(a.Path)
	if err != nil {
		return nil, 0, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, nil, fmt.Errorf("%s is not a regular file", a.Path)
	}
	return f, fi.Size(), func() { f.Close() }, nil
}

// sha256Hex hashes size bytes of r, checking ctx between blocks.
func sha256Hex(ctx context.Context, r io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	section := io.NewSectionReader(r, 0, size)
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := section.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// progressReader reports the running count of bytes read.
type progressReader struct {
	r      io.Reader
	sent   int64
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	if p.sent == 0 && p.report != nil {
		p.report(0)
	}
	n, err := p.r.Read(b)
	p.sent += int64(n)
	if n > 0 && p.report != nil {
		p.report(p.sent)
	}
	return n, err
}

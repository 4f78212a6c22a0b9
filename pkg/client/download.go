package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// Progress receives the number of archive bytes on disk so far and the
// archive's size in bytes. It is called from the goroutine running Update.
type Progress func(done, total int64)

// downloadLink resolves the check response's link against the runtime root.
func (d *Device) downloadLink(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("download link %q is invalid: %w", link, err)
	}
	if u.IsAbs() {
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", fmt.Errorf("download link %q is invalid: scheme %q is not http or https", link, u.Scheme)
		}
		return u.String(), nil
	}
	base, err := url.Parse(d.serverURL() + "/" + d.runtime() + "/")
	if err != nil {
		return "", fmt.Errorf("server URL %q is invalid: %w", d.serverURL(), err)
	}
	return base.ResolveReference(u).String(), nil
}

// download brings download.zip to the complete archive the check response
// announces, resuming a partial file made for the same archive. It returns
// the number of bytes received in this call.
func (d *Device) download(ctx context.Context, st *state, resp *protocol.CheckResponse, progress Progress) (int64, error) {
	link, err := d.downloadLink(resp.DirectUpdateLink)
	if err != nil {
		return 0, &Failure{Status: StatusFailureDownloading, Err: err}
	}
	target := targetOf(resp, link)
	offset, err := st.prepareDownload(target)
	if err != nil {
		return 0, &Failure{Status: StatusFailureUnknown, Err: err}
	}

	var received int64
	// A second attempt follows only a 416 response to a Range request, which
	// means the partial file is not a prefix of this archive.
	for attempt := 0; attempt < 2 && offset < target.PackedSize; attempt++ {
		n, restart, err := d.fetch(ctx, st, link, offset, target.PackedSize, progress)
		received += n
		if err != nil {
			return received, err
		}
		if !restart {
			break
		}
		offset = 0
	}

	if err := st.checkDownload(target); err != nil {
		return received, err
	}
	return received, nil
}

// targetOf returns the archive a check response offers.
func targetOf(resp *protocol.CheckResponse, link string) downloadTarget {
	return downloadTarget{Checksum: resp.Checksum, SHA256: strings.ToLower(resp.SHA256), PackedSize: resp.PackedSize, Link: link}
}

// prepareDownload keeps download.zip when it belongs to target and returns
// its size, or empties it and records target.
func (s *state) prepareDownload(target downloadTarget) (int64, error) {
	saved, err := s.load()
	if err != nil {
		return 0, err
	}
	if n, ok := s.resumable(saved, target); ok {
		return n, nil
	}

	if err := os.Remove(s.path(downloadName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("device state: %w", err)
	}
	saved.Download = &target
	return 0, s.save(saved)
}

// resumable returns the size of download.zip and true when saved records
// it as a partial or complete download of target.
func (s *state) resumable(saved savedState, target downloadTarget) (int64, bool) {
	same := saved.Download
	if same == nil || same.Checksum != target.Checksum || same.SHA256 != target.SHA256 || same.PackedSize != target.PackedSize {
		return 0, false
	}
	info, err := os.Stat(s.path(downloadName))
	if err != nil || !info.Mode().IsRegular() || info.Size() > target.PackedSize {
		return 0, false
	}
	return info.Size(), true
}

// fetch requests the archive from offset and writes the body into
// download.zip at that offset. restart is true when the server responded 416
// and the caller should start from zero.
func (d *Device) fetch(ctx context.Context, st *state, link string, offset, size int64, progress Progress) (n int64, restart bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return 0, false, &Failure{Status: StatusFailureDownloading, Err: fmt.Errorf("download: %w", err)}
	}
	req.Header.Set("Accept", protocol.ZipContentType)
	// Compressing a zip gains nothing and would hide Content-Length.
	req.Header.Set("Accept-Encoding", "identity")
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := d.httpClient().Do(req)
	if err != nil {
		return 0, false, networkFailure(ctx, fmt.Errorf("download: %w", err))
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		return 0, true, nil
	case resp.StatusCode == http.StatusOK:
		// The server ignored Range: the body is the whole archive, so
		// appending it would corrupt the file.
		offset = 0
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		if err := checkContentRange(resp.Header.Get("Content-Range"), offset, size); err != nil {
			return 0, false, &Failure{Status: StatusFailureDownloading, Err: fmt.Errorf("download: GET %s: %w", link, err)}
		}
	default:
		return 0, false, &Failure{Status: StatusFailureDownloading, Err: fmt.Errorf("download: %w", newHTTPError(req, resp))}
	}

	if ct := resp.Header.Get("Content-Type"); ct != protocol.ZipContentType {
		return 0, false, &Failure{Status: StatusFailureDownloading,
			Err: fmt.Errorf("download: GET %s: Content-Type is %q, want exactly %q", link, ct, protocol.ZipContentType)}
	}
	if resp.ContentLength >= 0 && offset+resp.ContentLength != size {
		return 0, false, &Failure{Status: StatusFailureDownloading,
			Err: fmt.Errorf("download: GET %s: Content-Length %d from byte %d does not make the announced size of %d bytes", link, resp.ContentLength, offset, size)}
	}

	n, err = writeAt(st.path(downloadName), offset, resp.Body, size, progress)
	if err != nil {
		var failure *Failure
		if errors.As(err, &failure) {
			return n, false, err
		}
		return n, false, networkFailure(ctx, fmt.Errorf("download: GET %s: %w", link, err))
	}
	return n, false, nil
}

// writeAt copies body into path from offset, truncating whatever follows,
// and syncs the file even when the copy fails so the bytes received are
// kept for resuming. It reads at most one byte past size to detect a body
// that is too long.
func writeAt(path string, offset int64, body io.Reader, size int64, progress Progress) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return 0, &Failure{Status: StatusFailureUnknown, Err: fmt.Errorf("download: %w", err)}
	}
	defer f.Close()
	if err := f.Truncate(offset); err != nil {
		return 0, &Failure{Status: StatusFailureUnknown, Err: fmt.Errorf("download: %w", err)}
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, &Failure{Status: StatusFailureUnknown, Err: fmt.Errorf("download: %w", err)}
	}

	w := &progressWriter{w: f, done: offset, total: size, progress: progress}
	n, copyErr := io.Copy(w, io.LimitReader(body, size-offset+1))
	syncErr := f.Sync()
	switch {
	case copyErr != nil && w.writeErr != nil:
		return n, diskFailure(fmt.Errorf("download: write %s: %w", path, w.writeErr))
	case copyErr != nil:
		return n, copyErr
	case syncErr != nil:
		return n, diskFailure(fmt.Errorf("download: write %s: %w", path, syncErr))
	case offset+n > size:
		return n, &Failure{Status: StatusFailureDownloading, Err: fmt.Errorf("download: the server sent more than the announced %d bytes", size)}
	case offset+n < size:
		return n, fmt.Errorf("connection closed after %d of %d bytes", offset+n, size)
	}
	return n, nil
}

// progressWriter reports progress and remembers write errors, so that a
// full disk is distinguished from a broken connection.
type progressWriter struct {
	w        io.Writer
	done     int64
	total    int64
	progress Progress
	writeErr error
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if err != nil {
		p.writeErr = err
	}
	if p.progress != nil && n > 0 {
		p.progress(p.done, p.total)
	}
	return n, err
}

// checkContentRange checks a 206 answer's "bytes first-last/total" header.
func checkContentRange(header string, offset, size int64) error {
	spec, ok := strings.CutPrefix(header, "bytes ")
	rangePart, totalPart, ok2 := strings.Cut(spec, "/")
	first, last, ok3 := strings.Cut(rangePart, "-")
	if !ok || !ok2 || !ok3 {
		return fmt.Errorf("Content-Range %q is invalid", header)
	}
	firstN, err1 := strconv.ParseInt(first, 10, 64)
	lastN, err2 := strconv.ParseInt(last, 10, 64)
	if err1 != nil || err2 != nil || firstN != offset || lastN != size-1 {
		return fmt.Errorf("Content-Range %q does not cover bytes %d-%d", header, offset, size-1)
	}
	if totalPart != "*" && totalPart != strconv.FormatInt(size, 10) {
		return fmt.Errorf("Content-Range %q does not match the announced size of %d bytes", header, size)
	}
	return nil
}

// checkDownload compares the complete download.zip with target. A file of
// the wrong size or digest is deleted, because resuming it cannot help.
func (s *state) checkDownload(target downloadTarget) error {
	path := s.path(downloadName)
	f, err := os.Open(path)
	if err != nil {
		return &Failure{Status: StatusFailureUnknown, Err: fmt.Errorf("download: %w", err)}
	}
	defer f.Close()

	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return &Failure{Status: StatusFailureUnknown, Err: fmt.Errorf("download: read %s: %w", path, err)}
	}
	if n != target.PackedSize {
		s.discardDownload()
		return &Failure{Status: StatusFailureDownloading, Err: fmt.Errorf("download: %s has %d bytes, the server announced %d", path, n, target.PackedSize)}
	}
	if target.SHA256 != "" && hex.EncodeToString(h.Sum(nil)) != target.SHA256 {
		s.discardDownload()
		return &Failure{Status: StatusFailureIntegrity, Err: fmt.Errorf("download: SHA-256 of %s is %x, the server announced %s", path, h.Sum(nil), target.SHA256)}
	}
	return nil
}

// discardDownload deletes download.zip and clears its recorded target.
func (s *state) discardDownload() {
	os.Remove(s.path(downloadName))
	s.update(func(saved *savedState) { saved.Download = nil })
}

// networkFailure classifies an error of the transport: CANCELED when the
// caller's context ended, FAILURE_NETWORK_PROBLEM otherwise.
func networkFailure(ctx context.Context, err error) *Failure {
	if ctx.Err() != nil {
		return &Failure{Status: StatusCanceled, Err: err}
	}
	return &Failure{Status: StatusFailureNetworkProblem, Err: err}
}

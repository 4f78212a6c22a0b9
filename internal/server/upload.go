package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"

	"github.com/dustin/go-humanize"

	"github.com/mfpdev/mfpdev/internal/crashtest"
	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/version"
)

// uploadTempPrefix starts the names of upload temporary files in
// DataDir/tmp, which New deletes at start.
const uploadTempPrefix = "upload-"

// uploadError is an upload rejected with an HTTP status and one detail per
// reason.
type uploadError struct {
	status  int
	reason  string // short, for logs and metrics
	details []string
}

func (e *uploadError) Error() string { return e.reason }

func rejectUpload(status int, reason string, details ...string) *uploadError {
	if len(details) == 0 {
		details = []string{reason}
	}
	return &uploadError{status: status, reason: reason, details: details}
}

// spooled is an uploaded archive in a temporary file.
type spooled struct {
	file   *os.File
	size   int64
	sha256 string
}

func (sp *spooled) remove() {
	sp.file.Close()
	os.Remove(sp.file.Name())
}

// upload receives an archive, validates it, and stores it as the active
// deployment of the app version in the path.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	user := userFrom(r.Context())
	key, ok := s.webKey(w, r, txUpload)
	if !ok {
		s.metrics.uploads.WithLabelValues(uploadRejected).Inc()
		return
	}
	attrs := append(appAttrs(key.Runtime, key.AppID, key.Platform, key.AppVersion), "user", user.Name)

	d, err := s.receiveArchive(w, r, key)
	if errors.Is(err, errAlreadyDeployed) {
		s.log.Info("upload unchanged: archive already deployed", append(attrs, "checksum", d.Checksum, "sha256", d.SHA256)...)
		s.metrics.uploads.WithLabelValues(uploadSuccess).Inc()
		p := toProtocol(d)
		s.adminOK(w, txUpload, protocol.AdminResponse{Deployment: &p, Unchanged: true})
		return
	}
	if err != nil {
		var rejected *uploadError
		if !errors.As(err, &rejected) {
			rejected = rejectUpload(http.StatusInternalServerError, "storing the archive failed", "storing the archive failed: see the server log")
			s.log.Error("upload failed", append(attrs, "err", err)...)
			s.metrics.uploads.WithLabelValues(uploadFailed).Inc()
		} else {
			s.log.Warn("upload rejected", append(attrs, "status", rejected.status, "reason", rejected.reason, "details", rejected.details)...)
			s.metrics.uploads.WithLabelValues(uploadRejected).Inc()
		}
		s.adminError(w, rejected.status, txUpload, rejected.details...)
		return
	}

	s.log.Info("upload stored", append(attrs, "checksum", d.Checksum, "sha256", d.SHA256,
		"packedSize", d.PackedSize, "signed", d.Signed, "pluginVersion", d.PluginVersion)...)
	s.metrics.uploads.WithLabelValues(uploadSuccess).Inc()
	s.prebuildDeltas(r.Context(), d)
	p := toProtocol(d)
	s.adminOK(w, txUpload, protocol.AdminResponse{Deployment: &p})
}

// errAlreadyDeployed is returned with the active deployment when an upload
// is the archive that is already active.
var errAlreadyDeployed = errors.New("archive already deployed")

// receiveArchive spools, validates and stores an upload. Errors of type
// *uploadError are the client's; others are the server's.
func (s *Server) receiveArchive(w http.ResponseWriter, r *http.Request, key store.AppKey) (store.Deployment, error) {
	if err := version.ValidateApp(key.AppVersion); err != nil {
		return store.Deployment{}, rejectUpload(http.StatusBadRequest, "invalid app version in path", err.Error())
	}

	sp, err := s.spool(w, r)
	if err != nil {
		return store.Deployment{}, err
	}
	defer sp.remove()
	crashtest.At(crashtest.AfterTemp)

	d, err := s.validateArchive(r.Context(), sp, key)
	if err != nil {
		return store.Deployment{}, err
	}
	d.DeployedBy = userFrom(r.Context()).Name

	// The same archive pushed again, as CI re-runs do, changes nothing: a
	// second history row would only push a real delta base out of the
	// delta window.
	if active, err := s.meta.Active(r.Context(), key); err == nil && active.SHA256 == d.SHA256 {
		return active, errAlreadyDeployed
	}

	// The blob goes first and is synced, so the row committed next never
	// points at missing bytes.
	if _, err := sp.file.Seek(0, io.SeekStart); err != nil {
		return store.Deployment{}, err
	}
	if err := s.blobs.Put(r.Context(), d.SHA256, sp.file); err != nil {
		return store.Deployment{}, err
	}
	crashtest.At(crashtest.AfterBlob)
	if err := s.meta.Insert(r.Context(), &d); err != nil {
		return store.Deployment{}, err
	}
	crashtest.At(crashtest.AfterCommit)
	return d, nil
}

// tooLarge is the 413 rejection, naming the limit and the flag that sets it.
func (s *Server) tooLarge() *uploadError {
	return rejectUpload(http.StatusRequestEntityTooLarge, "archive too large",
		fmt.Sprintf("archive is larger than the upload limit of %s (%d bytes): raise --max-upload-size on the server",
			humanize.IBytes(uint64(s.cfg.MaxUploadSize)), s.cfg.MaxUploadSize))
}

// spool copies the archive in the request body (raw application/zip, or
// the one file part of a multipart/form-data body) into a temporary file,
// hashing it on the way, and never holds it in memory.
func (s *Server) spool(w http.ResponseWriter, r *http.Request) (*spooled, error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, rejectUpload(http.StatusUnsupportedMediaType, "missing or invalid Content-Type",
			"Content-Type is missing or invalid: send multipart/form-data with one file part, or application/zip")
	}

	switch mediaType {
	case "multipart/form-data":
		if r.ContentLength > s.cfg.MaxUploadSize+multipartOverhead {
			return nil, s.tooLarge()
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadSize+multipartOverhead)
		return s.spoolMultipart(multipart.NewReader(r.Body, params["boundary"]))
	case "application/zip", "application/x-zip-compressed", "application/octet-stream":
		if r.ContentLength > s.cfg.MaxUploadSize {
			return nil, s.tooLarge()
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadSize)
		return s.spoolReader(r.Body)
	default:
		return nil, rejectUpload(http.StatusUnsupportedMediaType, "unsupported Content-Type",
			fmt.Sprintf("Content-Type %s is not supported: send multipart/form-data with one file part, or application/zip", mediaType))
	}
}

func (s *Server) spoolMultipart(mr *multipart.Reader) (*spooled, error) {
	if mr == nil {
		return nil, rejectUpload(http.StatusBadRequest, "invalid multipart body", "multipart/form-data body has no boundary parameter")
	}

	var sp *spooled
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if sp != nil {
				sp.remove()
			}
			return nil, s.bodyError(err, "invalid multipart body")
		}

		if part.FileName() == "" {
			// A plain form field: read and ignore it, within the body limit.
			if _, err := io.Copy(io.Discard, part); err != nil {
				if sp != nil {
					sp.remove()
				}
				return nil, s.bodyError(err, "invalid multipart body")
			}
			continue
		}
		if sp != nil {
			sp.remove()
			return nil, rejectUpload(http.StatusBadRequest, "more than one file part",
				"multipart body has more than one file part: send exactly one archive")
		}
		sp, err = s.spoolReader(part)
		if err != nil {
			return nil, err
		}
	}

	if sp == nil {
		return nil, rejectUpload(http.StatusBadRequest, "no file part", "multipart body has no file part: send the archive as a file part")
	}
	return sp, nil
}

// spoolReader copies at most MaxUploadSize bytes of r into a temporary
// file and rejects a longer body.
func (s *Server) spoolReader(r io.Reader) (*spooled, error) {
	f, err := os.CreateTemp(s.tmpDir, uploadTempPrefix+"*.zip")
	if err != nil {
		return nil, err
	}
	sp := &spooled{file: f}

	hash := sha256.New()
	body := &readErrorRecorder{r: io.LimitReader(r, s.cfg.MaxUploadSize+1)}
	n, err := io.Copy(io.MultiWriter(f, hash), body)
	if err != nil {
		sp.remove()
		if body.err != nil {
			return nil, s.bodyError(body.err, "reading the body failed")
		}
		return nil, fmt.Errorf("write upload temporary file: %w", err)
	}
	if n > s.cfg.MaxUploadSize {
		sp.remove()
		return nil, s.tooLarge()
	}
	if n == 0 {
		sp.remove()
		return nil, rejectUpload(http.StatusBadRequest, "empty archive", "the uploaded archive is empty")
	}

	sp.size = n
	sp.sha256 = hex.EncodeToString(hash.Sum(nil))
	return sp, nil
}

// bodyError turns an error reading the request body into a rejection.
func (s *Server) bodyError(err error, reason string) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return s.tooLarge()
	}
	return rejectUpload(http.StatusBadRequest, reason, fmt.Sprintf("%s: %v", reason, err))
}

// readErrorRecorder keeps the error of its reader, so that a failed copy
// can distinguish a broken request body from a failed write to disk.
type readErrorRecorder struct {
	r   io.Reader
	err error
}

func (rr *readErrorRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && err != io.EOF {
		rr.err = err
	}
	return n, err
}

package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/protocol"
)

// DefaultPresignExpiry is how long a presigned download URL stays valid
// when Config.PresignExpiry is zero. It covers a slow download that a
// device resumes with Range requests on the same URL.
const DefaultPresignExpiry = 15 * time.Minute

// unreferencedBlobMinAge is the age below which New leaves an
// unreferenced blob in place. An upload stores its blob and commits its
// row within one request, which takes far less than this.
const unreferencedBlobMinAge = time.Hour

// validatePresign checks the presigned download settings of cfg and fills
// in the default expiry.
func validatePresign(cfg *Config) error {
	if !cfg.PresignedDownloads {
		return nil
	}
	if _, ok := cfg.Blobs.(store.Presigner); !ok {
		return errors.New("start server: presigned downloads need an S3 blob store: set --blob-store s3://BUCKET?endpoint=URL or drop --presigned-downloads")
	}
	if cfg.PresignExpiry <= 0 {
		cfg.PresignExpiry = DefaultPresignExpiry
	}
	// S3 signature version 4 allows at most seven days.
	if cfg.PresignExpiry > 7*24*time.Hour {
		return fmt.Errorf("start server: presigned URL expiry %s is too long: use at most 168h", cfg.PresignExpiry)
	}
	return nil
}

// redirectDownload responds to a download of d with a redirect to a
// presigned URL of its blob. The redirect must not be cached longer than the URL
// lives, so it is marked no-store, while the URL it points to still names
// the content.
func (s *Server) redirectDownload(w http.ResponseWriter, r *http.Request, d store.Deployment, filename, updateType string,
	attrs []any, reject func(status int, reason, message string)) {
	presigner := s.blobs.(store.Presigner)
	u, err := presigner.PresignGet(r.Context(), d.SHA256, s.cfg.PresignExpiry, protocol.ZipContentType, filename)
	if err != nil {
		s.log.Error("download failed: presigning the archive URL failed", append(attrs, "sha256", d.SHA256, "err", err)...)
		reject(http.StatusInternalServerError, "presign failed", "download failed: see the server log")
		return
	}

	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("ETag", `"`+d.SHA256+`"`)
	http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)

	s.metrics.downloads.WithLabelValues(updateType, strconv.Itoa(http.StatusTemporaryRedirect)).Inc()
	s.log.Debug("archive redirected to the blob store", append(attrs, "status", http.StatusTemporaryRedirect, "sha256", d.SHA256)...)
}

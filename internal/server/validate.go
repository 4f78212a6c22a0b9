package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/mfpdev/mfpdev/internal/store"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/version"
)

// validateArchive checks a spooled upload with bundle.Read (format rules,
// limits, signature when keys are trusted) and checks that the archive's
// metadata names the app version of the upload path. It returns the
// deployment to store.
func (s *Server) validateArchive(ctx context.Context, sp *spooled, key store.AppKey) (store.Deployment, error) {
	archive, err := bundle.Read(ctx, sp.file, sp.size, bundle.ReadOptions{
		Limits:           s.cfg.Limits,
		PublicKeys:       s.cfg.TrustedKeys,
		RequireSignature: len(s.cfg.TrustedKeys) > 0,
	})
	if err != nil {
		return store.Deployment{}, archiveRejection(err)
	}

	if archive.Delta {
		return store.Deployment{}, rejectUpload(http.StatusBadRequest, "delta archive",
			"the archive is a delta archive (it has "+bundle.DDUScriptName+"), which this server does not accept: upload a full archive")
	}

	m := archive.Meta
	var mismatches []string
	for _, field := range []struct{ name, archive, path string }{
		{"app id", m.AppID, key.AppID},
		{"platform", m.Platform, key.Platform},
		{"app version", m.AppVersion, key.AppVersion},
	} {
		if field.archive != field.path {
			mismatches = append(mismatches, fmt.Sprintf("the archive's %s is %q but the upload path names %q: upload it to the path of its own app version",
				field.name, field.archive, field.path))
		}
	}
	if _, err := version.ParsePlugin(m.PluginVersion); err != nil {
		mismatches = append(mismatches, "the archive's metadata: "+err.Error())
	}
	if len(mismatches) > 0 {
		return store.Deployment{}, rejectUpload(http.StatusBadRequest, "archive does not match the upload path", mismatches...)
	}

	return store.Deployment{
		AppKey:          key,
		PluginVersion:   m.PluginVersion,
		PlatformVersion: m.PlatformVersion,
		Checksum:        m.Checksum,
		Size:            m.Size,
		Files:           m.Files,
		UnpackedSize:    m.UnpackedSize,
		PackedSize:      sp.size,
		SHA256:          sp.sha256,
		Signed:          archive.Signed,
		DeployedAt:      s.cfg.Now().UTC(),
	}, nil
}

// maxProblemDetails bounds the problems an upload rejection lists, so that
// an archive with thousands of invalid entries gets a short response and
// log line.
const maxProblemDetails = 50

// archiveRejection turns an error of bundle.Read into an upload rejection
// listing every problem, or returns it unchanged when it is not the
// archive's fault.
func archiveRejection(err error) error {
	var invalid *bundle.InvalidArchiveError
	if errors.As(err, &invalid) {
		problems := invalid.Problems
		details := make([]string, 0, min(len(problems), maxProblemDetails)+1)
		for _, p := range problems[:min(len(problems), maxProblemDetails)] {
			details = append(details, p.String())
		}
		if extra := len(problems) - maxProblemDetails; extra > 0 {
			details = append(details, fmt.Sprintf("and %d more problems: run \"mfpdev archive verify\" on the archive to list them all", extra))
		}
		if len(details) == 0 {
			details = append(details, invalid.Error())
		}
		return rejectUpload(http.StatusBadRequest, "invalid archive", details...)
	}

	var limit *bundle.LimitError
	if errors.As(err, &limit) {
		return rejectUpload(http.StatusBadRequest, "archive over a limit",
			fmt.Sprintf("archive rejected: %v: raise --max-entries, --max-uncompressed-size or --max-compression-ratio on the server if the archive is genuine", limit))
	}
	return err
}

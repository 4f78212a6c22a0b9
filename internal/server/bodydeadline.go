package server

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// bodyDeadlineStep is the amount of request body that earns a client
// another Config.BodyTimeout.
const bodyDeadlineStep = 64 << 10

// bodyDeadline sets a read deadline on requests that carry a body, so that
// a client trickling bytes cannot hold a connection and a goroutine: each
// 64 KiB must arrive within Config.BodyTimeout. The deadline is lifted
// once the body is read to its end, because net/http cancels the request
// context when a read deadline expires during a long response.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}

		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)); err != nil {
			s.log.Warn("set request body deadline failed", "method", r.Method, "path", r.URL.Path, "err", err)
			next.ServeHTTP(w, r)
			return
		}

		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, timeout: s.cfg.BodyTimeout}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody pushes the read deadline back by the timeout for every
// bodyDeadlineStep bytes read, and lifts it at the end of the body.
type deadlineBody struct {
	io.ReadCloser
	rc        *http.ResponseController
	timeout   time.Duration
	sinceStep int64
	done      bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)

	b.sinceStep += int64(n)
	if b.sinceStep >= bodyDeadlineStep && !b.done {
		b.sinceStep = 0
		b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}

	return n, err
}

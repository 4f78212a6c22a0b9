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

// bodyDeadline bounds how long a client may stall, so that one trickling
// or not reading bytes cannot hold a connection and a goroutine: each
// 64 KiB of a request body must arrive, and each 64 KiB of a response be
// accepted, within Config.BodyTimeout. The read deadline is lifted once
// the body is read to its end, because net/http cancels the request
// context when a read deadline expires during a long response.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		dw := &deadlineWriter{ResponseWriter: w, rc: rc, timeout: s.cfg.BodyTimeout}
		// The final flush happens after the handler returns, and a
		// deadline set here would otherwise outlive the request on a
		// kept-alive connection: leave the flush one more timeout.
		defer func() { rc.SetWriteDeadline(time.Now().Add(s.cfg.BodyTimeout)) }()

		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(dw, r)
			return
		}

		if err := rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)); err != nil {
			s.log.Warn("set request body deadline failed", "method", r.Method, "path", r.URL.Path, "err", err)
			next.ServeHTTP(dw, r)
			return
		}

		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, timeout: s.cfg.BodyTimeout}
		next.ServeHTTP(dw, r)
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

// deadlineWriter sets the connection's write deadline to the timeout
// before every 64 KiB of response body it passes on.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	var written int
	for len(p) > 0 {
		chunk := p[:min(len(p), bodyDeadlineStep)]
		w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
		n, err := w.ResponseWriter.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// ReadFrom copies r in 64 KiB steps, each under a fresh deadline. A
// *io.LimitedReader around a file keeps that shape, so that the
// connection still sends it with sendfile(2).
func (w *deadlineWriter) ReadFrom(r io.Reader) (int64, error) {
	limited, ok := r.(*io.LimitedReader)
	if !ok {
		limited = &io.LimitedReader{R: r, N: 1<<63 - 1}
	}

	var total int64
	for limited.N > 0 {
		step := &io.LimitedReader{R: limited.R, N: min(limited.N, bodyDeadlineStep)}
		w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
		n, err := io.Copy(w.ResponseWriter, step)
		total += n
		limited.N -= n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
	}
	return total, nil
}

func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

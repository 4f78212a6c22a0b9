package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check results, the "result" label of mfpdev_update_checks_total.
const (
	checkResultUpdate   = "update"    // an update is offered
	checkResultNoUpdate = "no-update" // a valid check, nothing to offer
	checkResultRejected = "rejected"  // the request was invalid
)

// Upload results, the "result" label of mfpdev_uploads_total.
const (
	uploadSuccess  = "success"
	uploadRejected = "rejected" // client error: invalid archive, limits, auth
	uploadFailed   = "failed"   // server error while storing
)

// metrics are the server's Prometheus metrics, in a registry of their own
// so that two Servers in one process (tests) do not collide.
type metrics struct {
	registry    *prometheus.Registry
	checks      *prometheus.CounterVec
	downloads   *prometheus.CounterVec
	bytesServed prometheus.Counter
	uploads     *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfpdev_update_checks_total",
			Help: "Device update checks by result (update, no-update, rejected) and reason.",
		}, []string{"result", "reason"}),
		downloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfpdev_downloads_total",
			Help: "Archive download requests by update type and HTTP status code.",
		}, []string{"type", "code"}),
		bytesServed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mfpdev_download_bytes_total",
			Help: "Archive bytes written to download responses.",
		}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mfpdev_uploads_total",
			Help: "Archive uploads by result (success, rejected, failed).",
		}, []string{"result"}),
	}
	m.registry.MustRegister(m.checks, m.downloads, m.bytesServed, m.uploads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

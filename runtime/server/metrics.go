package server

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/waymark-dev/waymark/runtime/worker"
)

// The server's metrics live in a registry of its own (never the global
// one, so that two servers in one process, tests above all, do not
// collide), which /metrics writes through promhttp in the text exposition
// format. The other components' figures come in as collectors
// (Options.Metrics, built by the functions of collectors.go); metric
// names and types are part of the operators' dashboards: add, never rename
// (TestMetricNames lists them).

// DurationBuckets are the upper bounds, in seconds, of the latency
// histograms: from a millisecond (a group commit on a fast disk) to ten
// seconds (a stalled disk or an overloaded worker).
var DurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// serverMetrics are the server's own figures.
type serverMetrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec   // route, code
	durations *prometheus.HistogramVec // route
	events    *prometheus.CounterVec   // type
	ignored   *prometheus.CounterVec   // type
	dups      prometheus.Counter
	invalid   prometheus.Counter
	submit    prometheus.Histogram
	handler   http.Handler
}

func newServerMetrics(s *Server, log *slog.Logger) *serverMetrics {
	m := &serverMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waymark_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waymark_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern, from the request to the last byte of the answer.",
			Buckets: DurationBuckets,
		}, []string{"route"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waymark_ingest_events_total", Help: "Tracking calls committed through the ingest API, by input kind (event, identify).",
		}, []string{"type"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waymark_ingest_ignored_total", Help: "Tracking calls accepted and ignored: page, screen, group and alias.",
		}, []string{"type"}),
		dups: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waymark_ingest_duplicates_total", Help: "Calls dropped because their messageId was repeated within one request.",
		}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waymark_ingest_invalid_total",
			Help: "Batch items refused as invalid calls (listed in the 200 answer's errors) while the batch's valid calls were applied.",
		}),
		submit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "waymark_ingest_commit_seconds", Help: "Time an ingest request waited for its calls to be committed (worker.Submit).",
			Buckets: DurationBuckets,
		}),
	}
	started := float64(s.started.UnixMilli()) / 1e3
	m.reg.MustRegister(m.requests, m.durations, m.events, m.ignored, m.dups, m.invalid, m.submit,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "waymark_start_time_seconds", Help: "When the server started, in Unix seconds.",
		}, func() float64 { return started }))
	for _, c := range s.opts.Metrics {
		m.reg.MustRegister(c)
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		// A collector that fails (two writing one series) costs its own
		// figures, not the whole page.
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// statsCollector is a prometheus.Collector over a component's Stats: each
// scrape reads them once, through collect, and writes every figure as a
// constant metric. It describes nothing up front (an unchecked collector)
// because some families exist only at times (a reload's time, a channel's
// figures); the registry still checks each scrape for consistency.
type statsCollector func(e emitter)

func (c statsCollector) Describe(chan<- *prometheus.Desc) {}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) { c(emitter{ch}) }

// emitter writes constant metrics to a scrape.
type emitter struct{ ch chan<- prometheus.Metric }

// Label is a label pair of a metric.
type Label struct{ Name, Value string }

func (e emitter) metric(t prometheus.ValueType, name, help string, v float64, labels ...Label) {
	names := make([]string, len(labels))
	values := make([]string, len(labels))
	for i, l := range labels {
		names[i], values[i] = l.Name, l.Value
	}
	e.ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, help, names, nil), t, v, values...)
}

func (e emitter) counter(name, help string, v float64, labels ...Label) {
	e.metric(prometheus.CounterValue, name, help, v, labels...)
}

func (e emitter) gauge(name, help string, v float64, labels ...Label) {
	e.metric(prometheus.GaugeValue, name, help, v, labels...)
}

// histogram writes a worker.Histogram (cumulative counts per bound).
func (e emitter) histogram(name, help string, h worker.Histogram) {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			buckets[b] = h.Counts[i]
		} else {
			buckets[b] = 0
		}
	}
	e.ch <- prometheus.MustNewConstHistogram(prometheus.NewDesc(name, help, nil, nil), h.Count, h.Sum, buckets)
}

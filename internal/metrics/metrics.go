// Package metrics holds mediashare's Prometheus collectors, all named
// mediashare_*, in a registry of their own with the Go and process
// collectors beside them.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mediashare/internal/events"
	"mediashare/internal/limits"
)

// Metrics are the application's collectors.
type Metrics struct {
	Registry *prometheus.Registry

	Requests         *prometheus.CounterVec   // route, method, code
	RequestDuration  *prometheus.HistogramVec // route, method
	InFlight         prometheus.Gauge
	Uploads          *prometheus.CounterVec // result
	UploadBytes      prometheus.Counter
	ThumbnailSeconds prometheus.Histogram
	PreviewSeconds   prometheus.Histogram
	PreviewsFailed   prometheus.Counter
	ThumbnailsFailed prometheus.Counter
	EventsAppended   *prometheus.CounterVec   // type
	ProjectionLag    *prometheus.GaugeVec     // consumer
	LiveClients      prometheus.Gauge         // open server-sent event streams
	AWSCalls         *prometheus.CounterVec   // service, operation, outcome
	AWSCallDuration  *prometheus.HistogramVec // service, operation
	StorageOps       *prometheus.CounterVec   // port, operation, outcome
	StorageDuration  *prometheus.HistogramVec // port, operation
	FeedParked       *prometheus.CounterVec   // consumer, reason
	FeedRetries      *prometheus.CounterVec   // consumer
	Refused          *prometheus.CounterVec   // reason (limits.Reasons)
	OwnerUnverified  prometheus.Counter       // owner cookies that failed verification
	ReadyProbes      prometheus.Counter       // backend probes made for /readyz
}

// New makes the collectors and registers them.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediashare_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mediashare_http_request_duration_seconds", Help: "HTTP request duration by route pattern and method.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mediashare_http_requests_in_flight", Help: "HTTP requests being served now.",
		}),
		Uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediashare_uploads_total", Help: "Uploads by result (ok, or the error class).",
		}, []string{"result"}),
		UploadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mediashare_upload_bytes_total", Help: "Bytes of originals accepted.",
		}),
		ThumbnailSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "mediashare_thumbnail_duration_seconds", Help: "Time to make one thumbnail, decode included.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 4, 8, 16},
		}),
		ThumbnailsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mediashare_thumbnail_failures_total", Help: "Thumbnails that could not be made.",
		}),
		PreviewSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "mediashare_preview_duration_seconds", Help: "Time to make one 1280 px preview (after the grid thumbnail, when the site is idle), decode included.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 4, 8, 16},
		}),
		PreviewsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mediashare_preview_failures_total", Help: "Previews that could not be made (the entry keeps its grid thumbnail).",
		}),
		EventsAppended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediashare_events_appended_total", Help: "Events appended to the event store by type.",
		}, []string{"type"}),
		ProjectionLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mediashare_projection_lag_seconds", Help: "How far a consumer is behind the event store: 0 when it has applied the newest event, else that event's age (measured every 5 s).",
		}, []string{"consumer"}),
		LiveClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mediashare_live_clients", Help: "Browsers connected to the live gallery stream.",
		}),
		AWSCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediashare_aws_calls_total", Help: "AWS API calls by service (s3, dynamodb, dynamodbstreams), operation and outcome (ok, error, throttled).",
		}, []string{"service", "operation", "outcome"}),
		AWSCallDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mediashare_aws_call_duration_seconds", Help: "AWS API call latency by service and operation, retries included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"service", "operation"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediashare_limit_refusals_total", Help: "Requests refused by a limit, by reason (upload_rate, uploads_client, uploads_total, streams_client, streams_total, clients, slow_body, spool_full, disk_low).",
		}, []string{"reason"}),
		OwnerUnverified: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mediashare_owner_cookie_unverified_total", Help: "Requests whose owner cookie failed verification (kept, not replaced: a key rotated out too early, or instances with different keys).",
		}),
		ReadyProbes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mediashare_ready_probes_total", Help: "Backend probes made to answer /readyz (at most one a second).",
		}),
	}
	m.StorageOps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mediashare_storage_operations_total", Help: "Storage port calls by port (events, audit, streams, view, changes, blobs), operation and outcome (ok, not_found, conflict, error).",
	}, []string{"port", "operation", "outcome"})
	m.StorageDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "mediashare_storage_operation_duration_seconds", Help: "Storage port call latency by port and operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"port", "operation"})
	m.FeedParked = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mediashare_feed_events_parked_total", Help: "Events a consumer gave up on (dead letters) by consumer and reason (poison: attempts never finished; failed: the handler kept failing).",
	}, []string{"consumer", "reason"})
	m.FeedRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mediashare_feed_handler_retries_total", Help: "Handler failures retried by consumer.",
	}, []string{"consumer"})
	m.Registry.MustRegister(
		m.StorageOps, m.StorageDuration, m.FeedParked, m.FeedRetries,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Requests, m.RequestDuration, m.InFlight, m.Uploads, m.UploadBytes,
		m.ThumbnailSeconds, m.ThumbnailsFailed, m.PreviewSeconds, m.PreviewsFailed, m.EventsAppended, m.ProjectionLag,
		m.LiveClients, m.AWSCalls, m.AWSCallDuration, m.Refused, m.OwnerUnverified, m.ReadyProbes,
	)
	for _, t := range events.Types {
		m.EventsAppended.WithLabelValues(string(t)) // export zeros so rate() works from the start
	}
	for _, r := range limits.Reasons {
		m.Refused.WithLabelValues(r)
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// RegisterStream exports a stream consumer's counters.
func (m *Metrics) RegisterStream(stats func() events.FeedStats) {
	counter := func(opts prometheus.CounterOpts, v func(events.FeedStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(opts, func() float64 { return float64(v(stats())) })
	}
	m.Registry.MustRegister(
		counter(prometheus.CounterOpts{Name: "mediashare_stream_records_delivered_total", Help: "Stream records handled by this instance's consumers."},
			func(s events.FeedStats) int64 { return s.Delivered }),
		counter(prometheus.CounterOpts{Name: "mediashare_stream_handler_errors_total", Help: "Stream records whose handler failed (they are retried)."},
			func(s events.FeedStats) int64 { return s.HandlerErrors }),
		counter(prometheus.CounterOpts{Name: "mediashare_stream_records_parked_total", Help: "Stream records given up on and written as dead letters."},
			func(s events.FeedStats) int64 { return s.Parked }),
		counter(prometheus.CounterOpts{Name: "mediashare_stream_trimmed_total", Help: "Times a consumer found records trimmed from the stream before it read them (the view is rebuilt)."},
			func(s events.FeedStats) int64 { return s.Trimmed }),
		counter(prometheus.CounterOpts{Name: "mediashare_stream_iterators_expired_total", Help: "Shard iterators that expired and were fetched again."},
			func(s events.FeedStats) int64 { return s.ExpiredIterators }),
		counter(prometheus.CounterOpts{Name: "mediashare_stream_throttled_total", Help: "Stream reads throttled (LimitExceededException)."},
			func(s events.FeedStats) int64 { return s.Throttled }),
		counter(prometheus.CounterOpts{Name: "mediashare_stream_leases_taken_total", Help: "Shard leases this instance acquired."},
			func(s events.FeedStats) int64 { return s.LeasesTaken }),
		counter(prometheus.CounterOpts{Name: "mediashare_stream_leases_lost_total", Help: "Shard leases this instance found taken by another."},
			func(s events.FeedStats) int64 { return s.LeasesLost }),
	)
}

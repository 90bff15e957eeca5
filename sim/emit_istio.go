package sim

import "strings"

// istioBuckets are the request duration buckets in milliseconds. Istio's default
// list is longer; meshes commonly trim it (sidecar.istio.io/statsHistogramBuckets)
// to this range, which also keeps synthetic worlds a manageable size.
var istioBuckets = []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}

// istioEmitter emits Istio standard metrics at workload level, as after the
// federation Istio recommends for production (pod and instance aggregated away).
// The client proxy reports with reporter="source", the server proxy with
// reporter="destination"; a peer without an Istio proxy shows up as "unknown".
type istioEmitter struct {
	requests, duration *family
	series             map[istioKey]*istioSeries
	order              []istioKey
}

// istioKey identifies a series. Callers without an Istio proxy are all "unknown"
// to the server's proxy, so their traffic shares one series: client is nil then.
type istioKey struct {
	client, server         *service
	reporter               string
	srcVersion, dstVersion string
	failed                 bool
}

type istioSeries struct {
	counter, hist *metric // hist is nil where the histogram is not emitted
	requests      float64
	latency       *histState
}

func newIstioEmitter(w *World) *istioEmitter {
	return &istioEmitter{
		requests: w.reg.family("istio_requests", typeCounter, "Simulated: requests reported by the Istio proxy.", nil),
		duration: w.reg.family("istio_request_duration_milliseconds", typeHistogram,
			"Simulated: request duration reported by the Istio proxy, in ms.", istioBuckets),
		series: map[istioKey]*istioSeries{},
	}
}

// usesGRPC follows the real applications: Online Boutique talks gRPC inside, its
// front end speaks HTTP; the other topologies are HTTP.
func usesGRPC(w *World, e *edge) bool {
	return strings.HasPrefix(w.topo.Name, "online-boutique") && !e.client.root
}

func (ie *istioEmitter) emit(w *World, step int) {
	for _, e := range w.edges {
		if e.kind != KindService || e.requests == 0 {
			continue
		}
		if e.client.mesh == meshIstio {
			ie.count(w, e, "source", step)
		}
		if e.server.mesh == meshIstio {
			ie.count(w, e, "destination", step)
		}
	}

	// Envoy keeps a stat until the proxy goes away, so a series continues unchanged
	// through steps without requests and ends when its revision's pods are gone.
	keep := ie.order[:0]
	for _, key := range ie.order {
		if !revisionRunning(key.client, key.srcVersion) || !revisionRunning(key.server, key.dstVersion) {
			ser := ie.series[key]
			w.reg.end(ser.counter)
			if ser.hist != nil {
				w.reg.end(ser.hist)
			}
			delete(ie.series, key)
			continue
		}
		keep = append(keep, key)
		ser := ie.series[key]
		w.reg.point(ser.counter, ser.requests)
		if ser.hist != nil {
			w.reg.histPoint(ser.hist, ser.latency.cum, ser.latency.count, ser.latency.sum)
		}
	}
	clear(ie.order[len(keep):])
	ie.order = keep
}

func revisionRunning(s *service, version string) bool {
	if version == "" || s == nil || s.deploy == nil {
		return true
	}
	for _, p := range s.deploy.pods {
		if p.rs.version == version {
			return true
		}
	}
	return false
}

// count adds this step's requests of an edge, split by revision on both sides.
func (ie *istioEmitter) count(w *World, e *edge, reporter string, step int) {
	src := istioShares(e.client, step)
	dst := istioShares(e.server, step)
	weights := make([]float64, 0, len(src)*len(dst))
	for _, a := range src {
		for _, b := range dst {
			weights = append(weights, a.weight*b.weight)
		}
	}
	reqs := splitCount(e.requests, weights)
	errs := splitCount(e.errors, weights)
	i := 0
	for _, a := range src {
		for _, b := range dst {
			median := e.latency
			if b.rs != nil {
				median *= b.rs.latencyFactor / revisionFactor(e.server.deploy, step)
			}
			if reporter == "source" {
				median += 0.5 // the network hop only the client proxy measures
			}
			key := istioKey{server: e.server, reporter: reporter,
				srcVersion: versionOf(a), dstVersion: versionOf(b)}
			if e.client.mesh == meshIstio {
				key.client = e.client
			}
			ie.add(w, e, key, reqs[i]-errs[i], median, step)
			key.failed = true
			ie.add(w, e, key, errs[i], median, step)
			i++
		}
	}
}

func versionOf(v versionShare) string {
	if v.rs == nil {
		return ""
	}
	return v.rs.version
}

// istioShares splits by revision where an Istio proxy reports the version; other
// peers are one share without a revision.
func istioShares(s *service, step int) []versionShare {
	if s.deploy == nil || s.mesh != meshIstio {
		return []versionShare{{weight: 1}}
	}
	return versionShares(s.deploy, step)
}

func (ie *istioEmitter) add(w *World, e *edge, key istioKey, n, median float64, step int) {
	ser, ok := ie.series[key]
	if !ok {
		if n == 0 {
			return // a series appears with its first request
		}
		lbl := istioLabels(w, e, key)
		ser = &istioSeries{
			counter: ie.requests.newMetric(lbl...),
			latency: newHistState(len(istioBuckets)),
		}
		if key.reporter == "destination" || w.opts.IstioSourceHistograms {
			ser.hist = ie.duration.newMetric(lbl...)
		}
		if pre := preexisting(w.rUsage, step); pre > 0 && !key.failed {
			ser.requests = float64(int64(e.rps * pre))
			ser.latency.observe(istioBuckets, ser.requests, median)
		}
		ie.series[key] = ser
		ie.order = append(ie.order, key)
	}
	ser.requests += n
	ser.latency.observe(istioBuckets, n, median)
}

// istioLabels builds Istio's standard label set. Peer metadata is exchanged only
// between Istio proxies, so the side without one is "unknown" except for the
// destination service, which the client proxy knows from the request's host.
func istioLabels(w *World, e *edge, key istioKey) []string {
	c, s := e.client, e.server
	side := func(x *service, version string) (workload, ns, app, canon, rev, cl string) {
		if x.mesh != meshIstio || x.cluster == nil {
			return "unknown", "unknown", "unknown", "unknown", "unknown", "unknown"
		}
		app = "unknown"
		if x.appLabelKey == "app" {
			app = x.name
		}
		return x.name, x.namespace, app, x.name, version, x.cluster.name
	}
	sw, sns, sapp, scanon, srev, scl := side(c, key.srcVersion)
	dw, dns, dapp, dcanon, drev, dcl := side(s, key.dstVersion)
	svcNS := s.namespace
	if svcNS == "" {
		svcNS = "default"
	}

	protocol, code, grpc, flags := "http", "200", "", "-"
	if usesGRPC(w, e) {
		protocol, grpc = "grpc", "0"
		if key.failed {
			grpc = "14" // UNAVAILABLE travels in the trailer; HTTP status stays 200
		}
	} else if key.failed {
		code, flags = "503", "URX"
	}
	security := "unknown"
	if key.reporter == "destination" {
		security = "none"
		if c.mesh == meshIstio {
			security = "mutual_tls"
		}
	}
	return []string{
		"reporter", key.reporter,
		"source_workload", sw, "source_workload_namespace", sns,
		"source_app", sapp, "source_version", srev,
		"source_canonical_service", scanon, "source_canonical_revision", srev,
		"source_cluster", scl,
		"destination_workload", dw, "destination_workload_namespace", dns,
		"destination_app", dapp, "destination_version", drev,
		"destination_service", s.name + "." + svcNS + ".svc.cluster.local",
		"destination_service_name", s.name, "destination_service_namespace", svcNS,
		"destination_canonical_service", dcanon, "destination_canonical_revision", drev,
		"destination_cluster", dcl,
		"request_protocol", protocol, "response_code", code,
		"grpc_response_status", grpc, "response_flags", flags,
		"connection_security_policy", security,
	}
}

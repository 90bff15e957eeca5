package sim

// linkerdEmitter emits the Linkerd proxy's outbound request_total and
// response_total per client pod, labelled as Linkerd's Prometheus scrape config
// labels them. Linkerd sees only the edges whose client runs its proxy.
type linkerdEmitter struct {
	requests, responses *family
	series              map[linkerdKey]*linkerdSeries
	order               []linkerdKey
}

type linkerdKey struct {
	pod  *pod
	edge int
}

type linkerdSeries struct {
	requests, success, failure *metric
	nRequests, nOK, nFailed    float64
	labels                     []string
}

func newLinkerdEmitter(w *World) *linkerdEmitter {
	return &linkerdEmitter{
		requests:  w.reg.family("request", typeCounter, "Simulated: requests seen by the Linkerd proxy.", nil),
		responses: w.reg.family("response", typeCounter, "Simulated: responses seen by the Linkerd proxy.", nil),
		series:    map[linkerdKey]*linkerdSeries{},
	}
}

func (le *linkerdEmitter) emit(w *World, step int) {
	for _, e := range w.edges {
		if e.kind != KindService || e.client.mesh != meshLinkerd || e.requests == 0 {
			continue
		}
		var pods []*pod
		var weights []float64
		for _, p := range e.client.deploy.pods {
			if p.ready(step) {
				pods = append(pods, p)
				weights = append(weights, 1)
			}
		}
		reqs := splitCount(e.requests, weights)
		errs := splitCount(e.errors, weights)
		for i, p := range pods {
			if reqs[i] > 0 {
				le.add(w, e, p, reqs[i], errs[i])
			}
		}
	}

	// A proxy's counters end with its pod.
	r := w.reg
	keep := le.order[:0]
	for _, key := range le.order {
		if key.pod.gone {
			s := le.series[key]
			r.end(s.requests)
			r.end(s.success)
			if s.failure != nil {
				r.end(s.failure)
			}
			delete(le.series, key)
			continue
		}
		keep = append(keep, key)
		s := le.series[key]
		r.point(s.requests, s.nRequests)
		r.point(s.success, s.nOK)
		if s.failure != nil {
			r.point(s.failure, s.nFailed)
		}
	}
	clear(le.order[len(keep):])
	le.order = keep
}

func (le *linkerdEmitter) add(w *World, e *edge, p *pod, n, failed float64) {
	key := linkerdKey{pod: p, edge: e.index}
	s, ok := le.series[key]
	if !ok {
		c, srv := e.client, e.server
		tls := []string{"tls", "no_identity", "no_tls_reason", "not_provided_by_service_discovery"}
		if srv.mesh == meshLinkerd {
			tls = []string{"tls", "true", "server_id",
				srv.name + "." + srv.namespace + ".serviceaccount.identity.linkerd.cluster.local"}
		}
		s = &linkerdSeries{labels: kv([]string{
			"job", "linkerd-proxy", w.opts.ClusterLabel, c.cluster.name, "direction", "outbound",
			"namespace", c.namespace, "deployment", c.name, "pod", p.name,
			"pod_template_hash", p.rs.hash, "control_plane_ns", "linkerd",
			"authority", srv.name + "." + srv.namespace + ".svc.cluster.local:8080",
			"dst_namespace", srv.namespace, "dst_deployment", srv.name,
			"dst_service", srv.name,
		}, tls...)}
		s.requests = le.requests.newMetric(s.labels...)
		s.success = le.responses.newMetric(kv(s.labels,
			"status_code", "200", "classification", "success")...)
		le.series[key] = s
		le.order = append(le.order, key)
	}
	s.nRequests += n
	s.nOK += n - failed
	s.nFailed += failed
	if s.nFailed > 0 && s.failure == nil {
		s.failure = le.responses.newMetric(kv(s.labels,
			"status_code", "503", "classification", "failure")...)
	}
}

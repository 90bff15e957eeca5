package sim

import (
	"math"
	"time"
)

// Truth is the ground truth of a world over [Start, Start+Duration]; sim/README.md
// documents every field. Times are RFC 3339 UTC strings, durations are seconds.
type Truth struct {
	Scenario      string            `json:"scenario"`
	Seed          int64             `json:"seed"`
	Start         string            `json:"start"`
	End           string            `json:"end"`
	StepSeconds   float64           `json:"step_seconds"`
	Topology      string            `json:"topology"`
	Services      []TruthService    `json:"services"`
	Edges         []TruthEdge       `json:"edges"`
	Resources     []TruthResource   `json:"resources"`
	Pods          []TruthPod        `json:"pods"`
	ScalingEvents []ScalingEvent    `json:"scaling_events"`
	Deployments   []TruthDeployment `json:"deployments"`
	// SeriesCounts maps each sample name (as stored by Prometheus, e.g.
	// istio_requests_total, istio_request_duration_milliseconds_bucket) to the number
	// of distinct series the world emits within [Start, Start+Duration].
	SeriesCounts map[string]int `json:"series_counts"`
	// Billing is the truth of billing_focus.csv; only with Options.Billing, so that
	// worlds without it keep their bytes.
	Billing *TruthBilling `json:"billing,omitempty"`
	// Serverless are the world's serverless functions and tasks; only with
	// Options.Serverless, so that worlds without it keep their bytes.
	Serverless []TruthServerless `json:"serverless,omitempty"`
}

// TruthBilling is the truth of the world's FOCUS billing export. Money is in USD;
// every sum is over the export's BilledCost (or the named column) and equals what
// a reader summing the file gets.
type TruthBilling struct {
	File     string `json:"file"`
	Currency string `json:"currency"`
	// ChargePeriodStart and ChargePeriodEnd bound the hourly charge periods: the
	// whole UTC hours that overlap [Start, Start+Duration].
	ChargePeriodStart string `json:"charge_period_start"`
	ChargePeriodEnd   string `json:"charge_period_end"`
	Rows              int    `json:"rows"`
	// RowsByCategory counts rows per ChargeCategory.
	RowsByCategory map[string]int      `json:"rows_by_category"`
	Clouds         []TruthBillingCloud `json:"clouds"`
	TotalBilled    float64             `json:"total_billed"`
	// UnpricedResources are the billed resources whose type the embedded price
	// snapshot lacks, with the price they were billed at instead.
	UnpricedResources []TruthUnpricedResource `json:"unpriced_resources"`
	// ExcludedResources are the ids of resources no cloud bills (on-premises).
	ExcludedResources []string `json:"excluded_resources"`
}

// TruthBillingCloud sums one cloud's rows of the billing export.
type TruthBillingCloud struct {
	Cloud            string `json:"cloud"`
	ProviderName     string `json:"provider_name"`
	BillingAccountID string `json:"billing_account_id"`
	SubAccountID     string `json:"sub_account_id"`
	Rows             int    `json:"rows"`
	BilledResources  int    `json:"billed_resources"`
	// ListCost is the ListCost of the Usage rows, covered or not.
	ListCost float64 `json:"list_cost"`
	// DiscountRate is the negotiated discount off list price of usage not covered
	// by the commitment; NegotiatedDiscount is what it took off (ListCost minus
	// BilledCost of those rows).
	DiscountRate       float64 `json:"discount_rate"`
	NegotiatedDiscount float64 `json:"negotiated_discount"`
	// BilledUsage is the BilledCost of the Usage rows (covered usage bills 0).
	BilledUsage float64          `json:"billed_usage"`
	Commitment  *TruthCommitment `json:"commitment"`
	Credits     float64          `json:"credits"`
	TaxRate     float64          `json:"tax_rate"`
	Taxes       float64          `json:"taxes"`
	Adjustments float64          `json:"adjustments"`
	// TotalBilled is the BilledCost of every row of the cloud: BilledUsage plus
	// the commitment's purchases, credits, taxes and adjustments.
	TotalBilled float64 `json:"total_billed"`
	// EffectiveCost is the EffectiveCost of every row of the cloud.
	EffectiveCost float64 `json:"effective_cost"`
}

// TruthCommitment is a Savings Plan, committed use discount or reservation.
type TruthCommitment struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Category string `json:"category"`
	// DiscountRate is the commitment's rate off list price.
	DiscountRate     float64  `json:"discount_rate"`
	CoveredResources []string `json:"covered_resources"`
	// CoveredListCost and CoveredEffectiveCost sum the Usage rows it covers.
	CoveredListCost      float64 `json:"covered_list_cost"`
	CoveredEffectiveCost float64 `json:"covered_effective_cost"`
	// Purchases is the BilledCost of its Purchase rows.
	Purchases float64 `json:"purchases"`
}

// TruthUnpricedResource is a billed resource the embedded price snapshot has no
// price for.
type TruthUnpricedResource struct {
	ID     string `json:"id"`
	Cloud  string `json:"cloud"`
	Region string `json:"region"`
	Type   string `json:"type"`
	Kind   string `json:"kind"`
	// PriceSource is sim-fallback (a price the simulator assumes for the type) or
	// sim-default (a flat price for a type it does not know either).
	PriceSource   string  `json:"price_source"`
	ListUnitPrice float64 `json:"list_unit_price"`
}

// TruthService is one service of the world.
type TruthService struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Cluster   string `json:"cluster"`
	Cloud     string `json:"cloud"`
	Kind      string `json:"kind"`
	Team      string `json:"team"`
	Owner     string `json:"owner"`
	Mesh      string `json:"mesh"`
	Traced    bool   `json:"traced"`
	// AppLabelKey is the pod label that names the service ("app" or
	// "app.kubernetes.io/name"); empty for services without pods.
	AppLabelKey string `json:"app_label_key"`
	// AppearsAt is when the service started; empty when it existed before Start.
	AppearsAt string `json:"appears_at"`
	// MinReplicas, MaxReplicas and TargetCPUUtilization describe its HPA, 0 without.
	MinReplicas          int     `json:"min_replicas"`
	MaxReplicas          int     `json:"max_replicas"`
	TargetCPUUtilization float64 `json:"target_cpu_utilization"`
}

// TruthEdge is a caller to callee relation.
type TruthEdge struct {
	Client string `json:"client"`
	Server string `json:"server"`
	Kind   string `json:"kind"`
	// Sources lists the emitted telemetry whose series name both ends of the edge,
	// in the order istio, linkerd, servicegraph, spanmetrics, hubble. An edge
	// without requests in the world is in none.
	Sources []string `json:"sources"`
	// AnonymousSources lists emitted telemetry that sees the edge with the client
	// "unknown" (only istio: span metrics and Hubble never do).
	AnonymousSources  []string `json:"anonymous_sources"`
	Sparse            bool     `json:"sparse"`
	RequestsPerSecond float64  `json:"requests_per_second"`
	Requests          float64  `json:"requests"`
	FirstSeen         string   `json:"first_seen"`
}

// Resource tagging qualities.
const (
	taggingOK           = "ok"
	taggingMissing      = "missing"
	taggingInconsistent = "inconsistent"
	taggingShared       = "shared"
)

// TruthResource is a billable resource: a Kubernetes node, a VM or a managed store.
type TruthResource struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Cloud   string            `json:"cloud"`
	Region  string            `json:"region"`
	Type    string            `json:"type"`
	Kind    string            `json:"kind"`
	Cluster string            `json:"cluster,omitempty"`
	Tags    map[string]string `json:"tags"`
	// Service is what the canonical "service" tag says, "" when it is missing or
	// spelled differently, and for shared nodes.
	Service string `json:"service"`
	// TrueService is the service that really uses the resource, "" for shared nodes.
	TrueService string `json:"true_service"`
	// Tagging is ok, missing, inconsistent (another key such as Service or app) or
	// shared (a node whose cost is split by its pods).
	Tagging string `json:"tagging"`
}

// TruthPod is one pod's life.
type TruthPod struct {
	Name       string `json:"name"`
	Namespace  string `json:"namespace"`
	Service    string `json:"service"`
	Cluster    string `json:"cluster"`
	Node       string `json:"node"`
	ReplicaSet string `json:"replicaset"`
	// Created is when the pod was created; pods from before Start have Start.
	Created string `json:"created"`
	// Deleted is when it went away; empty when it outlived the world.
	Deleted string `json:"deleted"`
}

// ScalingEvent is a change of a deployment's desired replicas by its HPA.
type ScalingEvent struct {
	Service      string  `json:"service"`
	Namespace    string  `json:"namespace"`
	Cluster      string  `json:"cluster"`
	Time         string  `json:"time"`
	FromReplicas int     `json:"from_replicas"`
	ToReplicas   int     `json:"to_replicas"`
	Direction    string  `json:"direction"`
	Reason       string  `json:"reason"`
	Utilization  float64 `json:"cpu_utilization"`
}

// TruthDeployment is a rollout of a new revision.
type TruthDeployment struct {
	Service            string `json:"service"`
	Namespace          string `json:"namespace"`
	Cluster            string `json:"cluster"`
	Time               string `json:"time"`
	Version            string `json:"version"`
	Revision           string `json:"revision"`
	ReplicaSet         string `json:"replicaset"`
	PreviousVersion    string `json:"previous_version"`
	PreviousReplicaSet string `json:"previous_replicaset"`
	// Effects are the injected changes at equal load, e.g. latency_p95_ratio 1.3.
	Effects map[string]float64 `json:"effects"`
}

// truthLog records what happens while the world runs within its Duration.
type truthLog struct {
	pods        []TruthPod
	scaling     []ScalingEvent
	deployments []TruthDeployment
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (l *truthLog) podCreated(w *World, p *pod, step int) {
	p.truthIndex = -1
	if step > w.endStep {
		return
	}
	s := p.dep.svc
	p.truthIndex = len(l.pods)
	l.pods = append(l.pods, TruthPod{
		Name: p.name, Namespace: s.namespace, Service: s.name, Cluster: s.cluster.name,
		Node: p.node.name, ReplicaSet: p.rs.name, Created: rfc3339(w.timeOf(max(step, 0))),
	})
}

func (l *truthLog) podDeleted(p *pod, at time.Time) {
	if p.truthIndex >= 0 && p.truthIndex < len(l.pods) {
		l.pods[p.truthIndex].Deleted = rfc3339(at)
	}
}

func (l *truthLog) scaled(w *World, s *service, step, from, to int, reason string, util float64) {
	if step > w.endStep {
		return
	}
	dir := "up"
	if to < from {
		dir = "down"
	}
	l.scaling = append(l.scaling, ScalingEvent{
		Service: s.name, Namespace: s.namespace, Cluster: s.cluster.name,
		Time: rfc3339(w.timeOf(step)), FromReplicas: from, ToReplicas: to,
		Direction: dir, Reason: reason, Utilization: math.Round(util*10) / 1000,
	})
}

func (l *truthLog) deployed(w *World, s *service, step int, prev, cur *replicaSet) {
	if step > w.endStep {
		return
	}
	l.deployments = append(l.deployments, TruthDeployment{
		Service: s.name, Namespace: s.namespace, Cluster: s.cluster.name,
		Time: rfc3339(w.timeOf(step)), Version: cur.version, Revision: cur.hash,
		ReplicaSet: cur.name, PreviousVersion: prev.version, PreviousReplicaSet: prev.name,
		Effects: map[string]float64{"latency_p95_ratio": cur.latencyFactor},
	})
}

func (l *truthLog) serviceAppeared(*service, int) {}

// observeStep accumulates per-edge traffic for the truth.
func (l *truthLog) observeStep(w *World, step int) {
	for _, e := range w.edges {
		if e.client.active && e.server.active {
			e.activeSteps++
		}
		if e.requests > 0 && e.firstSeenStep < 0 {
			e.firstSeenStep = step
		}
		e.totalRequests += e.requests
	}
}

// Truth returns the ground truth of the whole world. It simulates a fresh copy, so
// it does not disturb Advance and can be called at any time.
func (w *World) Truth() Truth {
	fresh, err := newWorld(w.opts, nullSink{})
	if err != nil {
		// The options were validated when w was built.
		panic(err)
	}
	_ = fresh.advanceTo(fresh.endMs())
	return fresh.truth()
}

func (w *World) endMs() int64 { return w.startMs + int64(w.endStep)*w.stepMs }

// truth assembles the truth of a world that ran through its last step.
func (w *World) truth() Truth {
	t := Truth{
		Scenario:      w.opts.Scenario,
		Seed:          w.opts.Seed,
		Start:         rfc3339(w.opts.Start),
		End:           rfc3339(w.opts.Start.Add(w.opts.Duration)),
		StepSeconds:   w.stepSeconds,
		Topology:      w.topo.Name,
		Resources:     w.resources,
		Pods:          w.log.pods,
		ScalingEvents: w.log.scaling,
		Deployments:   w.log.deployments,
		SeriesCounts:  map[string]int{},
	}
	for _, s := range w.services {
		t.Services = append(t.Services, w.truthService(s))
	}
	for _, e := range w.edges {
		t.Edges = append(t.Edges, w.truthEdge(e))
	}
	for _, f := range w.reg.families {
		for _, m := range f.metrics {
			for _, c := range m.comps {
				t.SeriesCounts[c.Get("__name__")]++
			}
		}
	}
	// Empty lists serialise as [] rather than null, which is kinder to consumers.
	if t.ScalingEvents == nil {
		t.ScalingEvents = []ScalingEvent{}
	}
	if t.Deployments == nil {
		t.Deployments = []TruthDeployment{}
	}
	t.Serverless = w.serverlessTruth()
	if w.opts.Billing {
		b, err := w.billingExport()
		if err != nil {
			// newWorld read the price snapshot already.
			panic(err)
		}
		t.Billing = &b.truth
	}
	return t
}

func (w *World) truthService(s *service) TruthService {
	ts := TruthService{
		Name: s.name, Namespace: s.namespace, Cloud: s.cloud, Kind: s.kind,
		Team: s.team, Owner: s.owner, Mesh: s.mesh, Traced: s.traced,
	}
	if s.cluster != nil {
		ts.Cluster = s.cluster.name
		ts.AppLabelKey = s.appLabelKey
	}
	if s.kind != serviceWorkload {
		ts.Mesh = ""
	}
	if s.appearsStep > 0 {
		ts.AppearsAt = rfc3339(w.timeOf(s.appearsStep))
	}
	if s.deploy != nil && s.deploy.hpa != nil {
		h := s.deploy.hpa
		ts.MinReplicas, ts.MaxReplicas, ts.TargetCPUUtilization = h.min, h.max, h.targetPercent/100
	}
	return ts
}

func (w *World) truthEdge(e *edge) TruthEdge {
	te := TruthEdge{
		Client: e.client.name, Server: e.server.name, Kind: string(e.kind),
		Sources: []string{}, AnonymousSources: []string{},
		Sparse: e.sparse, Requests: e.totalRequests,
	}
	if e.activeSteps > 0 {
		te.RequestsPerSecond = e.totalRequests / (float64(e.activeSteps) * w.stepSeconds)
	}
	if e.firstSeenStep < 0 {
		return te
	}
	te.FirstSeen = rfc3339(w.timeOf(e.firstSeenStep))
	if e.kind == KindService && w.emits(SourceIstio) {
		switch {
		case e.client.mesh == meshIstio:
			te.Sources = append(te.Sources, SourceIstio)
		case e.server.mesh == meshIstio:
			te.AnonymousSources = append(te.AnonymousSources, SourceIstio)
		}
	}
	if e.kind == KindService && e.client.mesh == meshLinkerd && w.emits(SourceLinkerd) {
		te.Sources = append(te.Sources, SourceLinkerd)
	}
	if tracedBy(e) && w.emits(SourceServiceGraph) {
		te.Sources = append(te.Sources, SourceServiceGraph)
	}
	// A client span names its callee whether the callee is traced or not; server
	// spans name no caller, so span metrics never show an anonymous edge.
	if e.client.traced && w.emits(SourceSpanMetrics) {
		te.Sources = append(te.Sources, SourceSpanMetrics)
	}
	// Every caller is a pod Hubble knows; managed stores are the world to it.
	if hubbleNames(e) && w.emits(SourceHubble) {
		te.Sources = append(te.Sources, SourceHubble)
	}
	return te
}

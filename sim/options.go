package sim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Options describes a world. The zero value of every field except Scenario and Start
// selects the scenario default.
type Options struct {
	// Scenario is "startup" (spike, deployments, a new service) or "steady" (the same
	// world with no events).
	Scenario string
	// Seed selects the world; the same Options always give the same output.
	Seed int64
	// Start anchors the world in time. The live demo anchors it to the past hours.
	Start time.Time
	// Duration is the length of the world; 0 means the scenario default (6h).
	Duration time.Duration
	// Step is the sample interval; 0 means 15s.
	Step time.Duration
	// Resources scales the world to about this many nodes, VMs, databases and pods;
	// 0 means the scenario default (40).
	Resources int
	// UntaggedShare is the share of VMs, databases and deployments whose service tag
	// or label is missing or uses another key; 0 means 0.1, negative means none.
	UntaggedShare float64
	// Topology is the service graph; nil means online-boutique.
	Topology *Topology

	// KSMLabelsAllowlist makes kube_pod_labels and kube_deployment_labels carry
	// label_* labels, as kube-state-metrics does only when started with
	// --metric-labels-allowlist=pods=[app,version,...],deployments=[app,...].
	KSMLabelsAllowlist bool
	// LinkerdShare is the share of workload services meshed by Linkerd instead of
	// Istio; 0 means 0.25, negative means none.
	LinkerdShare float64
	// UnmeshedShare is the share of workload services with no mesh proxy at all;
	// 0 means 0.1, negative means none.
	UnmeshedShare float64
	// TracedShare is the share of workload services instrumented with OpenTelemetry
	// tracing, which the service graph connector turns into edges; 0 means 0.8,
	// negative means none.
	TracedShare float64
	// IstioSourceHistograms adds istio_request_duration_milliseconds for
	// reporter="source" too. Off by default: the client-side histogram doubles the
	// largest family, and many meshes drop it for the same reason.
	IstioSourceHistograms bool
	// NoiseLevel is the standard deviation of the log-load noise; 0 means 0.12,
	// negative means no noise.
	NoiseLevel float64
	// Autocorrelation is the AR(1) coefficient of the load noise per step; 0 means
	// 0.9, negative means independent noise.
	Autocorrelation float64
	// SparseShare is the share of service edges away from the entry points that
	// carry about one call every ten minutes, the hard case for discovery windows;
	// 0 means 0.125, negative means none.
	SparseShare float64

	// Telemetry selects the mesh and tracing sources to emit, by the names
	// TelemetrySources lists; kube-state-metrics and cAdvisor are always emitted.
	// nil means istio, linkerd and servicegraph; an empty list means none of them.
	Telemetry []string
	// ClusterLabel is the name of the label a multi-cluster scrape adds to the
	// Kubernetes, Linkerd, span metrics and Hubble families; "" means "cluster".
	ClusterLabel string

	// Billing adds the world's FOCUS 1.0 billing export: WriteDir writes
	// billing_focus.csv and the truth gains its billing figures. Off by default,
	// so that worlds made before it keep their bytes.
	Billing bool

	// Serverless adds a few Lambda functions, ECS services on Fargate and Cloud
	// Run services to the world's services: yace-shaped AWS/Lambda and
	// ECS/ContainerInsights series, stackdriver_exporter-shaped Cloud Run
	// counters, and Truth.Serverless. Off by default, so that worlds made
	// before it keep their bytes.
	Serverless bool
}

// Telemetry source names of Options.Telemetry and of TruthEdge.Sources.
const (
	SourceIstio        = "istio"
	SourceLinkerd      = "linkerd"
	SourceServiceGraph = "servicegraph"
	SourceSpanMetrics  = "spanmetrics"
	SourceHubble       = "hubble"
)

// telemetrySources is every selectable source in the order its families are
// written, whatever the order of Options.Telemetry.
var telemetrySources = []string{
	SourceIstio, SourceServiceGraph, SourceLinkerd, SourceSpanMetrics, SourceHubble,
}

// defaultTelemetry is what a nil Options.Telemetry selects: the sources the world
// emitted before the selection existed, so that their bytes stay the same.
var defaultTelemetry = []string{SourceIstio, SourceLinkerd, SourceServiceGraph}

// TelemetrySources lists the valid Options.Telemetry names.
func TelemetrySources() []string {
	out := slices.Clone(telemetrySources)
	slices.Sort(out)
	return out
}

// DefaultDuration is the length of every scenario's world unless
// Options.Duration says otherwise.
const DefaultDuration = 6 * time.Hour

type scenario struct {
	name      string
	duration  time.Duration
	resources int
	events    bool
}

var scenarios = []scenario{
	{name: "startup", duration: DefaultDuration, resources: 40, events: true},
	{name: "steady", duration: DefaultDuration, resources: 40, events: false},
}

// Scenarios lists the valid Options.Scenario values.
func Scenarios() []string {
	out := make([]string, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.name
	}
	return out
}

// withDefaults validates opts and fills in defaults.
func (o Options) withDefaults() (Options, scenario, error) {
	var sc scenario
	found := false
	for _, s := range scenarios {
		if s.name == o.Scenario {
			sc, found = s, true
		}
	}
	if !found {
		return o, sc, fmt.Errorf("unknown scenario %q (valid: %s)",
			o.Scenario, strings.Join(Scenarios(), ", "))
	}
	if o.Start.IsZero() {
		return o, sc, fmt.Errorf("scenario %s: Start must be set", o.Scenario)
	}
	if o.Start.UnixMilli() < 0 {
		return o, sc, fmt.Errorf("scenario %s: Start %s is before 1970", o.Scenario, o.Start)
	}
	o.Start = o.Start.UTC()
	if o.Duration == 0 {
		o.Duration = sc.duration
	}
	if o.Step == 0 {
		o.Step = 15 * time.Second
	}
	if o.Step < time.Millisecond || o.Duration < 0 {
		return o, sc, fmt.Errorf("scenario %s: Step %s and Duration %s must be positive",
			o.Scenario, o.Step, o.Duration)
	}
	if o.Duration < o.Step {
		return o, sc, fmt.Errorf("scenario %s: Duration %s is shorter than Step %s",
			o.Scenario, o.Duration, o.Step)
	}
	if o.Resources < 0 {
		return o, sc, fmt.Errorf("scenario %s: Resources %d is negative", o.Scenario, o.Resources)
	}
	if o.Resources == 0 {
		o.Resources = sc.resources
	}
	o.UntaggedShare = shareDefault(o.UntaggedShare, 0.1)
	o.LinkerdShare = shareDefault(o.LinkerdShare, 0.25)
	o.UnmeshedShare = shareDefault(o.UnmeshedShare, 0.1)
	o.TracedShare = shareDefault(o.TracedShare, 0.8)
	o.NoiseLevel = shareDefault(o.NoiseLevel, 0.12)
	o.Autocorrelation = shareDefault(o.Autocorrelation, 0.9)
	if o.Autocorrelation >= 1 {
		return o, sc, fmt.Errorf("scenario %s: Autocorrelation %g must be below 1",
			o.Scenario, o.Autocorrelation)
	}
	o.SparseShare = shareDefault(o.SparseShare, 0.125)
	if o.SparseShare > 1 {
		return o, sc, fmt.Errorf("scenario %s: SparseShare %g must be at most 1",
			o.Scenario, o.SparseShare)
	}
	tel, err := validTelemetry(o.Telemetry)
	if err != nil {
		return o, sc, fmt.Errorf("scenario %s: %w", o.Scenario, err)
	}
	o.Telemetry = tel
	if o.ClusterLabel == "" {
		o.ClusterLabel = "cluster"
	}
	if err := validClusterLabel(o.ClusterLabel); err != nil {
		return o, sc, fmt.Errorf("scenario %s: %w", o.Scenario, err)
	}
	return o, sc, nil
}

// validTelemetry checks the selected sources and returns a copy, so that the
// caller's slice can change without changing the world.
func validTelemetry(names []string) ([]string, error) {
	if names == nil {
		return slices.Clone(defaultTelemetry), nil
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !slices.Contains(telemetrySources, n) {
			return nil, fmt.Errorf("unknown telemetry source %q (valid: %s)",
				n, strings.Join(TelemetrySources(), ", "))
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("telemetry source %q listed twice", n)
		}
		out = append(out, n)
	}
	return out, nil
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// validClusterLabel rejects names Prometheus would refuse and names another label
// of the same series already uses, which would make a series with two values for
// one label.
func validClusterLabel(name string) error {
	switch {
	case !labelNameRE.MatchString(name) || strings.HasPrefix(name, "__"):
		return fmt.Errorf("ClusterLabel %q is not a valid label name", name)
	case strings.HasPrefix(name, "label_") || slices.Contains(clusterPeerLabels, name):
		return fmt.Errorf("ClusterLabel %q clashes with a label of the families that carry it",
			name)
	}
	return nil
}

// shareDefault maps 0 to the default and negative values to 0, so that the zero
// Options mean "defaults" while every value stays expressible.
func shareDefault(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// clusterPeerLabels are the label names the families carrying the cluster label
// use besides it (label_* aside); TestClusterLabel keeps the list complete.
var clusterPeerLabels = []string{
	"authority", "classification", "container", "container_runtime_version",
	"control_plane_ns", "created_by_kind", "created_by_name", "db_system", "deployment",
	"destination_namespace", "destination_workload", "direction", "dst_deployment",
	"dst_namespace", "dst_service", "horizontalpodautoscaler", "host_ip", "host_network",
	"id", "image", "instance", "internal_ip", "job", "kernel_version", "kubelet_version",
	"kubeproxy_version", "le", "messaging_system", "method", "metric_name",
	"metric_target_type", "metrics_path", "namespace", "no_tls_reason", "node", "os_image",
	"owner_is_controller", "owner_kind", "owner_name", "peer_service", "phase", "pod",
	"pod_ip", "pod_template_hash", "priority_class", "protocol", "provider_id",
	"replicaset", "reporter", "resource", "scaletargetref_api_version",
	"scaletargetref_kind", "scaletargetref_name", "server_address", "server_id",
	"service_name", "source_namespace", "source_workload", "span_kind", "span_name",
	"status", "status_code", "subtype", "system_uuid", "tls", "type", "uid", "unit",
	"verdict",
}

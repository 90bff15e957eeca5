package sim

import (
	"fmt"
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
	return o, sc, nil
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

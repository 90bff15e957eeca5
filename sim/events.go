package sim

import (
	"math"
	"slices"
)

// Event placement as fractions of Duration. A world anchored three hours in the past
// with a four-hour Duration has the neutral deployment still ahead, so the live demo
// changes while one watches.
const (
	spikeStartFrac      = 0.20
	spikeEndFrac        = 0.27
	regressionFrac      = 0.45
	newServiceFrac      = 0.55
	neutralDeployFrac   = 0.85
	spikeMultiplier     = 3.0
	spikeRampSeconds    = 300
	regressionP95Ratio  = 1.3
	newServiceName      = "fraud-detection"
	newServiceRPSFactor = 0.8
)

type eventKind int

const (
	eventDeploy eventKind = iota
	eventNewService
)

// event is a change to the world at a step.
type event struct {
	step    int
	kind    eventKind
	svc     *service
	version string
	factor  float64
}

// spike multiplies the entry load between two steps, with linear ramps.
type spike struct {
	start, end int
}

func (w *World) fracStep(f float64) int {
	return int(math.Round(f * float64(w.endStep)))
}

// planEvents places the startup scenario's events on the first copy of the topology.
func (w *World) planEvents() {
	w.spikes = append(w.spikes, spike{start: w.fracStep(spikeStartFrac), end: w.fracStep(spikeEndFrac)})

	if s := w.pickService([]string{"productcatalogservice", "reviews", "catalogue"}, false); s != nil {
		// The regression must be measurable: Istio gives its server-side latency.
		s.mesh = meshIstio
		w.events = append(w.events, event{step: w.fracStep(regressionFrac), kind: eventDeploy,
			svc: s, version: "v1.5.0", factor: regressionP95Ratio})
	}
	if caller := w.pickService([]string{"checkoutservice", "orders", "reviews"}, true); caller != nil {
		s := &service{name: newServiceName, namespace: caller.namespace, kind: serviceWorkload,
			appearsStep: w.fracStep(newServiceFrac)}
		w.assignService(s)
		// It lands next to its caller, meshed and traced, so every source sees it.
		s.cluster, s.cloud, s.mesh, s.traced = caller.cluster, caller.cloud, meshIstio, true
		w.services = append(w.services, s)
		e := w.addEdge(caller, s, KindService)
		e.mult = newServiceRPSFactor
		s.noise = newNoiseProcess(w.rLoad, w.opts.Autocorrelation, w.opts.NoiseLevel)
		s.ownLatency, s.errorRate = 12, 0.002
		s.meanRPS = caller.meanRPS * e.mult
		w.computeTopoOrder()
		w.events = append(w.events, event{step: s.appearsStep, kind: eventNewService, svc: s})
	}
	if s := w.pickService([]string{"frontend", "productpage", "front-end"}, false); s != nil {
		w.events = append(w.events, event{step: w.fracStep(neutralDeployFrac), kind: eventDeploy,
			svc: s, version: "v1.5.1", factor: 1.0})
	}
	slices.SortStableFunc(w.events, func(a, b event) int { return a.step - b.step })
}

// pickService returns the first preferred service of copy 0, else a fallback: the
// non-root workload with most callees (for callers) or with callers.
func (w *World) pickService(preferred []string, caller bool) *service {
	for _, name := range preferred {
		for _, s := range w.services {
			if s.name == name && s.kind == serviceWorkload && s.copyIndex == 0 {
				return s
			}
		}
	}
	var best *service
	for _, s := range w.services {
		if s.kind != serviceWorkload || s.root || s.copyIndex != 0 {
			continue
		}
		if caller && (best == nil || len(s.out) > len(best.out)) {
			best = s
		}
		if !caller && best == nil && len(s.in) > 0 {
			best = s
		}
	}
	return best
}

func (w *World) spikeFactor(step int) float64 {
	f := 1.0
	ramp := spikeRampSeconds / w.stepSeconds
	for _, s := range w.spikes {
		if step <= s.start || step >= s.end {
			continue
		}
		up := math.Min(1, float64(step-s.start)/ramp)
		down := math.Min(1, float64(s.end-step)/ramp)
		f *= 1 + (spikeMultiplier-1)*math.Min(up, down)
	}
	return f
}

// applyEvents runs the events due at step.
func (w *World) applyEvents(step int) {
	for _, ev := range w.events {
		if ev.step != step {
			continue
		}
		switch ev.kind {
		case eventNewService:
			ev.svc.active = true
			w.createDeployment(ev.svc, step)
			w.log.serviceAppeared(ev.svc, step)
		case eventDeploy:
			d := ev.svc.deploy
			prev := d.current
			d.current = w.newReplicaSet(d, ev.version, ev.factor)
			w.log.deployed(w, ev.svc, step, prev, d.current)
		}
	}
}

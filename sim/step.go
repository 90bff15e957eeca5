package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Advance simulates and emits every sample with a timestamp after the last emitted
// step and not after until. Repeated calls continue exactly where the previous one
// stopped, so a backfill followed by live calls emits the same samples as one long
// call. The world keeps running past Start+Duration in steady state.
//
// Like a Prometheus scrape, Advance emits a staleness marker (the NaN with the bits
// of value.StaleNaN from github.com/prometheus/prometheus/model/value) for every
// sample of a series at the first step after the series ended, such as a deleted
// pod's, and then forgets the series, so that a world advanced for days holds only
// its live series.
func (w *World) Advance(
	until time.Time,
	emit func(lset labels.Labels, tMillis int64, v float64) error,
) error {
	prev := w.reg.sink
	w.reg.sink = funcSink{emit: emit}
	defer func() { w.reg.sink = prev }()
	return w.advanceTo(until.UnixMilli())
}

func (w *World) advanceTo(untilMs int64) error {
	for w.startMs+int64(w.next)*w.stepMs <= untilMs {
		w.simulateStep(w.next)
		w.next++
		if err := w.reg.err; err != nil {
			return fmt.Errorf("emit at %s: %w", w.timeOf(w.next-1).Format(time.RFC3339), err)
		}
	}
	return nil
}

// simulateStep moves the world to step and emits its samples.
func (w *World) simulateStep(step int) {
	clear(w.removed)
	w.removed = w.removed[:0]
	w.applyEvents(step)
	w.computeLoad(step)
	for _, s := range w.services {
		if s.deploy != nil && s.active {
			w.controlDeployment(s.deploy, step)
		}
	}
	w.computeUsage(step)
	w.computeLatency(step)
	w.computeTraffic(step)

	w.reg.step, w.reg.ts = step, w.startMs+int64(step)*w.stepMs
	for _, em := range w.emitters {
		em.emit(w, step)
	}
	if step <= w.endStep {
		w.log.observeStep(w, step)
	}
}

// computeLoad sets every service's and edge's request rate for the step.
func (w *World) computeLoad(step int) {
	base := diurnal(w.timeOf(step)) * w.spikeFactor(step)
	for _, s := range w.topoOrder {
		noise := s.noise.next()
		s.rps = 0
		if !s.active {
			continue
		}
		if s.root {
			s.rps = s.rootBase * base * noise
		}
		for _, e := range s.in {
			if !e.back {
				s.rps += e.rps
			}
		}
		if !s.root {
			// Downstream traffic varies a little on its own: cache hits, retries.
			s.rps *= math.Pow(noise, 0.3)
		}
		for _, e := range s.out {
			e.rps = 0
			if e.server.active {
				e.rps = s.rps * e.mult
			}
		}
	}
}

// computeUsage sets pod CPU and memory from the load they serve.
func (w *World) computeUsage(step int) {
	r := w.rUsage
	for _, s := range w.services {
		d := s.deploy
		if d == nil || !s.active {
			continue
		}
		ready := 0
		for _, p := range d.pods {
			if p.ready(step) {
				ready++
			}
		}
		for _, p := range d.pods {
			jitter := 1 + 0.05*r.NormFloat64()
			share := 0.0
			if p.ready(step) {
				share = s.rps / float64(ready)
			}
			p.cpuCores = math.Max(0.001, (s.cpuBase+share*s.cpuPerRequest)*jitter)
			p.cpuSeconds += p.cpuCores * w.stepSeconds
			// Working set follows load slowly, like caches filling and draining.
			target := s.memBase + share*s.memPerRequest
			p.memBytes += 0.1*(target-p.memBytes) + 0.002*s.memRequest*r.NormFloat64()
			p.memBytes = math.Max(s.memBase*0.5, p.memBytes)
		}
	}
}

// computeLatency sets the median latency callers see, callees first: own work,
// slowed by CPU saturation and by the running revisions, plus the calls it makes.
// Each callee adds its latency weighted by the share of requests that call it. A
// wide client calls a few of its callees per request, in parallel, so it adds only
// the largest of those weighted latencies: summing them would compound over the
// layers of a wide graph into hours.
func (w *World) computeLatency(step int) {
	for i := len(w.topoOrder) - 1; i >= 0; i-- {
		s := w.topoOrder[i]
		lat := s.ownLatency
		if d := s.deploy; d != nil {
			lat *= saturation(d, step) * revisionFactor(d, step)
		}
		if s.wide() {
			s.latency = lat + slowestCallee(s)
			continue
		}
		for _, e := range s.out {
			if e.back || !e.server.active {
				continue
			}
			lat += math.Min(1, e.mult) * e.server.latency
		}
		s.latency = lat
	}
}

// slowestCallee returns the largest latency a wide client waits for in a call,
// weighted like computeLatency's sum.
func slowestCallee(s *service) float64 {
	slowest := 0.0
	for _, e := range s.out {
		if !e.back && e.server.active {
			slowest = math.Max(slowest, math.Min(1, e.mult)*e.server.latency)
		}
	}
	return slowest
}

// readyUsage returns the CPU cores the deployment's ready pods use at step
// and how many pods are ready.
func readyUsage(d *deployment, step int) (cores float64, ready int) {
	for _, p := range d.pods {
		if p.ready(step) {
			cores += p.cpuCores
			ready++
		}
	}
	return cores, ready
}

func saturation(d *deployment, step int) float64 {
	cores, ready := readyUsage(d, step)
	if ready == 0 {
		return 3
	}
	util := cores / (float64(ready) * d.svc.cpuRequest)
	return 1 + 4*math.Pow(math.Max(0, util-0.75), 2)
}

// revisionFactor weights each revision's latency effect by its share of ready pods,
// so a regression grows as the rollout proceeds.
func revisionFactor(d *deployment, step int) float64 {
	sum, n := 0.0, 0
	for _, p := range d.pods {
		if p.ready(step) {
			sum += p.rs.latencyFactor
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

// computeTraffic draws this step's request and error counts per edge.
func (w *World) computeTraffic(step int) {
	r := w.rTraffic
	for _, e := range w.edges {
		e.requests = poisson(r, e.rps*w.stepSeconds)
		e.errors = 0
		if e.requests > 0 {
			e.errors = math.Min(e.requests, poisson(r, e.requests*e.server.errorRate))
		}
		e.latency = e.server.latency
	}
}

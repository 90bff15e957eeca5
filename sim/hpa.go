package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// deployment is a Kubernetes Deployment with its ReplicaSets, pods and HPA.
type deployment struct {
	svc          *service
	replicaSets  []*replicaSet
	current      *replicaSet
	specReplicas int
	pods         []*pod // live pods in creation order
	hpa          *hpa
}

// replicaSet is one revision of a deployment.
type replicaSet struct {
	name, hash, version string
	revision            int
	latencyFactor       float64
}

// pod is one running or starting replica.
type pod struct {
	name, uid, ip string
	node          *node
	rs            *replicaSet
	dep           *deployment
	createdStep   int
	readyStep     int
	cpuSeconds    float64
	cpuCores      float64
	memBytes      float64
	truthIndex    int
	gone          bool
}

func (p *pod) ready(step int) bool { return step >= p.readyStep }

// hpa mirrors the autoscaling/v2 controller for a CPU utilization target: scale up at
// once (at most doubling, or four pods, per sync), scale down to the highest
// recommendation of the stabilization window, ignore changes within the tolerance.
type hpa struct {
	min, max      int
	targetPercent float64
	desired       int
	recs          []hpaRec
	// utilization is smoothed over about a minute, like the metrics-server window
	// the real controller reads, so single noisy samples do not move it.
	utilization float64
}

type hpaRec struct {
	step     int
	replicas int
}

const (
	hpaTolerance       = 0.1
	hpaDownWindowSecs  = 300
	podStartupSeconds  = 20
	rolloutStepSeconds = 30
)

func randomSuffix(r *rand.Rand, n int) string {
	// The alphabet Kubernetes uses for generated names: no vowels, no look-alikes.
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func uuidFrom(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x",
		a>>32, (a>>16)&0xffff, a&0xfff, (b>>48)&0x3fff|0x8000, b&0xffffffffffff)
}

// startWorkloads creates a Deployment, HPA and pods for every active workload service.
func (w *World) startWorkloads() {
	for _, s := range w.services {
		if s.kind == serviceWorkload && s.active {
			w.createDeployment(s, -1)
		}
	}
}

// createDeployment starts a service's deployment. step -1 means it existed before the
// world started: its pods are already running.
func (w *World) createDeployment(s *service, step int) {
	d := &deployment{svc: s}
	s.deploy = d
	d.current = w.newReplicaSet(d, "v1.4."+fmt.Sprint(w.rNames.IntN(9)), 1.0)
	replicas := s.baseReplicas
	if !s.root {
		d.hpa = &hpa{
			min:           max(1, int(math.Ceil(float64(s.baseReplicas)/3))),
			max:           max(3, 4*s.baseReplicas),
			targetPercent: s.hpaTarget,
		}
		if step < 0 {
			// Start at what the controller would have settled on for the first step.
			util := w.expectedUtilization(s, 0, replicas)
			replicas = clampInt(int(math.Ceil(float64(replicas)*util*100/d.hpa.targetPercent)),
				d.hpa.min, d.hpa.max)
		} else {
			replicas = d.hpa.min
		}
		d.hpa.desired = replicas
		// Before the world started the controller had been stable at this size.
		window := int(hpaDownWindowSecs / w.stepSeconds)
		for i := -window + 1; i <= 0 && step < 0; i++ {
			d.hpa.recs = append(d.hpa.recs, hpaRec{step: i, replicas: replicas})
		}
	}
	d.specReplicas = replicas
	for range replicas {
		w.addPod(d, step)
	}
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

// expectedUtilization is CPU utilization without noise, to seed initial replicas.
func (w *World) expectedUtilization(s *service, step, replicas int) float64 {
	rps := s.meanRPS * diurnal(w.timeOf(step))
	return (s.cpuBase*float64(replicas) + rps*s.cpuPerRequest) / (float64(replicas) * s.cpuRequest)
}

func (w *World) newReplicaSet(d *deployment, version string, latencyFactor float64) *replicaSet {
	hash := randomSuffix(w.rNames, 10)
	rs := &replicaSet{
		name:          d.svc.name + "-" + hash,
		hash:          hash,
		version:       version,
		revision:      len(d.replicaSets) + 1,
		latencyFactor: latencyFactor,
	}
	d.replicaSets = append(d.replicaSets, rs)
	return rs
}

func (w *World) addPod(d *deployment, step int) {
	c := d.svc.cluster
	best := c.nodes[0]
	for _, n := range c.nodes[1:] {
		if n.requestedCPU/n.cpu < best.requestedCPU/best.cpu {
			best = n
		}
	}
	best.requestedCPU += d.svc.cpuRequest
	p := &pod{
		name:        d.current.name + "-" + randomSuffix(w.rNames, 5),
		uid:         uuidFrom(w.rNames),
		ip:          c.nextPodIP(),
		node:        best,
		rs:          d.current,
		dep:         d,
		createdStep: step,
		readyStep:   step + int(math.Ceil(podStartupSeconds/w.stepSeconds)),
		memBytes:    d.svc.memBase,
	}
	if step < 0 {
		// Pods from before the world started have been running for hours to days.
		p.readyStep = step
		p.cpuSeconds = d.svc.cpuRequest * 0.5 * 3600 * (1 + 47*w.rNames.Float64())
	}
	d.pods = append(d.pods, p)
	w.log.podCreated(w, p, step)
}

func (w *World) removePod(d *deployment, i int, step int) {
	p := d.pods[i]
	p.gone = true
	p.node.requestedCPU -= d.svc.cpuRequest
	d.pods = append(d.pods[:i], d.pods[i+1:]...)
	w.removed = append(w.removed, p)
	w.log.podDeleted(p, w.timeOf(step))
}

// controlDeployment runs one sync of the HPA and the rollout of a deployment.
func (w *World) controlDeployment(d *deployment, step int) {
	// The controller acts on usage measured in earlier steps; there is none at step 0.
	if d.hpa != nil && step > 0 {
		w.syncHPA(d, step)
	}
	surge := 0
	for _, p := range d.pods {
		if p.rs != d.current {
			surge = 1 // maxSurge during a rollout
		}
	}
	for len(d.pods) < d.specReplicas {
		w.addPod(d, step)
	}
	w.rollOut(d, step)
	for len(d.pods) > d.specReplicas+surge {
		// Kubernetes removes pods of old revisions and unready pods first, then the
		// newest.
		w.removePod(d, d.victim(step), step)
	}
}

func (d *deployment) victim(step int) int {
	for i, p := range d.pods {
		if p.rs != d.current {
			return i
		}
	}
	for i := len(d.pods) - 1; i >= 0; i-- {
		if !d.pods[i].ready(step) {
			return i
		}
	}
	return len(d.pods) - 1
}

func (w *World) syncHPA(d *deployment, step int) {
	h := d.hpa
	cores, ready := readyUsage(d, step)
	if ready == 0 {
		return
	}
	alpha := math.Min(1, w.stepSeconds/60)
	sample := cores / (float64(ready) * d.svc.cpuRequest) * 100
	if h.utilization == 0 {
		h.utilization = sample
	}
	h.utilization += alpha * (sample - h.utilization)
	util := h.utilization
	rec := d.specReplicas
	if ratio := util / h.targetPercent; math.Abs(ratio-1) > hpaTolerance {
		rec = int(math.Ceil(float64(ready) * ratio))
	}
	rec = clampInt(rec, h.min, h.max)
	h.recs = append(h.recs, hpaRec{step: step, replicas: rec})

	// Scale-down stabilization: take the highest recommendation in the window.
	window := int(hpaDownWindowSecs / w.stepSeconds)
	keep := h.recs[:0]
	stable := rec
	for _, r := range h.recs {
		if r.step > step-window {
			keep = append(keep, r)
			stable = max(stable, r.replicas)
		}
	}
	h.recs = keep

	desired := d.specReplicas
	switch {
	case rec > d.specReplicas:
		desired = min(rec, max(2*d.specReplicas, d.specReplicas+4))
	case stable < d.specReplicas:
		desired = stable
	}
	h.desired = desired
	if desired == d.specReplicas {
		return
	}
	reason := "cpu utilization above target"
	if desired < d.specReplicas {
		reason = "cpu utilization below target for the stabilization window"
	}
	w.log.scaled(w, d.svc, step, d.specReplicas, desired, reason, util)
	d.specReplicas = desired
}

// rollOut replaces one pod of an older revision per rollout step (maxSurge 1,
// maxUnavailable 0): a new pod starts, and an old one goes once the new one is ready.
func (w *World) rollOut(d *deployment, step int) {
	old, newReady, newStarting := 0, 0, 0
	for _, p := range d.pods {
		switch {
		case p.rs != d.current:
			old++
		case p.ready(step):
			newReady++
		default:
			newStarting++
		}
	}
	if old == 0 {
		return
	}
	if newStarting == 0 && len(d.pods) <= d.specReplicas {
		w.addPod(d, step)
		return
	}
	if newReady > 0 && len(d.pods) > d.specReplicas && newStarting == 0 {
		w.removePod(d, d.victim(step), step)
	}
}

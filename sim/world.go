package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Service kinds.
const (
	serviceWorkload = "workload"
	serviceVM       = "vm"
)

// Mesh values of a workload service.
const (
	meshIstio   = "istio"
	meshLinkerd = "linkerd"
	meshNone    = "none"
)

// service is a named unit of the world: a Kubernetes workload, a managed store or a
// VM-hosted workload.
type service struct {
	name, namespace string
	copyIndex       int
	cluster         *cluster // nil for stores and VMs
	cloud           string
	kind            string // workload, vm, or the edge kind of a store
	team, owner     string
	mesh            string
	traced          bool
	appLabelKey     string // the pod label naming the app: app or app.kubernetes.io/name
	appearsStep     int
	active          bool
	root            bool

	// Load and latency.
	noise       *noiseProcess
	rootBase    float64
	rps         float64
	meanRPS     float64
	ownLatency  float64 // median ms of its own work
	latency     float64 // current median ms seen by callers
	errorRate   float64
	out, in     []*edge
	topoVisited bool

	// Sizing.
	cpuRequest, memRequest float64
	cpuBase, cpuPerRequest float64
	memBase, memPerRequest float64
	baseReplicas           int
	hpaTarget              float64

	deploy *deployment
}

// edge is a caller to callee relation and its traffic in the current step.
type edge struct {
	index          int
	client, server *service
	kind           EdgeKind
	mult           float64
	sparse, back   bool

	rps      float64
	requests float64 // this step
	errors   float64 // this step
	latency  float64 // median ms seen by the server this step

	totalRequests float64
	activeSteps   int
	firstSeenStep int
}

// World is a simulated world. Advance moves it forward in time; a World is not safe
// for concurrent use, and after Advance returns an error it must not be used again.
type World struct {
	opts     Options
	scenario scenario
	topo     *Topology

	startMs, stepMs int64
	stepSeconds     float64
	endStep         int // last step within Duration
	next            int // next step to simulate

	clusters  []*cluster
	services  []*service
	edges     []*edge
	topoOrder []*service
	resources []TruthResource
	events    []event

	spikes []spike

	rBuild, rLoad, rTraffic, rUsage, rNames *rand.Rand
	// rTelemetry serves the span metrics and Hubble emitters only, so that
	// selecting them leaves every other family's values unchanged.
	rTelemetry *rand.Rand

	reg      *registry
	emitters []emitter
	log      truthLog

	// removed lists the pods deleted in the current step, in deletion order, so that
	// emitters end their series.
	removed []*pod
}

// New builds the world described by opts; nothing is emitted until Advance.
func New(opts Options) (*World, error) {
	w, err := newWorld(opts, nullSink{})
	if err != nil {
		return nil, err
	}
	// Only Advance moves this world; files and the truth simulate fresh copies.
	w.reg.live = true
	return w, nil
}

func newWorld(opts Options, s sink) (*World, error) {
	opts, sc, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.Billing {
		if _, err := snapshotComputePrices(); err != nil {
			return nil, err
		}
	}
	topo := opts.Topology
	if topo == nil {
		if topo, err = BuiltinTopology("online-boutique"); err != nil {
			return nil, err
		}
	}
	w := &World{
		opts:        opts,
		scenario:    sc,
		topo:        topo,
		startMs:     opts.Start.UnixMilli(),
		stepMs:      opts.Step.Milliseconds(),
		stepSeconds: opts.Step.Seconds(),
		endStep:     int(opts.Duration / opts.Step),
		rBuild:      newRand(opts.Seed, streamBuild),
		rLoad:       newRand(opts.Seed, streamLoad),
		rTraffic:    newRand(opts.Seed, streamTraffic),
		rUsage:      newRand(opts.Seed, streamUsage),
		rNames:      newRand(opts.Seed, streamNames),
		rTelemetry:  newRand(opts.Seed, streamTelemetry),
		reg:         &registry{sink: s},
	}
	w.buildClusters()
	w.buildServices()
	w.computeTopoOrder()
	w.sizeLoad()
	if sc.events {
		w.planEvents()
	}
	w.sizeWorkloads()
	w.buildNodes()
	w.buildStores()
	w.buildVMs()
	w.startWorkloads()
	w.emitters = newEmitters(w)
	return w, nil
}

func (w *World) timeOf(step int) time.Time {
	return time.UnixMilli(w.startMs + int64(step)*w.stepMs).UTC()
}

func (w *World) copies() int {
	return max(1, int(math.Round(float64(w.opts.Resources)/250)))
}

func (w *World) buildClusters() {
	for i := range 3 {
		p := &cloudProfiles[i]
		w.clusters = append(w.clusters, &cluster{
			index:   i,
			name:    "prod-" + p.cloud + "-" + p.region,
			profile: p,
		})
	}
}

// buildServices instantiates the topology once per copy; copies after the first get
// a numeric suffix so that service names stay unique across the world.
func (w *World) buildServices() {
	byName := map[string]*service{}
	isStore := map[string]EdgeKind{}
	hasOut := map[string]bool{}
	for _, e := range w.topo.Edges {
		hasOut[e.Client] = true
		if e.Kind != KindService {
			isStore[e.Server] = e.Kind
		}
	}
	roots := map[string]bool{}
	for _, r := range w.topo.roots() {
		roots[r] = true
	}

	for c := range w.copies() {
		suffix, ns := "", w.topo.Name
		if c > 0 {
			suffix = fmt.Sprintf("-%d", c+1)
			ns += suffix
		}
		for _, n := range w.topo.Nodes {
			s := &service{name: n + suffix, namespace: ns, copyIndex: c, active: true,
				kind: serviceWorkload, root: roots[n]}
			if k, ok := isStore[n]; ok && !hasOut[n] {
				s.kind, s.namespace = string(k), ""
			}
			w.assignService(s)
			byName[s.name] = s
			w.services = append(w.services, s)
		}
		for _, te := range w.topo.Edges {
			w.addEdge(byName[te.Client+suffix], byName[te.Server+suffix], te.Kind)
		}
		w.assignMeshes(c)
	}
}

func (w *World) addEdge(client, server *service, kind EdgeKind) *edge {
	e := &edge{index: len(w.edges), client: client, server: server, kind: kind,
		firstSeenStep: -1}
	client.out = append(client.out, e)
	server.in = append(server.in, e)
	w.edges = append(w.edges, e)
	return e
}

// assignService draws the cluster, team, mesh and tracing of a new service.
func (w *World) assignService(s *service) {
	r := w.rBuild
	team := teams[r.IntN(len(teams))]
	s.team, s.owner = team.name, team.owner
	s.appLabelKey = "app"
	if r.Float64() < w.opts.UntaggedShare {
		s.appLabelKey = "app.kubernetes.io/name"
	}
	// Weighted so that AWS hosts most, as at most multi-cloud startups.
	x := r.Float64()
	ci := 0
	switch {
	case x > 0.8:
		ci = 2
	case x > 0.5:
		ci = 1
	}
	s.cloud = w.clusters[ci].profile.cloud
	if s.kind == serviceWorkload {
		s.cluster = w.clusters[ci]
	}
}

// assignMeshes gives each copy's workloads exact shares of Linkerd, no mesh and
// tracing, in a shuffled order. If the Linkerd share missed every caller, the first
// caller moves to Linkerd so that mixed meshes always show in the telemetry.
func (w *World) assignMeshes(copyIndex int) {
	var ws []*service
	for _, s := range w.services {
		if s.copyIndex != copyIndex || s.kind != serviceWorkload {
			continue
		}
		s.mesh = meshIstio
		if s.root && s.name != "istio-ingressgateway" {
			// Load generators run without a sidecar: their calls come from "unknown".
			s.mesh = meshNone
			continue
		}
		if !s.root {
			ws = append(ws, s)
		}
	}
	perm := w.rBuild.Perm(len(ws))
	quota := func(share float64) int { return int(math.Round(share * float64(len(ws)))) }
	nNone, nLinkerd, nTraced := quota(w.opts.UnmeshedShare), quota(w.opts.LinkerdShare),
		quota(w.opts.TracedShare)
	linkerdCaller := false
	for rank, i := range perm {
		s := ws[i]
		switch {
		case rank < nNone:
			s.mesh = meshNone
		case rank < nNone+nLinkerd:
			s.mesh = meshLinkerd
			linkerdCaller = linkerdCaller || s.callsServices()
		}
		s.traced = (rank+nNone)%len(ws) < nTraced
	}
	if nLinkerd > 0 && !linkerdCaller {
		for _, s := range ws {
			if s.callsServices() {
				s.mesh = meshLinkerd
				break
			}
		}
	}
}

func (s *service) callsServices() bool {
	for _, e := range s.out {
		if e.kind == KindService {
			return true
		}
	}
	return false
}

// computeTopoOrder orders services callers first with a depth-first search from the
// roots; edges closing a cycle are marked back edges and carry little traffic, so
// load propagation terminates.
func (w *World) computeTopoOrder() {
	w.topoOrder = w.topoOrder[:0]
	for _, s := range w.services {
		s.topoVisited = false
	}
	onStack := map[*service]bool{}
	var post []*service
	var visit func(s *service)
	visit = func(s *service) {
		s.topoVisited = true
		onStack[s] = true
		for _, e := range s.out {
			switch {
			case onStack[e.server]:
				e.back = true
			case !e.server.topoVisited:
				visit(e.server)
			}
		}
		onStack[s] = false
		post = append(post, s)
	}
	for _, s := range w.services {
		if s.root && !s.topoVisited {
			visit(s)
		}
	}
	// Pure cycles without an entry point: enter at the first member.
	for _, s := range w.services {
		if !s.topoVisited && s.kind != serviceVM {
			s.root = true
			visit(s)
		}
	}
	for i := len(post) - 1; i >= 0; i-- {
		w.topoOrder = append(w.topoOrder, post[i])
	}
}

// sizeLoad draws per-edge fan-out, marks sparse edges and computes mean rates.
func (w *World) sizeLoad() {
	r := w.rBuild
	firstRoot := map[int]bool{}
	for _, s := range w.services {
		if !s.root {
			continue
		}
		s.rootBase = 2 // background consumers and secondary entry points
		if !firstRoot[s.copyIndex] {
			firstRoot[s.copyIndex] = true
			s.rootBase = 40 + 40*r.Float64()
		}
	}
	for _, e := range w.edges {
		switch {
		case e.back:
			e.mult = 0.02
		case e.kind != KindService:
			e.mult = 0.5 + 1.5*r.Float64()
		default:
			e.mult = 0.3 + 1.2*r.Float64()
		}
	}
	w.shareWideFanOut()
	w.propagateMean()
	// SparseShare of the edges away from the entry point (one in eight by default)
	// are sparse: a call every ten minutes or so, the hard case for discovery
	// windows. The draw happens for every edge whatever the share, so that the
	// share changes which edges are sparse and nothing else.
	for _, e := range w.edges {
		if e.client.root || e.back || e.kind != KindService {
			continue
		}
		if r.Float64() < w.opts.SparseShare && e.client.meanRPS > 0 {
			e.sparse = true
			e.mult = (1.0 / 600) / e.client.meanRPS
		}
	}
	w.propagateMean()
	for _, s := range w.services {
		s.noise = newNoiseProcess(w.rLoad, w.opts.Autocorrelation, w.opts.NoiseLevel)
		s.ownLatency = math.Exp(math.Log(2) + r.Float64()*math.Log(15)) // 2–30 ms
		s.errorRate = 0.0005 + 0.004*r.Float64()
	}
}

// Bounds of the load model for graphs far wider and deeper than real ones, such as
// dense random topologies. The built-in topologies stay within both, so their
// worlds are the same as before the bounds existed.
const (
	// wideFanOut is the most callees a client calls on every request. A client with
	// more is wide: each request reaches a subset of its callees (see
	// shareWideFanOut and computeLatency).
	wideFanOut = 8
	// maxInboundPerEntry caps a service's mean inbound rate at this multiple of the
	// entry rate of its copy of the topology (the sum of its roots' base rates), so
	// that rates cannot compound down deep layered graphs. The built-in topologies
	// cannot pass 11.25: their busiest nodes, Online Boutique's redis-cart and Sock
	// Shop's carts-db, are a store (factor at most 2) behind a service called both
	// straight from the front end and through one more hop (factors at most 1.5):
	// 2 × (1.5² + 1.5³) = 11.25.
	maxInboundPerEntry = 16
)

// wide reports whether a client has more callees than one request calls.
func (s *service) wide() bool { return len(s.out) > wideFanOut }

// shareWideFanOut scales the fan-out factors of a wide client with n callees by
// wideFanOut/n: a request calls a subset of them, so the client makes about as
// many calls in all as a client with wideFanOut callees. Back edges keep their
// fixed small share.
func (w *World) shareWideFanOut() {
	for _, s := range w.services {
		if !s.wide() {
			continue
		}
		share := wideFanOut / float64(len(s.out))
		for _, e := range s.out {
			if !e.back {
				e.mult *= share
			}
		}
	}
}

// propagateMean computes mean rates callers first. A service whose inbound rate
// would pass maxInboundPerEntry times its copy's entry rate is held at that limit
// by scaling down its inbound fan-out factors, so that its callees see the limited
// rate too.
func (w *World) propagateMean() {
	entry := map[int]float64{} // copy index → summed base rate of its roots
	for _, s := range w.topoOrder {
		s.meanRPS = 0
		if s.root {
			s.meanRPS = s.rootBase
			entry[s.copyIndex] += s.rootBase
		}
	}
	for _, s := range w.topoOrder {
		for _, e := range s.in {
			if !e.back {
				s.meanRPS += e.client.meanRPS * e.mult
			}
		}
		if limit := maxInboundPerEntry * entry[s.copyIndex]; s.meanRPS > limit {
			capInbound(s, limit)
		}
	}
}

// capInbound scales the inbound fan-out factors of s so that its mean rate is
// limit. Sparse edges keep their call every ten minutes and back edges their share.
func capInbound(s *service, limit float64) {
	sparse := 0.0
	for _, e := range s.in {
		if e.sparse && !e.back {
			sparse += e.client.meanRPS * e.mult
		}
	}
	f := math.Max(0, limit-sparse) / (s.meanRPS - sparse)
	for _, e := range s.in {
		if !e.sparse && !e.back {
			e.mult *= f
		}
	}
	s.meanRPS = limit
}

// sizeWorkloads picks requests and per-request CPU so that, at mean load, the world
// has about the requested number of pods running at ~55% of their CPU request.
func (w *World) sizeWorkloads() {
	r := w.rBuild
	var workloads []*service
	weight := 0.0
	for _, s := range w.services {
		if s.kind == serviceWorkload && !s.root {
			workloads = append(workloads, s)
			weight++
		}
	}
	podTarget := math.Max(float64(len(workloads)), 0.72*float64(w.opts.Resources))
	cpuChoices := []float64{0.1, 0.2, 0.25, 0.5}
	for _, s := range w.services {
		if s.kind != serviceWorkload {
			continue
		}
		s.cpuRequest = cpuChoices[r.IntN(len(cpuChoices))]
		s.memRequest = float64(int(128)<<r.IntN(3)) * 1024 * 1024
		s.memBase = s.memRequest * (0.3 + 0.2*r.Float64())
		s.cpuBase = 0.05 * s.cpuRequest
		if s.root {
			s.baseReplicas = 1
			s.cpuPerRequest = 0.0005
			continue
		}
		share := 0.5 + r.Float64()
		s.baseReplicas = max(1, int(math.Round(podTarget*share/weight)))
		s.hpaTarget = []float64{60, 70, 80}[r.IntN(3)]
		// At Start the service runs its base replicas at about its HPA target.
		demand := 0.95 * s.hpaTarget / 100 * float64(s.baseReplicas) * s.cpuRequest
		startRPS := math.Max(s.meanRPS*diurnal(w.opts.Start), 0.01)
		s.cpuPerRequest = math.Max(0, demand-s.cpuBase) / startRPS
		s.memPerRequest = 0.2 * s.memRequest / math.Max(s.meanRPS/float64(s.baseReplicas), 0.01)
	}
}

// buildNodes sizes each cluster for its services at their maximum replicas, the way
// a cluster autoscaler would end up.
func (w *World) buildNodes() {
	r := w.rNames
	for _, c := range w.clusters {
		need := 0.0
		for _, s := range w.services {
			if s.cluster == c {
				need += 2 * float64(s.baseReplicas) * s.cpuRequest
			}
		}
		if need == 0 {
			continue
		}
		p := c.profile
		n := max(1, int(math.Ceil(need/(p.nodeCPU*0.75))))
		for i := range n {
			nd := &node{cluster: c, cpu: p.nodeCPU, mem: p.nodeMem,
				zone: p.zones[i%len(p.zones)], ip: fmt.Sprintf("10.%d.%d.%d", c.index, i/200, i%200+10)}
			id := r.Uint64() >> 4
			switch p.cloud {
			case "aws":
				nd.name = fmt.Sprintf("ip-%s.ec2.internal", dashIP(nd.ip))
			case "gcp":
				nd.name = fmt.Sprintf("gke-%s-default-pool-%08x-%s", c.name[:12], uint32(id), randomSuffix(r, 4))
			default:
				nd.name = fmt.Sprintf("aks-nodepool1-%08d-vmss%06x", id%1e8, i)
			}
			nd.providerID = fmt.Sprintf(p.provider, nd.zone, id)
			nd.uuid = uuidFrom(r)
			c.nodes = append(c.nodes, nd)
			w.addResource(TruthResource{
				ID: nd.providerID, Cloud: p.cloud, Region: p.region, Type: p.nodeType,
				Kind: "kubernetes_node", Name: nd.name, Cluster: c.name,
				Tags: map[string]string{"team": "platform", "owner": ownerOf("platform"),
					"env": "prod", "kubernetes_cluster": c.name},
				Tagging: taggingShared,
			})
		}
	}
}

func dashIP(ip string) string {
	out := []byte(ip)
	for i, b := range out {
		if b == '.' {
			out[i] = '-'
		}
	}
	return string(out)
}

// buildStores creates the managed database or broker behind every store service.
func (w *World) buildStores() {
	for _, s := range w.services {
		if s.kind == serviceWorkload || s.kind == serviceVM {
			continue
		}
		p := profileOf(s.cloud)
		kind := EdgeKind(s.kind)
		w.addResource(w.taggedResource(s, TruthResource{
			ID:     fmt.Sprintf("%s/%s/%s", p.cloud, kind, s.name),
			Cloud:  p.cloud,
			Region: p.region,
			Type:   p.dbTypes[kind],
			Kind:   p.dbKinds[kind],
			Name:   s.name,
		}))
	}
}

// buildVMs adds VM-hosted services, about one VM per 25 resources, across all four
// environments including on-premises.
func (w *World) buildVMs() {
	n := int(math.Round(float64(w.opts.Resources) / 25))
	for i := range n {
		base := vmServices[i%len(vmServices)]
		name := base.name
		if i >= len(vmServices) {
			name = fmt.Sprintf("%s-%d", base.name, i/len(vmServices)+1)
		}
		p := &cloudProfiles[(i+3)%len(cloudProfiles)] // start on-premises
		s := &service{name: name, kind: serviceVM, team: base.team, owner: ownerOf(base.team),
			cloud: p.cloud, mesh: meshNone, active: true}
		w.services = append(w.services, s)
		w.addResource(w.taggedResource(s, TruthResource{
			ID:     fmt.Sprintf("%s/vm/%s", p.cloud, name),
			Cloud:  p.cloud,
			Region: p.region,
			Type:   p.vmTypes[i%len(p.vmTypes)],
			Kind:   "vm",
			Name:   name,
		}))
	}
}

func profileOf(cloud string) *cloudProfile {
	for i := range cloudProfiles {
		if cloudProfiles[i].cloud == cloud {
			return &cloudProfiles[i]
		}
	}
	return &cloudProfiles[0]
}

// taggedResource tags a resource for its service; UntaggedShare of them lose the
// service tag or spell its key differently, as happens in real accounts.
func (w *World) taggedResource(s *service, res TruthResource) TruthResource {
	res.Tags = map[string]string{"team": s.team, "owner": s.owner, "env": "prod"}
	res.TrueService = s.name
	res.Service = s.name
	res.Tagging = taggingOK
	if w.rBuild.Float64() >= w.opts.UntaggedShare {
		res.Tags["service"] = s.name
		return res
	}
	switch w.rBuild.IntN(3) {
	case 0:
		res.Tagging = taggingMissing
		res.Service = ""
	case 1:
		res.Tagging = taggingInconsistent
		res.Tags["Service"] = s.name
	default:
		res.Tagging = taggingInconsistent
		res.Tags["app"] = s.name
	}
	return res
}

func (w *World) addResource(r TruthResource) { w.resources = append(w.resources, r) }

package sim

import "strings"

// ksmEmitter emits what kube-state-metrics v2 exposes for pods, deployments,
// replica sets, HPAs and nodes, plus the cluster and job labels a multi-cluster
// scrape configuration adds.
type ksmEmitter struct {
	podInfo, podLabels, podOwner, podRequests, podPhase    *family
	depSpec, depStatus, depLabels, rsOwner                 *family
	hpaMax, hpaMin, hpaCurrent, hpaDesired, hpaTarget, hpa *family
	nodeInfo, nodeLabels, nodeCapacity                     *family

	pods  map[*pod]*ksmPod
	deps  map[*deployment]*ksmDeployment
	rsets map[*replicaSet]*metric
	nodes map[*node][]*metric
}

type ksmPod struct {
	info, labels, owner, cpu, mem *metric
	phases                        [len(podPhases)]*metric
}

type ksmDeployment struct {
	spec, status, labels                        *metric
	max, min, current, desired, target, hpaInfo *metric
}

func (m *ksmPod) end(r *registry) {
	for _, x := range [...]*metric{m.info, m.labels, m.owner, m.cpu, m.mem} {
		r.end(x)
	}
	for _, x := range m.phases {
		r.end(x)
	}
}

var podPhases = [...]string{"Pending", "Running", "Succeeded", "Failed", "Unknown"}

func newKSMEmitter(w *World) *ksmEmitter {
	r := w.reg
	g := func(name, help string) *family { return r.family(name, typeGauge, help, nil) }
	return &ksmEmitter{
		podInfo:   g("kube_pod_info", "Simulated: one series per pod, value 1."),
		podLabels: g("kube_pod_labels", "Simulated: object labels as label_* labels."),
		podOwner:  g("kube_pod_owner", "Simulated: the controller that owns the pod."),
		podRequests: g("kube_pod_container_resource_requests",
			"Simulated: resources the container requests, per resource and unit."),
		podPhase:   g("kube_pod_status_phase", "Simulated: 1 for the pod's phase, 0 for the others."),
		depSpec:    g("kube_deployment_spec_replicas", "Simulated: replicas the deployment asks for."),
		depStatus:  g("kube_deployment_status_replicas", "Simulated: replicas the deployment has."),
		depLabels:  g("kube_deployment_labels", "Simulated: object labels as label_* labels."),
		rsOwner:    g("kube_replicaset_owner", "Simulated: the controller that owns the ReplicaSet."),
		hpaMax:     g("kube_horizontalpodautoscaler_spec_max_replicas", "Simulated: the autoscaler's maximum replicas."),
		hpaMin:     g("kube_horizontalpodautoscaler_spec_min_replicas", "Simulated: the autoscaler's minimum replicas."),
		hpaCurrent: g("kube_horizontalpodautoscaler_status_current_replicas", "Simulated: replicas the autoscaler manages now."),
		hpaDesired: g("kube_horizontalpodautoscaler_status_desired_replicas", "Simulated: replicas the autoscaler wants."),
		hpaTarget:  g("kube_horizontalpodautoscaler_spec_target_metric", "Simulated: the autoscaler's target per metric."),
		hpa:        g("kube_horizontalpodautoscaler_info", "Simulated: one series per autoscaler, naming its scale target."),
		nodeInfo:   g("kube_node_info", "Simulated: one series per node, value 1."),
		nodeLabels: g("kube_node_labels", "Simulated: object labels as label_* labels."),
		nodeCapacity: g("kube_node_status_capacity",
			"Simulated: node capacity per resource."),
		pods:  map[*pod]*ksmPod{},
		deps:  map[*deployment]*ksmDeployment{},
		rsets: map[*replicaSet]*metric{},
		nodes: map[*node][]*metric{},
	}
}

// promLabelName sanitizes a Kubernetes label key the way kube-state-metrics does.
func promLabelName(key string) string {
	var b strings.Builder
	b.WriteString("label_")
	for _, r := range key {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
		if !ok {
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (k *ksmEmitter) emit(w *World, step int) {
	// kube-state-metrics drops a pod's series with the pod.
	for _, p := range w.removed {
		if m, ok := k.pods[p]; ok {
			m.end(w.reg)
			delete(k.pods, p)
		}
	}
	for _, c := range w.clusters {
		for _, n := range c.nodes {
			k.emitNode(w, c, n)
		}
	}
	for _, s := range w.services {
		if s.deploy == nil || !s.active {
			continue
		}
		k.emitDeployment(w, s.deploy, step)
		for _, p := range s.deploy.pods {
			k.emitPod(w, p, step)
		}
	}
}

func (k *ksmEmitter) emitNode(w *World, c *cluster, n *node) {
	ms, ok := k.nodes[n]
	if !ok {
		p := c.profile
		base := []string{"job", "kube-state-metrics", w.opts.ClusterLabel, c.name, "node", n.name}
		ms = []*metric{
			k.nodeInfo.newMetric(kv(base,
				"kernel_version", p.kernel, "os_image", p.osImage,
				"container_runtime_version", p.runtime, "kubelet_version", p.kubelet,
				"kubeproxy_version", "deprecated", "provider_id", n.providerID,
				"internal_ip", n.ip, "system_uuid", n.uuid)...),
			// Real kube-state-metrics needs --metric-labels-allowlist=nodes=[...] for these.
			k.nodeLabels.newMetric(kv(base,
				"label_node_kubernetes_io_instance_type", p.nodeType,
				"label_topology_kubernetes_io_region", p.region,
				"label_topology_kubernetes_io_zone", n.zone)...),
			k.nodeCapacity.newMetric(kv(base, "resource", "cpu", "unit", "core")...),
			k.nodeCapacity.newMetric(kv(base, "resource", "memory", "unit", "byte")...),
			k.nodeCapacity.newMetric(kv(base, "resource", "pods", "unit", "integer")...),
		}
		k.nodes[n] = ms
	}
	r := w.reg
	r.point(ms[0], 1)
	r.point(ms[1], 1)
	r.point(ms[2], n.cpu)
	r.point(ms[3], n.mem)
	r.point(ms[4], 110)
}

func (k *ksmEmitter) emitDeployment(w *World, d *deployment, step int) {
	s := d.svc
	m, ok := k.deps[d]
	if !ok {
		base := []string{"job", "kube-state-metrics", w.opts.ClusterLabel, s.cluster.name,
			"namespace", s.namespace}
		dep := kv(base, "deployment", s.name)
		lbl := dep
		if w.opts.KSMLabelsAllowlist {
			lbl = kv(dep, promLabelName(s.appLabelKey), s.name)
		}
		m = &ksmDeployment{
			spec:   k.depSpec.newMetric(dep...),
			status: k.depStatus.newMetric(dep...),
			labels: k.depLabels.newMetric(lbl...),
		}
		if d.hpa != nil {
			h := kv(base, "horizontalpodautoscaler", s.name)
			m.max = k.hpaMax.newMetric(h...)
			m.min = k.hpaMin.newMetric(h...)
			m.current = k.hpaCurrent.newMetric(h...)
			m.desired = k.hpaDesired.newMetric(h...)
			m.target = k.hpaTarget.newMetric(kv(h, "metric_name", "cpu",
				"metric_target_type", "utilization")...)
			m.hpaInfo = k.hpa.newMetric(kv(h, "scaletargetref_api_version", "apps/v1",
				"scaletargetref_kind", "Deployment", "scaletargetref_name", s.name)...)
		}
		k.deps[d] = m
	}
	r := w.reg
	r.point(m.spec, float64(d.specReplicas))
	r.point(m.status, float64(len(d.pods)))
	r.point(m.labels, 1)
	if h := d.hpa; h != nil {
		r.point(m.max, float64(h.max))
		r.point(m.min, float64(h.min))
		r.point(m.current, float64(d.specReplicas))
		r.point(m.desired, float64(h.desired))
		r.point(m.target, h.targetPercent)
		r.point(m.hpaInfo, 1)
	}
	// kube-state-metrics keeps old ReplicaSets (scaled to zero) until they are
	// garbage collected by revisionHistoryLimit.
	for _, rs := range d.replicaSets {
		rm, ok := k.rsets[rs]
		if !ok {
			rm = k.rsOwner.newMetric("job", "kube-state-metrics", w.opts.ClusterLabel, s.cluster.name,
				"namespace", s.namespace, "replicaset", rs.name, "owner_kind", "Deployment",
				"owner_name", s.name, "owner_is_controller", "true")
			k.rsets[rs] = rm
		}
		r.point(rm, 1)
	}
}

func (k *ksmEmitter) emitPod(w *World, p *pod, step int) {
	s := p.dep.svc
	m, ok := k.pods[p]
	if !ok {
		base := []string{"job", "kube-state-metrics", w.opts.ClusterLabel, s.cluster.name,
			"namespace", s.namespace, "pod", p.name, "uid", p.uid}
		lbl := base
		if w.opts.KSMLabelsAllowlist {
			lbl = kv(base, promLabelName(s.appLabelKey), s.name, "label_team", s.team,
				"label_version", p.rs.version, "label_pod_template_hash", p.rs.hash)
		}
		cont := kv(base, "container", s.name, "node", p.node.name)
		m = &ksmPod{
			info: k.podInfo.newMetric(kv(base, "host_ip", p.node.ip, "pod_ip", p.ip,
				"node", p.node.name, "created_by_kind", "ReplicaSet",
				"created_by_name", p.rs.name, "priority_class", "", "host_network", "false")...),
			labels: k.podLabels.newMetric(lbl...),
			owner: k.podOwner.newMetric(kv(base, "owner_kind", "ReplicaSet",
				"owner_name", p.rs.name, "owner_is_controller", "true")...),
			cpu: k.podRequests.newMetric(kv(cont, "resource", "cpu", "unit", "core")...),
			mem: k.podRequests.newMetric(kv(cont, "resource", "memory", "unit", "byte")...),
		}
		for i, ph := range podPhases {
			m.phases[i] = k.podPhase.newMetric(kv(base, "phase", ph)...)
		}
		k.pods[p] = m
	}
	r := w.reg
	r.point(m.info, 1)
	r.point(m.labels, 1)
	r.point(m.owner, 1)
	r.point(m.cpu, s.cpuRequest)
	r.point(m.mem, s.memRequest)
	phase := "Pending"
	if p.ready(step) {
		phase = "Running"
	}
	for i, ph := range podPhases {
		r.point(m.phases[i], boolValue(ph == phase))
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

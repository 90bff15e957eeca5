package sim

import (
	"fmt"
	"math"
)

// cadvisorEmitter emits the container metrics the kubelet's embedded cAdvisor
// exposes on /metrics/cadvisor, with the labels a standard kubelet scrape job adds.
type cadvisorEmitter struct {
	cpu, mem *family
	pods     map[*pod][2]*metric
}

func newCAdvisorEmitter(w *World) *cadvisorEmitter {
	return &cadvisorEmitter{
		cpu: w.reg.family("container_cpu_usage_seconds", typeCounter,
			"Simulated: CPU seconds the container has used.", nil),
		mem: w.reg.family("container_memory_working_set_bytes", typeGauge,
			"Simulated: memory working set of the container in bytes.", nil),
		pods: map[*pod][2]*metric{},
	}
}

func (c *cadvisorEmitter) emit(w *World, step int) {
	for _, p := range w.removed {
		if m, ok := c.pods[p]; ok {
			w.reg.end(m[0])
			w.reg.end(m[1])
			delete(c.pods, p)
		}
	}
	for _, s := range w.services {
		if s.deploy == nil || !s.active {
			continue
		}
		for _, p := range s.deploy.pods {
			// A container is only reported once it runs.
			if !p.ready(step) {
				continue
			}
			m, ok := c.pods[p]
			if !ok {
				lbl := []string{
					w.opts.ClusterLabel, s.cluster.name, "job", "kubelet", "metrics_path", "/metrics/cadvisor",
					"instance", p.node.name, "node", p.node.name,
					"namespace", s.namespace, "pod", p.name, "container", s.name,
					"image", fmt.Sprintf("registry.example.com/%s/%s:%s", s.namespace, s.name, p.rs.version),
					"id", fmt.Sprintf("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope",
						underscoreUID(p.uid), p.uid[:8]+p.rs.hash),
				}
				m = [2]*metric{c.cpu.newMetric(lbl...), c.mem.newMetric(lbl...)}
				c.pods[p] = m
			}
			w.reg.point(m[0], roundTo(p.cpuSeconds, 1e-6))
			w.reg.point(m[1], math.Round(p.memBytes))
		}
	}
}

// underscoreUID writes a pod UID the way systemd cgroup names carry it.
func underscoreUID(uid string) string {
	b := []byte(uid)
	for i, ch := range b {
		if ch == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}

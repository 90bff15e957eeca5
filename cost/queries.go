package cost

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// The PromQL the engine runs each cycle. Every query aggregates by identifying
// labels only, so the number of queries never depends on the number of
// services, pods or nodes, and duplicate series from replicated scrapes
// (kube-state-metrics or Prometheus in HA) are taken once (max) rather than
// summed. %[1]s is the cluster label (identity.cluster_label).
//
// Metrics read, and why:
//
//   - kube_node_info{provider_id}: every node, and its cloud from the
//     provider id's scheme (aws://, gce://, azure://).
//   - kube_node_labels{label_node_kubernetes_io_instance_type,
//     label_topology_kubernetes_io_region}: what the node is and where, the
//     key of its price. kube-state-metrics emits them only with
//     --metric-labels-allowlist=nodes=[node.kubernetes.io/instance-type,
//     topology.kubernetes.io/region].
//   - kube_node_status_allocatable, else kube_node_status_capacity
//     {resource="cpu"|"memory"}: the capacity a node's price is spread over.
//   - kube_pod_info{node}: which node a pod runs on.
//   - kube_pod_status_phase{phase="Running"}: only running pods are charged.
//   - kube_pod_container_resource_requests{resource="cpu"|"memory"}: requests.
//   - container_cpu_usage_seconds_total and container_memory_working_set_bytes
//     from cAdvisor, without its pod-level (container="") and pause
//     (container="POD") rows: usage.
//   - kube_pod_labels{label_*}: the service label keys, in order.
//   - kube_pod_owner and kube_replicaset_owner: the owning workload, where no
//     label names the service.
const (
	queryNodeInfo = `max by (%[1]s, node, provider_id) (kube_node_info)`

	queryNodeLabels = `max by (%[1]s, node, label_node_kubernetes_io_instance_type, ` +
		`label_topology_kubernetes_io_region) (kube_node_labels)`

	// "or" keeps the allocatable series of a node and resource and adds the
	// capacity only where allocatable is missing.
	queryNodeCapacity = `max by (%[1]s, node, resource) ` +
		`(kube_node_status_allocatable{resource=~"cpu|memory"})` +
		` or max by (%[1]s, node, resource) ` +
		`(kube_node_status_capacity{resource=~"cpu|memory"})`

	queryPodNode = `max by (%[1]s, namespace, pod, node) (kube_pod_info{node!=""})`

	queryRunning = `max by (%[1]s, namespace, pod) (kube_pod_status_phase{phase="Running"} == 1)`

	queryRequests = `max by (%[1]s, namespace, pod, container, resource) ` +
		`(kube_pod_container_resource_requests{resource=~"cpu|memory"})`

	queryCPUUsage = `max by (%[1]s, namespace, pod, container) ` +
		`(rate(container_cpu_usage_seconds_total{container!="",container!="POD"}[%[2]s]))`

	queryMemoryUsage = `max by (%[1]s, namespace, pod, container) ` +
		`(container_memory_working_set_bytes{container!="",container!="POD"})`

	// %[2]s is the list of label_* names of the configured pod label keys.
	queryPodLabels = `max by (%[1]s, namespace, pod%[2]s) (kube_pod_labels)`

	queryPodOwner = `max by (%[1]s, namespace, pod, owner_kind, owner_name) ` +
		`(kube_pod_owner{owner_is_controller="true"})`

	queryReplicaSetOwner = `max by (%[1]s, namespace, replicaset, owner_kind, owner_name) ` +
		`(kube_replicaset_owner{owner_is_controller="true"})`
)

// QueriesPerCycle is how many PromQL instant queries one cost cycle runs,
// whatever the size of the fleet.
const QueriesPerCycle = 11

// bytesPerGiB converts the byte values of kube-state-metrics and cAdvisor.
const bytesPerGiB = 1 << 30

// podLabelName returns the label kube-state-metrics gives a Kubernetes label
// key on kube_pod_labels: "label_" and the key with every character that may
// not appear in a label name replaced by "_" (app.kubernetes.io/name becomes
// label_app_kubernetes_io_name).
func podLabelName(key string) string {
	var b strings.Builder
	b.WriteString("label_")
	for _, r := range key {
		if !validLabelRune(r) {
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// validLabelRune reports whether r may appear in a label name.
func validLabelRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
}

// podLabelGrouping returns ", label_x, label_y" for the configured keys.
func podLabelGrouping(keys []string) string {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(", ")
		b.WriteString(podLabelName(k))
	}
	return b.String()
}

// rangeSelector writes a window as PromQL duration syntax.
func rangeSelector(d time.Duration) string {
	return model.Duration(d).String()
}

// expr fills the cluster label into a query.
func expr(format, clusterLabel string, extra ...any) string {
	return fmt.Sprintf(format, append([]any{clusterLabel}, extra...)...)
}

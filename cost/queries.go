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
//   - kube_node_labels{label_karpenter_sh_capacity_type,
//     label_eks_amazonaws_com_capacity_type, label_cloud_google_com_gke_spot,
//     label_cloud_google_com_gke_preemptible,
//     label_kubernetes_azure_com_scalesetpriority}, in the same query: whether
//     the node is spot capacity (see capacityLabels), priced as such.
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

	// %[2]s is the list of the capacity-type labels (capacityLabelGrouping).
	queryNodeLabels = `max by (%[1]s, node, label_node_kubernetes_io_instance_type, ` +
		`label_topology_kubernetes_io_region%[2]s) (kube_node_labels)`

	// "or" keeps the allocatable series of a node and resource and adds the
	// capacity only where allocatable is missing.
	queryNodeCapacity = `max by (%[1]s, node, resource) ` +
		`(kube_node_status_allocatable{resource=~"cpu|memory"})` +
		` or max by (%[1]s, node, resource) ` +
		`(kube_node_status_capacity{resource=~"cpu|memory"})`

	queryPodNode = `max by (%[1]s, namespace, pod, node) (kube_pod_info{node!=""})`

	// Running pods, and the init containers running now (native sidecars, with
	// restartPolicy Always, run for the life of the pod), marked by initLabel.
	queryRunning = `max by (%[1]s, namespace, pod) (kube_pod_status_phase{phase="Running"} == 1)` +
		` or label_replace(max by (%[1]s, namespace, pod, container) ` +
		`(kube_pod_init_container_status_running == 1), "` + initLabel + `", "1", "", "")`

	// Requests of app containers, and of init containers marked by initLabel.
	queryRequests = `max by (%[1]s, namespace, pod, container, resource) ` +
		`(kube_pod_container_resource_requests{resource=~"cpu|memory"})` +
		` or label_replace(max by (%[1]s, namespace, pod, container, resource) ` +
		`(kube_pod_init_container_resource_requests{resource=~"cpu|memory"}), "` +
		initLabel + `", "1", "", "")`

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

// initLabel marks the series of init containers in the running and requests
// queries, which read app and init containers together.
const initLabel = "stratus_init"

// QueriesPerCycle is how many PromQL instant queries one cost cycle runs,
// whatever the size of the fleet: CostQueries for the allocation of nodes,
// CloudUsageQueries for serverless functions and tasks, UnitCostQueries for
// cost per request and feature, and RecommendationQueries for p95 usage and
// steady node counts, unless those are disabled.
const QueriesPerCycle = CostQueries + CloudUsageQueries + UnitCostQueries +
	RecommendationQueries

// CostQueries is how many queries the allocation runs.
const CostQueries = 11

// RecommendationQueries is how many queries the recommendations run once an
// hour: p95 usage of CPU and of memory, each giving containers and nodes, and
// the steady count of on-demand nodes per type behind the commitments.
const RecommendationQueries = 3

// recommendationStep is the resolution of the p95 subqueries.
const recommendationStep = 5 * time.Minute

// The label that tells the series of a p95 query apart: the percentile, or
// the number of subquery steps with data, from which the history covered is
// known.
const (
	statLabel   = "stratus_stat"
	statP95     = "p95"
	statSamples = "samples"
	statMin     = "min"
)

// p95Queries returns the CPU and memory usage queries of the recommendations.
// Each gives, per container (cluster, namespace, pod, container) and per node
// (cluster, node), the 95th percentile of usage over the lookback at
// recommendationStep resolution; the CPU query also counts the steps with
// data, which says how much history the percentile covers. A node's usage is
// the sum of the containers of the pods on it at each step (kube_pod_info,
// one node per pod by topk), so that pods moving between nodes count where
// they ran.
func p95Queries(cluster string, usageWindow, lookback time.Duration) (cpu, memory string) {
	filter := `{container!="",container!="POD"}`
	containerCPU := fmt.Sprintf(`max by (%[1]s, namespace, pod, container) `+
		`(rate(container_cpu_usage_seconds_total%[2]s[%[3]s]))`,
		cluster, filter, rangeSelector(usageWindow))
	containerMem := fmt.Sprintf(`max by (%[1]s, namespace, pod, container) `+
		`(container_memory_working_set_bytes%[2]s)`, cluster, filter)
	podNode := fmt.Sprintf(`topk by (%[1]s, namespace, pod) (1, `+
		`max by (%[1]s, namespace, pod, node) (kube_pod_info{node!=""}))`, cluster)
	node := func(container string) string {
		return fmt.Sprintf(`sum by (%[1]s, node) (sum by (%[1]s, namespace, pod) (%[2]s) `+
			`* on (%[1]s, namespace, pod) group_left (node) %[3]s)`, cluster, container, podNode)
	}
	over := fmt.Sprintf("[%s:%s]", rangeSelector(lookback), rangeSelector(recommendationStep))
	stat := func(fn, stat, inner string) string {
		return fmt.Sprintf(`label_replace(%s(%s)%s), "%s", "%s", "__name__", ".*")`,
			fn, inner, over, statLabel, stat)
	}
	p95 := func(inner string) string {
		return stat("quantile_over_time(0.95, ", statP95, inner)
	}
	count := func(inner string) string { return stat("count_over_time(", statSamples, inner) }
	cpu = strings.Join([]string{
		p95(containerCPU), count(containerCPU), p95(node(containerCPU)), count(node(containerCPU)),
	}, " or ")
	memory = p95(containerMem) + " or " + p95(node(containerMem))
	return cpu, memory
}

// The kube_node_labels labels of a node's price key.
const (
	labelInstanceType = "label_node_kubernetes_io_instance_type"
	labelRegion       = "label_topology_kubernetes_io_region"
)

// commitmentQuery returns the query behind the commitment recommendations.
// It gives, per cluster, region and instance type of on-demand nodes (spot
// ones are left out by their capacity labels), the least number of nodes
// that ran at any recommendationStep step of the lookback (stratus_stat
// "min") and the number of steps it covers ("samples").
//
// A step at which no node of a type ran has no series of that type, and
// min_over_time would skip it rather than take it as zero. So at each step
// the types that run at the evaluation time (the @ end() selector) are
// filled in with 0 wherever the cluster had nodes but none of the type: a
// type that scaled to zero for a while has a minimum of 0, while a step at
// which Prometheus has no data of the cluster (an outage) counts neither way.
func commitmentQuery(cluster string, lookback time.Duration) string {
	selector := fmt.Sprintf(`kube_node_labels{%s!=""%s}`, labelInstanceType, onDemandMatchers())
	group := fmt.Sprintf("%s, %s, %s", cluster, labelRegion, labelInstanceType)
	count := func(selector string) string {
		return fmt.Sprintf(`count by (%[1]s) (max by (%[1]s, node) (%[2]s))`, group, selector)
	}
	clusterUp := fmt.Sprintf(`group by (%s) (kube_node_labels)`, cluster)
	filled := fmt.Sprintf(`%s or ((0 * %s) and on (%s) %s)`,
		count(selector), count(selector+" @ end()"), cluster, clusterUp)
	over := fmt.Sprintf("[%s:%s]", rangeSelector(lookback), rangeSelector(recommendationStep))
	stat := func(fn, stat string) string {
		return fmt.Sprintf(`label_replace(%s((%s)%s), "%s", "%s", "__name__", ".*")`,
			fn, filled, over, statLabel, stat)
	}
	return stat("min_over_time", statMin) + " or " + stat("count_over_time", statSamples)
}

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

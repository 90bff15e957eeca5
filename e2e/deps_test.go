//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/sim"
	"github.com/stratus-monitoring/stratus/topology"
)

// depsGraph runs `stratus deps graph --output=json` with args and decodes it.
func depsGraph(t *testing.T, args ...string) topology.GraphReport {
	t.Helper()
	code, stdout, stderr := runStratus(t, append([]string{"deps", "graph", "--output=json"},
		args...)...)
	require.Equal(t, 0, code, stderr)
	var r topology.GraphReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &r), stdout)
	return r
}

func readTruth(t *testing.T, w world) sim.Truth {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(w.dir, "truth.json"))
	require.NoError(t, err)
	var truth sim.Truth
	require.NoError(t, json.Unmarshal(raw, &truth))
	return truth
}

// nodeName is the name part of a cluster/namespace/name node ID.
func nodeName(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }

// edgeNames lists a report's edges as "client -> server" by service name, the
// way the truth names them.
func edgeNames(r topology.GraphReport) []string {
	var out []string
	for _, e := range r.Edges {
		out = append(out, nodeName(e.Client)+" -> "+nodeName(e.Server))
	}
	slices.Sort(out)
	return out
}

// truthEdgeIDs lists the truth's edges as the graph must name them, with the
// cluster and namespace of each service ("//name" for stores, which have none).
func truthEdgeIDs(truth sim.Truth) []string {
	id := map[string]string{"unknown": "//unknown"}
	for _, s := range truth.Services {
		id[s.Name] = s.Cluster + "/" + s.Namespace + "/" + s.Name
	}
	var out []string
	for _, e := range truthEdgeNames(truth) {
		client, server, _ := strings.Cut(e, " -> ")
		out = append(out, id[client]+" -> "+id[server])
	}
	slices.Sort(out)
	return out
}

func edgeIDs(r topology.GraphReport) []string {
	var out []string
	for _, e := range r.Edges {
		out = append(out, e.Client+" -> "+e.Server)
	}
	slices.Sort(out)
	return out
}

// truthEdgeNames lists the edges the world's telemetry shows at a time with traffic:
// by both names when a source names the client, from "unknown" when sources see it
// only anonymously. A call another source names is drawn once, from its caller:
// the server's mesh reporting it from "unknown" is explained by it.
func truthEdgeNames(truth sim.Truth) []string {
	return truthViews(truth, false)
}

// truthViews lists the edges as above; with every view, the unknown caller a
// server's mesh reports is listed too, as it stays when no traffic tells it apart.
func truthViews(truth sim.Truth, everyView bool) []string {
	seen := map[string]bool{}
	for _, e := range truth.Edges {
		if len(e.Sources) > 0 {
			seen[e.Client+" -> "+e.Server] = true
		}
		if len(e.AnonymousSources) > 0 && (everyView || len(e.Sources) == 0) {
			seen["unknown -> "+e.Server] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestDependencyGraphMatchesTruth is discovery against a real Prometheus: every
// edge the simulated telemetry shows is found in one cycle, nothing else is, and
// the embedded engine over the same data finds the same graph.
func TestDependencyGraphMatchesTruth(t *testing.T) {
	w := simulateFixedWorld(t)
	addr := freeAddr(t)
	startPrometheus(t, "prometheus", addr, w.dataDir, "")
	at := "--at=" + w.end.Format(time.RFC3339)

	fromProm := depsGraph(t, at, "--prometheus.url=http://"+addr)
	truth := readTruth(t, w)
	require.Equal(t, truthEdgeIDs(truth), edgeIDs(fromProm),
		"recall 100%%, no false edges, every service in its cluster and namespace")
	require.ElementsMatch(t, []string{"istio", "linkerd", "servicegraph"}, fromProm.Sources)
	for _, e := range fromProm.Edges {
		require.False(t, e.LastSeen.After(w.end), "%s -> %s seen after the world", e.Client, e.Server)
		require.False(t, e.LastSeen.Before(w.start), "%s -> %s seen before it", e.Client, e.Server)
	}

	embedded := depsGraph(t, at, "--source.openmetrics="+filepath.Join(w.dir, "metrics.om"))
	require.Equal(t, edgeNames(fromProm), edgeNames(embedded))
	for i, e := range fromProm.Edges {
		o := embedded.Edges[i]
		require.Equal(t, e.Client, o.Client)
		require.Equal(t, e.Sources, o.Sources)
		require.InEpsilon(t, e.RequestsPerSecond+1, o.RequestsPerSecond+1, 1e-9,
			"%s -> %s", e.Client, e.Server)
		require.True(t, e.LastSeen.Equal(o.LastSeen), "%s -> %s", e.Client, e.Server)
	}

	// Each output format renders the same graph.
	for _, format := range []string{"text", "dot", "mermaid"} {
		code, out, stderr := runStratus(t, "deps", "graph", "--output="+format, at,
			"--prometheus.url=http://"+addr)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, out, "checkoutservice", format)
	}
}

// TestDependencyGraphLooksBackOverTheRetention: an hour-old world is invisible to a
// 30-minute retention and found whole with the default one.
func TestDependencyGraphLooksBackOverTheRetention(t *testing.T) {
	w := simulateFixedWorld(t)
	addr := freeAddr(t)
	startPrometheus(t, "prometheus", addr, w.dataDir, "")
	later := "--at=" + w.end.Add(90*time.Minute).Format(time.RFC3339)

	code, _, stderr := runStratus(t, "deps", "graph", later, "--retention=30m",
		"--prometheus.url=http://"+addr)
	require.Equal(t, 2, code, "no edge within 30 minutes is inconclusive: %s", stderr)
	require.Contains(t, stderr, "no dependency edge")

	r := depsGraph(t, later, "--prometheus.url=http://"+addr)
	require.Equal(t, truthViews(readTruth(t, w), true), edgeNames(r),
		"without traffic nothing tells an unknown caller from a named one: both stay")
	for _, e := range r.Edges {
		require.Zero(t, e.RequestsPerSecond, "no traffic 90 minutes after the world")
	}
}

// TestServeExposesTheDependencyGraph: the graph reaches /api/v1/graph and, through
// a scraping Prometheus, the dependency families.
func TestServeExposesTheDependencyGraph(t *testing.T) {
	w := simulateWorld(t)
	sourceAddr := freeAddr(t)
	startPrometheus(t, "prometheus-source", sourceAddr, w.dataDir, "")
	stratusAddr := freeAddr(t)
	startStratus(t, stratusAddr, "--prometheus.url=http://"+sourceAddr)

	var r topology.GraphReport
	eventually(t, 30*time.Second, func() string {
		status, body := httpGet("http://"+stratusAddr+"/api/v1/graph", nil)
		if status != 200 {
			return fmt.Sprintf("/api/v1/graph: %d %s", status, body)
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return err.Error()
		}
		return ""
	})
	require.NotEmpty(t, r.Edges)
	require.Subset(t, truthEdgeNames(readTruth(t, w)), edgeNames(r))

	scraperAddr := freeAddr(t)
	startPrometheus(t, "prometheus-scraper", scraperAddr, t.TempDir(), fmt.Sprintf(
		"scrape_configs:\n- job_name: stratus\n  static_configs:\n  - targets: [%q]\n",
		stratusAddr))
	scraper := newClient(t, scraperAddr)
	eventuallyValue(t, scraper, `count(stratus_dependency_requests_per_second)`,
		float64(len(r.Edges)))
	eventuallyValue(t, scraper, `count(stratus_service_dependents)`, float64(len(r.Nodes)))
	eventuallyValue(t, scraper, `stratus_service_dependents{service="productcatalogservice"}`,
		float64(nodeByName(t, r, "productcatalogservice").Dependents))
	onPaths := 0
	for _, p := range r.CriticalPaths {
		onPaths += len(p.Nodes)
	}
	eventuallyValue(t, scraper, `count(stratus_service_critical_path)`, float64(onPaths))
	eventuallyValue(t, scraper, `count(stratus_dependency_source_up == 1)`,
		float64(len(topology.BuiltinSources())))
}

func nodeByName(t *testing.T, r topology.GraphReport, name string) topology.NodeReport {
	t.Helper()
	for _, n := range r.Nodes {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no node %s", name)
	return topology.NodeReport{}
}

// TestServeExposesCost: cost per service, of the nodes and of the world's
// inventory, reaches a scraping Prometheus, and what it sums to is what the
// resources cost: nothing lost, nothing counted twice; the ownership series
// joins the cost families in PromQL as generated rules will join them.
func TestServeExposesCost(t *testing.T) {
	w := simulateWorld(t)
	sourceAddr := freeAddr(t)
	startPrometheus(t, "prometheus-source", sourceAddr, w.dataDir, "")
	stratusAddr := freeAddr(t)
	startStratusConfig(t, stratusAddr, stratusConfig+"cost:\n  inventory: ["+
		filepath.Join(w.dir, "inventory.yaml")+"]\n", "--prometheus.url=http://"+sourceAddr)

	scraperAddr := freeAddr(t)
	startPrometheus(t, "prometheus-scraper", scraperAddr, t.TempDir(), fmt.Sprintf(
		"scrape_configs:\n- job_name: stratus\n  static_configs:\n  - targets: [%q]\n",
		stratusAddr))
	scraper := newClient(t, scraperAddr)
	eventuallyValue(t, scraper, `count(stratus_cost_info{currency="USD"})`, 1)
	eventuallyValue(t, scraper, `count(count by (cloud) (stratus_service_cost_per_hour))`, 3)
	// Conservation, through a scrape: per cloud, services (with __idle__ and
	// __unallocated__) sum to what the resources cost, the nodes and the
	// inventory's VMs, within float rounding.
	eventuallyValue(t, scraper, `count(
		abs(sum by (cloud) (stratus_service_cost_per_hour)
		    - sum by (cloud) (stratus_resource_cost_per_hour))
		< 1e-9 * sum by (cloud) (stratus_resource_cost_per_hour))`, 3)
	eventuallyValue(t, scraper,
		`count(stratus_resource_cost_per_hour{resource_type="vm"}) > bool 0`, 1)
	// Every node is priced; only the inventory's types the embedded snapshot
	// lacks (managed store classes, on-premises machines) are not.
	nodes := 0
	for _, r := range readTruth(t, w).Resources {
		if r.Kind == "kubernetes_node" {
			nodes++
		}
	}
	eventuallyValue(t, scraper,
		`count(stratus_resource_cost_per_hour{resource_type="kubernetes_node"})`, float64(nodes))
	eventuallyValue(t, scraper, `count(stratus_cost_unpriced_resources{`+
		`reason!~"unknown_product|unknown_cloud"} > 0) or vector(0)`, 0)
	eventuallyValue(t, scraper, `count(stratus_cost_unpriced_resources{`+
		`reason="unknown_cloud",cloud!="onprem"} > 0) or vector(0)`, 0)
	// Cost per team, joined from stratus_service_info as a rule would: the
	// inventory tags the world's VMs and stores with their teams.
	eventuallyValue(t, scraper, `count(sum by (team) (
		sum by (service, namespace, cluster) (stratus_service_cost_per_hour)
		* on (service, namespace, cluster) group_left (team)
		stratus_service_info{team!=""})) > bool 0`, 1)
	eventuallyValue(t, scraper, `count(
		sum by (service, namespace, cluster) (stratus_service_cost_per_hour{service!~"__.*"})
		unless on (service, namespace, cluster) stratus_service_info) or vector(0)`, 0)
}

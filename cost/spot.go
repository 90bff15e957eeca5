package cost

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/pricing"
)

// capacityLabels are the kube_node_labels labels that say a node is spot
// capacity, and the value that says so (compared without regard to case).
// kube-state-metrics emits them only when its --metric-labels-allowlist lists
// the Kubernetes label keys in the comments.
var capacityLabels = []struct{ name, spot string }{
	{"label_karpenter_sh_capacity_type", "spot"},            // karpenter.sh/capacity-type
	{"label_eks_amazonaws_com_capacity_type", "spot"},       // eks.amazonaws.com/capacityType
	{"label_cloud_google_com_gke_spot", "true"},             // cloud.google.com/gke-spot
	{"label_cloud_google_com_gke_preemptible", "true"},      // cloud.google.com/gke-preemptible
	{"label_kubernetes_azure_com_scalesetpriority", "spot"}, // kubernetes.azure.com/scalesetpriority
}

// capacityLabelGrouping returns ", label_a, label_b" for the capacity labels.
func capacityLabelGrouping() string {
	var b strings.Builder
	for _, l := range capacityLabels {
		b.WriteString(", ")
		b.WriteString(l.name)
	}
	return b.String()
}

// onDemandMatchers returns the label matchers that leave spot nodes out of a
// kube_node_labels selector, each starting with a comma. A series without the
// label matches, as its value is empty.
func onDemandMatchers() string {
	var b strings.Builder
	for _, l := range capacityLabels {
		fmt.Fprintf(&b, `, %s!~"(?i)%s"`, l.name, l.spot)
	}
	return b.String()
}

// capacityOf returns pricing.Spot when one of the capacity labels, read by
// label, says spot, else pricing.OnDemand.
func capacityOf(label func(name string) string) pricing.Purchase {
	for _, l := range capacityLabels {
		if strings.EqualFold(label(l.name), l.spot) {
			return pricing.Spot
		}
	}
	return pricing.OnDemand
}

// How a node's list price was found: values of PricedNode.PricedAs and of
// priced_as in the report.
const (
	// PricedAsOnDemand: the book's on-demand price. For a spot node, this
	// means the book has no spot price for its key and no expected spot
	// discount is configured for its cloud: the node is priced at on-demand,
	// an upper bound, and counted in stratus_cost_spot_nodes_priced_on_demand.
	PricedAsOnDemand = "on_demand"
	// PricedAsSpot: the book's spot price of the node's key.
	PricedAsSpot = "spot"
	// PricedAsSpotDiscount: the on-demand price less the expected spot
	// discount configured for the node's cloud (RecommendConfig.SpotDiscounts).
	PricedAsSpotDiscount = "spot_discount"
)

// lookupNodePrice returns the list price of a node of key bought as purchase,
// and how it was found (PricedAs*). A spot node the book has no spot price
// for takes its on-demand price less the configured spot discount of its
// cloud, else its on-demand price. The error is the on-demand lookup's: a
// node with no price at all.
func (e *Engine) lookupNodePrice(key pricing.Key, purchase pricing.Purchase,
) (pricing.Price, string, error) {
	if purchase == pricing.Spot {
		key.Purchase = pricing.Spot
		if p, err := e.cfg.Book.Lookup(key); err == nil {
			return p, PricedAsSpot, nil
		}
	}
	key.Purchase = pricing.OnDemand
	p, err := e.cfg.Book.Lookup(key)
	if err != nil || purchase != pricing.Spot {
		return p, PricedAsOnDemand, err
	}
	if d, ok := cloudPercent(e.cfg.Recommendations.SpotDiscounts, key.Cloud); ok {
		p.Value *= 1 - d/100
		return p, PricedAsSpotDiscount, nil
	}
	return p, PricedAsOnDemand, nil
}

// splitNodePrice splits a node's price between CPU and memory. A spot price
// is split in the proportion of the family's spot unit prices where the book
// has them, else of its on-demand unit prices: a spot discount lowers both
// parts of a machine alike.
func (e *Engine) splitNodePrice(p pricing.Price) (cpu, mem float64, source string, err error) {
	cpu, mem, source, err = e.cfg.Book.SplitCompute(p)
	if err != nil || p.Purchase == pricing.OnDemand || source == pricing.SplitUnitPrices {
		return cpu, mem, source, err
	}
	od := p
	od.Purchase = pricing.OnDemand
	if c, m, s, odErr := e.cfg.Book.SplitCompute(od); odErr == nil &&
		s == pricing.SplitUnitPrices {
		return c, m, s, nil
	}
	return cpu, mem, source, nil
}

// CloudCount is a number of resources of one cloud.
type CloudCount struct {
	Cloud string
	Count int
}

// SpotNodesPricedOnDemand counts, per cloud, the spot nodes priced at their
// on-demand price for want of a spot price or a configured spot discount;
// sorted by cloud, and empty when there are none.
func (s *Snapshot) SpotNodesPricedOnDemand() []CloudCount {
	counts := map[string]int{}
	for _, n := range s.Nodes {
		if n.Purchase == pricing.Spot && n.PricedAs == PricedAsOnDemand {
			counts[n.Cloud]++
		}
	}
	out := make([]CloudCount, 0, len(counts))
	for _, cloud := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, CloudCount{Cloud: cloud, Count: counts[cloud]})
	}
	return out
}

// Kinds of workload a running pod belongs to, for spot candidates: values of
// PodWorkload.Kind besides the owner kinds of kube_pod_owner (DaemonSet,
// StatefulSet, Job, ReplicaSet when no Deployment owns it, Node for static
// pods).
const (
	// WorkloadDeployment is a pod owned by a ReplicaSet that a Deployment owns.
	WorkloadDeployment = "Deployment"
	// WorkloadBare is a pod no controller owns.
	WorkloadBare = ""
)

// PodWorkload is the workload a running pod belongs to.
type PodWorkload struct {
	Namespace, Pod string
	// Kind is WorkloadDeployment, the owner kind of kube_pod_owner, or
	// WorkloadBare; Name is the workload's name.
	Kind, Name string
	// Replicas is the number of running pods of the workload, on every node.
	Replicas int
}

// nodeWorkloads returns the workload of every running pod, per node, sorted
// by namespace and pod. Running replicas are counted over every node, priced
// or not.
func nodeWorkloads(o *observations) map[NodeRef][]PodWorkload {
	type workloadKey struct{ cluster, namespace, kind, name string }
	replicas := map[workloadKey]int{}
	pods := map[podKey]PodWorkload{}
	for p := range o.running {
		if o.podNode[p] == "" {
			continue
		}
		w := PodWorkload{Namespace: p.namespace, Pod: p.pod, Kind: WorkloadBare}
		if owner, ok := o.podOwner[p]; ok && owner.name != "" {
			w.Kind, w.Name = owner.kind, owner.name
			if owner.kind == "ReplicaSet" {
				up := o.rsOwner[podKey{p.cluster, p.namespace, owner.name}]
				if up.kind == WorkloadDeployment && up.name != "" {
					w.Kind, w.Name = WorkloadDeployment, up.name
				}
			}
		}
		pods[p] = w
		if w.Kind != WorkloadBare {
			replicas[workloadKey{p.cluster, p.namespace, w.Kind, w.Name}]++
		}
	}
	out := map[NodeRef][]PodWorkload{}
	for p, w := range pods {
		w.Replicas = max(1, replicas[workloadKey{p.cluster, p.namespace, w.Kind, w.Name}])
		k := NodeRef{p.cluster, o.podNode[p]}
		out[k] = append(out[k], w)
	}
	for _, ws := range out {
		slices.SortFunc(ws, func(a, b PodWorkload) int {
			return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Pod, b.Pod))
		})
	}
	return out
}

// minSpotReplicas is the least number of running replicas of a Deployment
// whose pods may run on spot capacity: with one, a reclaimed node is an
// outage.
const minSpotReplicas = 2

// spotWorkloads reports whether a node's pods would all survive the loss of
// the node: Deployment pods with at least minSpotReplicas running replicas,
// and per-node pods (DaemonSet, static) that go with it. It returns the number
// of Deployment pods, or why the node does not qualify.
func spotWorkloads(pods []PodWorkload) (int, string) {
	deployments := 0
	for _, p := range pods {
		switch p.Kind {
		case "DaemonSet", "Node":
		case WorkloadDeployment:
			if p.Replicas < minSpotReplicas {
				return 0, fmt.Sprintf("deployment %s/%s has %d running replica", p.Namespace,
					p.Name, p.Replicas)
			}
			deployments++
		case WorkloadBare:
			return 0, fmt.Sprintf("pod %s/%s has no controller", p.Namespace, p.Pod)
		default:
			return 0, fmt.Sprintf("pod %s/%s belongs to %s %s", p.Namespace, p.Pod, p.Kind,
				p.Name)
		}
	}
	if deployments == 0 {
		return 0, "no deployment pod runs on it"
	}
	return deployments, ""
}

// spotCandidates finds on-demand nodes whose pods all belong to replicated
// Deployments (or run on every node), and prices running them as spot: the
// book's spot price of the same key, else the on-demand price less the
// configured spot discount of the node's cloud, else nothing (skipped, and
// said why). Nodes recommended as idle are left out: draining saves more.
func spotCandidates(in RecommendInput, cfg RecommendConfig, idle map[NodeRef]bool,
) ([]Recommendation, []SkippedRecommendation) {
	var (
		out     []Recommendation
		skipped []SkippedRecommendation
	)
	for _, n := range in.Nodes {
		k := NodeRef{n.Cluster, n.Name}
		if !onDemandPriced(n) || idle[k] ||
			!(n.ListPricePerHour > 0) {
			continue
		}
		deployments, _ := spotWorkloads(in.Workloads[k])
		if deployments == 0 {
			continue
		}
		spot, basis, ok := spotPrice(in, cfg, n)
		if !ok {
			skipped = append(skipped, SkippedRecommendation{Kind: KindSpotCandidate,
				ResourceID: n.ResourceID, Reason: SkipNoSpotPrice,
				Detail: fmt.Sprintf("no spot price of %s in %s %s, and no spot discount for "+
					"%s in cost.spot_discounts", n.InstanceType, n.Cloud, n.Region, n.Cloud)})
			continue
		}
		savings := (n.ListPricePerHour - spot) * (1 - n.DiscountPercent/100)
		if !(savings >= MinSavingsPerHour) || !validAmount(savings) {
			continue
		}
		out = append(out, Recommendation{
			Kind: KindSpotCandidate, ResourceID: n.ResourceID,
			Service:        identity.Service{Cluster: n.Cluster, Name: Idle},
			SavingsPerHour: savings, InstanceType: n.InstanceType, Purchase: pricing.Spot,
			UpperBound: true,
			Reason: fmt.Sprintf("%s (%s, on-demand at %s/hour) runs only pods of Deployments "+
				"with %d or more running replicas (%d pod(s)) and of DaemonSets; as spot at "+
				"%s/hour (%s)%s it saves up to %s/hour. At most: spot prices change by the "+
				"hour, and spot capacity can be reclaimed at short notice, so its pods must "+
				"tolerate being rescheduled", n.Name, n.InstanceType, num(n.ListPricePerHour),
				minSpotReplicas, deployments, num(spot), basis, discountNote(n.DiscountPercent),
				num(savings)),
		})
	}
	return out, skipped
}

// spotPrice returns the spot price of a node's key and where it came from.
func spotPrice(in RecommendInput, cfg RecommendConfig, n PricedNode) (float64, string, bool) {
	if in.Lookup != nil {
		p, err := in.Lookup(pricing.Key{Cloud: n.Cloud, Region: n.Region,
			Kind: pricing.KindCompute, Product: n.InstanceType, Purchase: pricing.Spot})
		if err == nil && p.Value >= 0 {
			return p.Value, "spot price of the price book, " + p.Source, true
		}
	}
	if d, ok := cloudPercent(cfg.SpotDiscounts, n.Cloud); ok {
		return n.ListPricePerHour * (1 - d/100),
			fmt.Sprintf("on-demand less the expected %s%% of cost.spot_discounts", num(d)), true
	}
	return 0, "", false
}

// cloudPercent returns the percentage configured for a cloud, its name
// compared without regard to case as the price book compares it.
func cloudPercent(percents map[string]float64, cloud string) (float64, bool) {
	for c, p := range percents {
		if strings.EqualFold(c, cloud) {
			return p, true
		}
	}
	return 0, false
}

// discountNote says that prices are compared after the node's discount.
func discountNote(percent float64) string {
	if percent == 0 {
		return ""
	}
	return fmt.Sprintf(", both less the %s%% discount,", num(percent))
}

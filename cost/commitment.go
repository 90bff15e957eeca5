package cost

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/pricing"
)

// NodeGroupRef names the nodes of one instance type in a cluster and region.
type NodeGroupRef struct{ Cluster, Region, InstanceType string }

// SteadyNodes is the least number of on-demand nodes of a group that ran at
// every step of the lookback, and how much history that covers: the steps
// at which the cluster had nodes at all. NaN is unknown.
type SteadyNodes struct {
	Min     float64
	History time.Duration
}

// Reasons a candidate got no recommendation: values of
// SkippedRecommendation.Reason.
const (
	// SkipShortHistory: less history than the minimum a commitment rests on.
	SkipShortHistory = "short_history"
	// SkipNoOnDemandPrice: no on-demand node of the group is priced now.
	SkipNoOnDemandPrice = "no_on_demand_price"
	// SkipNoCommittedPrice: the price book has no reserved or committed price
	// of the type, and cost.commitment_discounts none for its cloud.
	SkipNoCommittedPrice = "no_committed_price"
	// SkipNoSpotPrice: the price book has no spot price of the type, and
	// cost.spot_discounts none for its cloud.
	SkipNoSpotPrice = "no_spot_price"
)

// SkippedRecommendation is a candidate left without a recommendation, and
// why: a missing price is never taken as a saving of zero, nor guessed.
type SkippedRecommendation struct {
	Kind, ResourceID string
	// Reason is one of the Skip* constants; Detail says what was missing.
	Reason, Detail string
}

// SkippedCounts counts skipped candidates per kind and reason, sorted.
func SkippedCounts(skipped []SkippedRecommendation) []SkippedCount {
	return countPairs(skipped, func(s SkippedRecommendation) [2]string {
		return [2]string{s.Kind, s.Reason}
	}, func(k [2]string, n int) SkippedCount {
		return SkippedCount{Kind: k[0], Reason: k[1], Count: n}
	})
}

// SkippedCount is the number of candidates of one kind skipped for one reason.
type SkippedCount struct {
	Kind, Reason string
	Count        int
}

// logSkippedRecommendations logs each skipped candidate at debug level, and
// their counts per kind and reason.
func logSkippedRecommendations(logger *slog.Logger, skipped []SkippedRecommendation) {
	for _, s := range skipped {
		logger.Debug("no recommendation for a candidate", "kind", s.Kind,
			"resource_id", s.ResourceID, "reason", s.Reason, "detail", s.Detail)
	}
	for _, c := range SkippedCounts(skipped) {
		logger.Debug("candidates without a recommendation", "kind", c.Kind,
			"reason", c.Reason, "count", c.Count)
	}
}

// observeSteadyNodes runs the commitment query and returns the steady count
// of on-demand nodes of each group.
func (e *Engine) observeSteadyNodes(ctx context.Context, at time.Time,
) (map[NodeGroupRef]SteadyNodes, error) {
	cfg := e.cfg.Recommendations
	lookback := commitmentLookback(cfg)
	vec, err := e.querier.Query(ctx, commitmentQuery(e.cfg.Identity.ClusterLabel, lookback), at)
	if err != nil {
		return nil, fmt.Errorf("cost: querying steady on-demand nodes: %w", err)
	}
	out := map[NodeGroupRef]SteadyNodes{}
	for _, s := range vec {
		l := func(name string) string { return string(s.Metric[model.LabelName(name)]) }
		k := NodeGroupRef{l(e.cfg.Identity.ClusterLabel), l(labelRegion), l(labelInstanceType)}
		g, ok := out[k]
		if !ok {
			g = SteadyNodes{Min: math.NaN()}
		}
		if s.Metric[statLabel] == statSamples {
			g.History = min(lookback, time.Duration(s.Value)*recommendationStep)
		} else {
			g.Min = float64(s.Value)
		}
		out[k] = g
	}
	return out, nil
}

// commitmentLookback is the range of the commitment query: the lookback, or
// a tenth more than the minimum history of a commitment where that is longer,
// so that neither a short lookback for usage nor a gap of a few scrapes in a
// history that long (a restart of kube-state-metrics or Prometheus) rules
// commitments out: the history is the steps with data, which must cover the
// minimum.
func commitmentLookback(cfg RecommendConfig) time.Duration {
	return max(cfg.Lookback, cfg.CommitmentMinHistory+cfg.CommitmentMinHistory/10)
}

// committedPurchases are the purchase options a commitment of a cloud is
// priced at in the book: AWS reserved instances and savings plans, GCP
// committed use discounts and Azure reservations. Other clouds (price files)
// may use either.
func committedPurchases(cloud string) []pricing.Purchase {
	switch strings.ToLower(cloud) {
	case "aws":
		return []pricing.Purchase{pricing.Reserved}
	case "gcp", "azure":
		return []pricing.Purchase{pricing.Committed}
	}
	return []pricing.Purchase{pricing.Reserved, pricing.Committed}
}

// commitments recommends committing to the on-demand nodes of each type that
// ran at every step of a history of at least cfg.CommitmentMinHistory: as
// many as the least that ran, at the book's reserved (AWS) or committed (GCP,
// Azure) price of the same key, else the on-demand price less the configured
// commitment discount of the cloud, else none (skipped, and said why).
// Savings are on the basis of node prices: the cloud's discount applies to
// both prices.
func commitments(in RecommendInput, cfg RecommendConfig,
) ([]Recommendation, []SkippedRecommendation) {
	onDemand := map[NodeGroupRef][]PricedNode{}
	for _, n := range in.Nodes {
		if onDemandPriced(n) &&
			n.ListPricePerHour > 0 {
			k := NodeGroupRef{n.Cluster, n.Region, n.InstanceType}
			onDemand[k] = append(onDemand[k], n)
		}
	}

	var (
		out     []Recommendation
		skipped []SkippedRecommendation
	)
	for _, g := range slices.SortedFunc(maps.Keys(in.Usage.SteadyNodes), compareGroups) {
		steady := in.Usage.SteadyNodes[g]
		if !(steady.Min >= 1) {
			continue // nothing ran all the time, or unknown
		}
		id := g.id()
		skip := func(reason, detail string) {
			skipped = append(skipped, SkippedRecommendation{Kind: KindCommitment,
				ResourceID: id, Reason: reason, Detail: detail})
		}
		if steady.History < cfg.CommitmentMinHistory {
			skip(SkipShortHistory, fmt.Sprintf("%s of history, under the %s a commitment "+
				"rests on", model.Duration(steady.History),
				model.Duration(cfg.CommitmentMinHistory)))
			continue
		}
		nodes := onDemand[g]
		if len(nodes) == 0 {
			skip(SkipNoOnDemandPrice, "no on-demand node of the type is priced now")
			continue
		}
		n := nodes[0]
		committed, basis, purchase, ok := committedPrice(in, cfg, n)
		if !ok {
			skip(SkipNoCommittedPrice, fmt.Sprintf("no %s price of %s in %s %s, and no "+
				"commitment discount for %s in cost.commitment_discounts",
				joinPurchases(committedPurchases(n.Cloud)), n.InstanceType, n.Cloud, n.Region,
				n.Cloud))
			continue
		}
		count := min(math.Floor(steady.Min), float64(len(nodes)))
		savings := count * (n.ListPricePerHour - committed) * (1 - n.DiscountPercent/100)
		if !(savings >= MinSavingsPerHour) || !validAmount(savings) {
			continue
		}
		out = append(out, Recommendation{
			Kind: KindCommitment, ResourceID: id,
			Service:        identity.Service{Cluster: g.Cluster, Name: Idle},
			SavingsPerHour: savings, InstanceType: g.InstanceType, Purchase: purchase,
			Reason: fmt.Sprintf("at least %s on-demand %s node(s) ran at every %s step over "+
				"%s of history (%d run now); committing to %s at %s/hour each (%s) instead "+
				"of on-demand %s/hour%s saves %s/hour. A commitment binds for a year or more: "+
				"it pays only while that many keep running",
				num(count), g.InstanceType, model.Duration(recommendationStep),
				model.Duration(steady.History), len(nodes), num(count), num(committed), basis,
				num(n.ListPricePerHour), discountNote(n.DiscountPercent), num(savings)),
		})
	}
	return out, skipped
}

// committedPrice returns the committed price of a node's key, where it came
// from and the purchase option it stands for.
func committedPrice(in RecommendInput, cfg RecommendConfig, n PricedNode,
) (float64, string, pricing.Purchase, bool) {
	purchases := committedPurchases(n.Cloud)
	if in.Lookup != nil {
		for _, purchase := range purchases {
			p, err := in.Lookup(pricing.Key{Cloud: n.Cloud, Region: n.Region,
				Kind: pricing.KindCompute, Product: n.InstanceType, Purchase: purchase})
			if err == nil && p.Value >= 0 {
				return p.Value, fmt.Sprintf("%s price of the price book, %s", purchase,
					p.Source), purchase, true
			}
		}
	}
	if d, ok := cloudPercent(cfg.CommitmentDiscounts, n.Cloud); ok {
		return n.ListPricePerHour * (1 - d/100),
			fmt.Sprintf("on-demand less the expected %s%% of cost.commitment_discounts",
				num(d)), purchases[0], true
	}
	return 0, "", "", false
}

func joinPurchases(ps []pricing.Purchase) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, " or ")
}

// id returns the resource_id of a commitment: cluster/region/instance type,
// without the cluster where it is empty.
func (g NodeGroupRef) id() string {
	id := g.Region + "/" + g.InstanceType
	if g.Cluster != "" {
		id = g.Cluster + "/" + id
	}
	return id
}

func compareGroups(a, b NodeGroupRef) int {
	return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Region, b.Region),
		cmp.Compare(a.InstanceType, b.InstanceType))
}

package cost

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/pricing"
)

// EgressQueries is how many queries the NAT gateways' data processing takes:
// bytes and tags.
const EgressQueries = 2

// ResourceTypeNATData is the resource_type of a NAT gateway's data processing:
// the per-GiB charge for what passes through it, apart from the gateway's hourly
// charge (an inventory nat_gateway).
const ResourceTypeNATData = "nat_gateway_data"

// ProductNATGateway is the egress product of the price book that prices a GiB
// processed by a NAT gateway.
const ProductNATGateway = "nat-gateway"

// natDataSuffix tells a NAT gateway's data processing from the gateway itself,
// which an inventory may list under the same id.
const natDataSuffix = "#data-processed"

// BilledResourceID returns the id a billing export names a priced resource
// by: a NAT gateway's data processing is billed under the gateway's own id,
// beside its hourly charge.
func BilledResourceID(id string) string { return strings.TrimSuffix(id, natDataSuffix) }

// The NAT gateway series read (yace, namespace AWS/NATGateway, statistic Sum,
// per NatGatewayId): every byte a gateway processes enters it once, from the
// VPC (BytesInFromSource) or from the destination (BytesInFromDestination),
// and AWS charges each GiB processed whatever its direction. The two are
// summed per gateway after taking each series once (max), and divided by
// the CloudWatch period.
const (
	natGrouping   = `name, region, account_id, dimension_NatGatewayId`
	queryNATBytes = `sum by (` + natGrouping + `) (max by (__name__, ` + natGrouping + `) ` +
		`({__name__=~"aws_natgateway_bytes_in_from_(source|destination)_sum"}))`
	// %s is the list of tag_* labels of the configured tag keys.
	queryNATInfo = `max by (name%s) (aws_natgateway_info)`
)

// observedNAT is what the queries said of one NAT gateway.
type observedNAT struct {
	id, arn, region, account string
	bytesPerSecond           float64
}

// observeNATData reads the bytes NAT gateways process, prices them per GiB
// from the book's egress price of product nat-gateway (discount of the cloud,
// account and service applied) and charges them, as network, to the service
// the gateway's tags name, else to Unallocated: which service's traffic went
// through a shared gateway is not in CloudWatch.
func (p *cloudPricer) observeNATData(ctx context.Context, at time.Time) (*Result, int, error) {
	q := p.e.querier
	tagLabels := tagLabelNames(p.tagKeys)
	gateways := map[string]*observedNAT{}
	vec, err := q.Query(ctx, queryNATBytes, at)
	if err != nil {
		return nil, 1, fmt.Errorf("cost: querying NAT gateway bytes: %w", err)
	}
	period := p.cfg.CloudWatchPeriod.Seconds()
	for _, s := range vec {
		m := s.Metric
		region, account := string(m["region"]), string(m["account_id"])
		arn := string(m["name"])
		id := strings.TrimPrefix(account+"/"+region+"/"+string(m["dimension_NatGatewayId"]), "/")
		if strings.Contains(arn, ":natgateway/") {
			id = arn
		} else {
			arn = ""
		}
		gateways[id] = &observedNAT{id: id, arn: arn, region: region, account: account,
			bytesPerSecond: float64(s.Value) / period}
	}
	vec, err = q.Query(ctx, fmt.Sprintf(queryNATInfo, tagGrouping(tagLabels)), at)
	if err != nil {
		return nil, 2, fmt.Errorf("cost: querying NAT gateway tags: %w", err)
	}
	for _, s := range vec {
		addTags(p.obs.tags, s, tagLabels)
	}

	var resources []Resource
	for _, id := range slices.Sorted(maps.Keys(gateways)) {
		g := gateways[id]
		u := UnpricedNode{Type: ResourceTypeNATData, ResourceID: id + natDataSuffix,
			Cloud: "aws", Region: g.region, InstanceType: ProductNATGateway}
		svc := p.service(g.arn, "")
		if !validAmount(g.bytesPerSecond) {
			u.Reason = string(ReasonInvalidQuantity)
			u.Detail = fmt.Sprintf("bytes processed per second is %g", g.bytesPerSecond)
			p.unpriced = append(p.unpriced, u)
			continue
		}
		perGiB, err := p.lookup("aws", g.region, pricing.KindEgress, ProductNATGateway,
			g.account, svc.Name)
		if err != nil {
			p.unpricedFor(u, err)
			continue
		}
		gibPerHour := g.bytesPerSecond * secondsPerHour / bytesPerGiB
		cost := gibPerHour * perGiB
		if math.IsInf(cost, 1) {
			u.Reason, u.Detail = string(ReasonOverflow), "cost per hour overflows"
			p.unpriced = append(p.unpriced, u)
			continue
		}
		resources = append(resources, Resource{ID: u.ResourceID, Type: ResourceTypeNATData,
			InstanceType: ProductNATGateway, Cloud: "aws", Region: g.region,
			Component: ComponentNetwork, CostPerHour: cost, Service: svc})
	}
	slices.SortFunc(resources, func(a, b Resource) int { return cmp.Compare(a.ID, b.ID) })
	result, err := AllocateResourceCost(resources)
	if err != nil {
		return nil, EgressQueries, fmt.Errorf("cost: NAT gateway data: %w", err)
	}
	return result, EgressQueries, nil
}

// addTags keeps the tags an info series gives its resource, by the resource's
// ARN (its name label). Replicated series that disagree: the smallest value
// wins, so that the answer does not depend on their order.
func addTags(into map[string]map[string]string, s *model.Sample, tagLabels []tagLabel) {
	arn := string(s.Metric["name"])
	if arn == "" {
		return
	}
	values := into[arn]
	if values == nil {
		values = map[string]string{}
		into[arn] = values
	}
	for _, tl := range tagLabels {
		if v := string(s.Metric[model.LabelName(tl.label)]); v != "" {
			if old, ok := values[tl.key]; !ok || v < old {
				values[tl.key] = v
			}
		}
	}
}

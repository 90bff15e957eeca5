package cost

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
)

// alb is a load balancer at $0.0225 per hour.
func alb(shares ...Share) Resource {
	return Resource{
		ID:          "alb-1",
		Type:        "load_balancer",
		Cloud:       testCloud,
		Region:      testRegion,
		Component:   ComponentNetwork,
		CostPerHour: 0.0225,
		Shares:      shares,
	}
}

// share returns a share of service name in namespace shop.
func share(name string, weight float64) Share {
	return Share{Service: identity.Service{Namespace: "shop", Name: name}, Weight: weight}
}

func TestAllocateResourceCost(t *testing.T) {
	shop := func(name string) Key { return key("", "shop", name, ComponentNetwork) }
	for _, tc := range []struct {
		name      string
		resources []Resource
		want      map[Key]float64
		skipped   []string
	}{
		{
			name: "owned database is compute, its volume storage",
			resources: []Resource{
				{
					ID: "db-1", Type: "database", InstanceType: "db.r6g.large",
					Cloud: testCloud, Region: testRegion, Component: ComponentCompute,
					CostPerHour: 0.258, Service: identity.Service{Name: "orders"},
				},
				{
					// 100 GiB at $0.115 per GiB-month, per 730-hour month.
					ID: "vol-1", Type: "volume", Cloud: testCloud, Region: testRegion,
					Component: ComponentStorage, CostPerHour: 100 * 0.115 / 730,
					Service: identity.Service{Name: "orders"},
				},
			},
			want: map[Key]float64{
				key("", "", "orders", ComponentCompute): 0.258,
				key("", "", "orders", ComponentStorage): 11.5 / 730,
			},
		},
		{
			name: "untagged is unallocated",
			resources: []Resource{{
				ID: "i-1", Type: "vm", Cloud: testCloud, Region: testRegion,
				Component: ComponentCompute, CostPerHour: 0.0416,
				Service: identity.Service{Namespace: "ops"},
			}},
			want: map[Key]float64{key("", "ops", Unallocated, ComponentCompute): 0.0416},
		},
		{
			name:      "shared load balancer by requests",
			resources: []Resource{alb(share("web", 30), share("api", 70))},
			want:      map[Key]float64{shop("web"): 0.00675, shop("api"): 0.01575},
		},
		{
			name:      "no weights: equal split",
			resources: []Resource{alb(share("a", 0), share("b", nan), share("c", 0))},
			want:      map[Key]float64{shop("a"): 0.0075, shop("b"): 0.0075, shop("c"): 0.0075},
		},
		{
			name:      "zero weight beside positive ones gets nothing",
			resources: []Resource{alb(share("a", 0), share("b", 2))},
			want:      map[Key]float64{shop("a"): 0, shop("b"): 0.0225},
		},
		{
			name:      "negative weight: equal split, reported",
			resources: []Resource{alb(share("a", -1), share("b", 3))},
			want:      map[Key]float64{shop("a"): 0.01125, shop("b"): 0.01125},
			skipped:   []string{"resource alb-1 invalid_weights"},
		},
		{
			name:      "unknown weight beside a known one: equal split, reported",
			resources: []Resource{alb(share("a", nan), share("b", 3))},
			want:      map[Key]float64{shop("a"): 0.01125, shop("b"): 0.01125},
			skipped:   []string{"resource alb-1 invalid_weights"},
		},
		{
			name: "a share without a service is unallocated",
			resources: []Resource{alb(share("a", 1), Share{
				Service: identity.Service{Namespace: "shop"}, Weight: 2,
			})},
			want: map[Key]float64{shop("a"): 0.0075, shop(Unallocated): 0.015},
		},
		{
			name: "bad resources skipped",
			resources: []Resource{
				{Type: "vm", Component: ComponentCompute, CostPerHour: 1},
				{ID: "i-nan", Component: ComponentCompute, CostPerHour: nan},
				{ID: "i-neg", Component: ComponentCompute, CostPerHour: -1},
				{ID: "i-inf", Component: ComponentCompute, CostPerHour: math.Inf(1)},
			},
			want: map[Key]float64{},
			skipped: []string{
				"resource  no_id",
				"resource i-inf invalid_price",
				"resource i-nan invalid_price",
				"resource i-neg invalid_price",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := AllocateResourceCost(tc.resources)
			require.NoError(t, err)
			requireAllocations(t, tc.want, r)
			require.Equal(t, tc.skipped, reasons(r))
		})
	}
}

func TestAllocateResourceCostErrors(t *testing.T) {
	owned := alb(share("a", 1))
	owned.Service = identity.Service{Name: "edge"}
	badComponent := alb()
	badComponent.Component = "database"
	for _, tc := range []struct {
		name      string
		resources []Resource
		err       string
	}{
		{"twice", []Resource{alb(), alb()}, `resource "alb-1" of cloud "aws" is listed twice`},
		{
			"owner and shares",
			[]Resource{owned},
			`resource "alb-1": both an owner (//edge) and 1 shares`,
		},
		{"component", []Resource{badComponent}, `resource "alb-1": unknown component "database"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := AllocateResourceCost(tc.resources)
			require.EqualError(t, err, tc.err)
			require.Nil(t, r)
		})
	}
}

package cost_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/inventory"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/sim"
)

// TestEngineInventory prices resources outside Kubernetes next to a node: each
// charged to the owner its tags name, or to Unallocated, under its component;
// the totals include them and conservation holds.
func TestEngineInventory(t *testing.T) {
	s := newStore(t)
	s.node("n1", "aws:///us-east-1a/i-1", "m5.xlarge", "us-east-1", 4, 16)
	s.pod("shop", "checkout-1", "n1", 1, 0.5, "", "", "label_app", "checkout",
		"label_team", "payments", "label_owner", "ana")
	s.pod("shop", "checkout-2", "n1", 1, 0.5, "", "", "label_app", "checkout",
		"label_team", "payments")
	e := s.commit()

	resources := []inventory.Resource{
		// A VM tagged with the bare name of a Kubernetes service joins it.
		{ID: "i-vm1", Type: inventory.TypeVM, Cloud: "aws", Region: "us-east-1",
			Account: "111", InstanceType: "m5.large",
			Tags: map[string]string{"Service": "checkout", "team": "payments"}},
		// A volume: 100 GiB at 0.08 per GiB-month.
		{ID: "vol-1", Type: inventory.TypeVolume, Cloud: "aws", Region: "us-east-1",
			Product: "ebs-gp3", SizeGiB: 100,
			Tags: map[string]string{"service": "ledger", "team": "finance", "owner": "li"}},
		// Untagged: Unallocated.
		{ID: "i-vm2", Type: inventory.TypeVM, Cloud: "aws", Region: "us-east-1",
			InstanceType: "t3.micro"},
		// Not in the book, and no region: reported, not priced.
		{ID: "db-1", Type: inventory.TypeDatabase, Cloud: "aws", Region: "us-east-1",
			InstanceType: "db.r6g.large", Tags: map[string]string{"service": "ledger"}},
		{ID: "i-vm3", Type: inventory.TypeVM, Cloud: "aws", InstanceType: "m5.large"},
		// The node itself, listed by its instance id, and a duplicate: priced once.
		{ID: "i-1", Type: inventory.TypeVM, Cloud: "aws", Region: "us-east-1",
			InstanceType: "m5.xlarge"},
		{ID: "i-vm2", Type: inventory.TypeVM, Cloud: "aws", Region: "us-east-1",
			InstanceType: "t3.micro"},
	}
	book, err := pricing.NewBookFromConfig(pricing.Config{Discounts: []pricing.DiscountConfig{
		{Cloud: "aws", Account: "111", Percent: 10},
	}})
	require.NoError(t, err)
	snap := runEngine(t, e, cost.EngineConfig{
		Book:      book,
		Inventory: func() []inventory.Resource { return resources },
	}, fixtureAt)
	require.NoError(t, snap.Result.CheckConservation(cost.ConservationTolerance))

	priced := map[string]cost.PricedResource{}
	for _, p := range snap.Resources {
		priced[p.ID] = p
	}
	require.Len(t, priced, 3)
	checkout := identity.Service{Cluster: "c1", Namespace: "shop", Name: "checkout"}
	vm := priced["i-vm1"]
	require.Equal(t, checkout, vm.Service)
	require.Equal(t, "Service", vm.ServiceTag)
	require.Equal(t, 0.096, vm.ListPricePerHour)
	require.Equal(t, 10.0, vm.DiscountPercent)
	require.InDelta(t, 0.096*0.9, vm.CostPerHour, 1e-15)
	require.Equal(t, pricing.SourceSnapshot, vm.PriceSource)
	require.InDelta(t, 0.08*100/730, priced["vol-1"].CostPerHour, 1e-15)
	require.Equal(t, identity.Service{Name: "ledger"}, priced["vol-1"].Service)
	require.Equal(t, cost.Unallocated, priced["i-vm2"].Service.Name)

	// Against the same cycle without the inventory, the owners are charged
	// exactly the resources' cost.
	bare := runEngine(t, e, cost.EngineConfig{Book: book}, fixtureAt)
	key := func(s identity.Service, c cost.Component) cost.Key {
		return cost.Key{Service: s, Cloud: "aws", Region: "us-east-1", Component: c}
	}
	diff := charges(snap)
	for k, v := range charges(bare) {
		diff[k] -= v
	}
	require.InDelta(t, 0.096*0.9, diff[key(checkout, cost.ComponentCompute)], 1e-12)
	require.InDelta(t, 0.08*100/730,
		diff[key(identity.Service{Name: "ledger"}, cost.ComponentStorage)], 1e-15)
	require.InDelta(t, 0.0104,
		diff[key(identity.Service{Name: cost.Unallocated}, cost.ComponentCompute)], 1e-15)
	var moved float64
	for _, v := range diff {
		moved += v
	}
	require.InDelta(t, 0.096*0.9+0.08*100/730+0.0104, moved, 1e-12, "nothing else moves")

	unpriced := map[string][2]string{}
	for _, u := range snap.Unpriced {
		unpriced[u.ResourceID] = [2]string{u.Type, u.Reason}
	}
	require.Equal(t, map[string][2]string{
		"db-1":  {inventory.TypeDatabase, pricing.ReasonUnknownProduct},
		"i-vm3": {inventory.TypeVM, cost.ReasonNoRegion},
	}, unpriced)

	report := snap.Report()
	require.Len(t, report.Resources, 4, "the node and three inventory resources")
	require.InDelta(t, 0.192+0.096*0.9+0.08*100/730+0.0104, report.TotalPerHour, 1e-12)
	require.Equal(t, "ebs-gp3", report.Resources[3].InstanceType)
	require.Equal(t, "ledger", report.Resources[3].Service)
	require.Len(t, report.Unpriced, 2)
	require.Equal(t, inventory.TypeDatabase, report.Unpriced[0].ResourceType)
	require.Empty(t, report.Unpriced[0].Node)

	require.Equal(t, map[identity.Service]identity.Metadata{
		checkout:         {Team: "payments", Owner: "ana"},
		{Name: "ledger"}: {Team: "finance", Owner: "li"},
	}, snap.ServiceInfo)
	require.Equal(t, []identity.Service{{Name: "ledger"}, checkout}, snap.Services())
}

// charges sums a snapshot's allocations per key.
func charges(snap *cost.Snapshot) map[cost.Key]float64 {
	out := map[cost.Key]float64{}
	for _, a := range snap.Result.Allocations {
		out[a.Key] += a.CostPerHour
	}
	return out
}

// TestEngineSimulatedInventory prices a simulated world's virtual machines,
// databases and brokers from its inventory: every resource whose service tag is
// there (spelt "service", "Service" or "app") is charged to the service that
// truly uses it, every untagged one to Unallocated; on-premises and managed
// store types the embedded snapshot lacks are reported unpriced; team and owner
// come from the tags.
func TestEngineSimulatedInventory(t *testing.T) {
	e, w, at := simWorld(t, sim.Options{Scenario: "startup", Seed: 1, Resources: 200,
		UntaggedShare: 0.6})
	resources := w.Inventory()
	snap := runEngine(t, e, cost.EngineConfig{
		Book:      defaultBook(t),
		Inventory: func() []inventory.Resource { return resources },
	}, at)
	checkConservation(t, snap)

	truth := w.Truth()
	byID := map[string]sim.TruthResource{}
	for _, r := range truth.Resources {
		byID[r.ID] = r
	}
	require.NotEmpty(t, snap.Resources)
	var tagged, untagged int
	spellings := map[string]bool{}
	for _, p := range snap.Resources {
		r := byID[p.ID]
		spellings[p.ServiceTag] = true
		if r.Tagging == "missing" {
			require.Equal(t, cost.Unallocated, p.Service.Name, p.ID)
			untagged++
			continue
		}
		require.Equal(t, identity.Service{Name: r.TrueService}, p.Service, p.ID)
		require.Equal(t, r.Tags["team"], snap.ServiceInfo[p.Service].Team, p.ID)
		tagged++
	}
	require.Positive(t, tagged)
	require.Positive(t, untagged, "the world has untagged resources")
	require.Equal(t, map[string]bool{"": true, "service": true, "Service": true, "app": true},
		spellings)
	require.Len(t, snap.Resources, len(resources)-len(snap.Unpriced))
	for _, u := range snap.Unpriced {
		require.Contains(t, []string{pricing.ReasonUnknownCloud, pricing.ReasonUnknownProduct},
			u.Reason, "%+v", u)
		if u.Cloud != "onprem" {
			require.Contains(t, []string{inventory.TypeDatabase, inventory.TypeBroker}, u.Type,
				"every cloud VM type of the world is in the snapshot: %+v", u)
		}
	}
}

// TestEngineSimulatedEverything runs the whole engine over a simulated world
// with its inventory and its serverless functions and tasks priced from a
// price file: conservation holds per cloud and region, and the report's
// resources add up to its total.
func TestEngineSimulatedEverything(t *testing.T) {
	e, w, at := simWorld(t, sim.Options{Scenario: "startup", Seed: 2, Resources: 60,
		Serverless: true})
	prices := filepath.Join(t.TempDir(), "serverless.csv")
	require.NoError(t, os.WriteFile(prices, []byte(
		"cloud,region,kind,product,price,unit\n"+
			"aws,us-east-1,request,lambda,0.20,million-requests\n"+
			"aws,us-east-1,memory,lambda,0.0000166667,gib-second\n"+
			"aws,us-east-1,vcpu,fargate,0.04048,vcpu-hour\n"+
			"aws,us-east-1,memory,fargate,0.004445,gib-hour\n"+
			"gcp,us-central1,vcpu,cloud-run,0.000024,vcpu-second\n"+
			"gcp,us-central1,memory,cloud-run,0.0000025,gib-second\n"+
			"gcp,us-central1,request,cloud-run,0.40,million-requests\n"), 0o600))
	book, err := pricing.NewBookFromConfig(pricing.Config{Files: []string{prices}})
	require.NoError(t, err)
	truth := w.Truth()
	// The functions' memory comes from the inventory, listed by ARN or by
	// name.
	resources := w.Inventory()
	lambdas := 0
	for _, f := range truth.Serverless {
		if f.Kind == sim.ServerlessLambda {
			r := inventory.Resource{ID: f.ID, Type: inventory.TypeFunction, Cloud: f.Cloud,
				Region: f.Region, MemoryMiB: f.MemoryMiB}
			if lambdas%2 == 1 {
				r.ID, r.Name = "fn-"+f.Name, f.Name
			}
			resources = append(resources, r)
			lambdas++
		}
	}
	require.Greater(t, lambdas, 1, "functions listed both ways")
	snap := runEngine(t, e, cost.EngineConfig{
		Book:      book,
		Inventory: func() []inventory.Resource { return resources },
	}, at)
	checkConservation(t, snap)

	types := map[string]int{}
	for _, r := range snap.Result.Resources {
		types[r.Type]++
	}
	require.Positive(t, types[cost.ResourceTypeNode])
	require.Positive(t, types[inventory.TypeVM])
	require.Positive(t, types[cost.ResourceTypeFunction])
	require.Positive(t, types[cost.ResourceTypeTask])
	for _, u := range snap.Unpriced {
		require.NotEqual(t, cost.ResourceTypeFunction, u.Type, "%+v", u)
		require.NotEqual(t, cost.ResourceTypeTask, u.Type, "%+v", u)
	}

	report := snap.Report()
	var sum float64
	for _, r := range report.Resources {
		sum += r.CostPerHour
	}
	require.InEpsilon(t, report.TotalPerHour, sum, 1e-9, "resources[] adds up to the total")
}

// TestEngineReportAddsUp: with a node, an inventory VM and a NAT gateway's
// data processing, the report's resources[] add up to its total.
func TestEngineReportAddsUp(t *testing.T) {
	s := newStore(t)
	s.node("n1", "aws:///us-east-1a/i-1", "m5.xlarge", "us-east-1", 4, 16)
	s.gauge(3e9, "__name__", "aws_natgateway_bytes_in_from_source_sum", "name",
		"arn:aws:ec2:us-east-1:1:natgateway/nat-1", "region", "us-east-1",
		"dimension_NatGatewayId", "nat-1")
	resources := []inventory.Resource{{ID: "i-vm", Type: inventory.TypeVM, Cloud: "aws",
		Region: "us-east-1", InstanceType: "m5.large"}}
	snap := runEngine(t, s.commit(), cost.EngineConfig{Book: defaultBook(t),
		Inventory: func() []inventory.Resource { return resources }}, fixtureAt)
	report := snap.Report()
	types := map[string]float64{}
	var sum float64
	for _, r := range report.Resources {
		types[r.ResourceType] += r.CostPerHour
		sum += r.CostPerHour
	}
	require.Positive(t, types[cost.ResourceTypeNATData])
	require.Equal(t, cost.PriceSourceUsage, report.Resources[len(report.Resources)-1].PriceSource)
	require.Len(t, types, 3)
	require.InEpsilon(t, report.TotalPerHour, sum, 1e-12)
}

package cost

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost/billing"
	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/pricing"
)

// natGateway writes a NAT gateway's yace series, twice (two replicated
// scrapes that must count once): bytes in from the VPC and from the
// destination summed over the 300 s period.
func (f *omFixture) natGateway(id, region, name string, fromSource, fromDestination float64) {
	for _, replica := range []string{"a", "b"} {
		base := []string{"name", name, "region", region, "account_id", "123456789012",
			"dimension_NatGatewayId", id, "replica", replica}
		f.gauge("aws_natgateway_bytes_in_from_source_sum", fromSource, base...)
		f.gauge("aws_natgateway_bytes_in_from_destination_sum", fromDestination, base...)
		// Bytes out are the same bytes leaving: not charged again.
		f.gauge("aws_natgateway_bytes_out_to_destination_sum", fromSource, base...)
	}
}

// TestObserveNATData prices what NAT gateways process per GiB from the
// embedded snapshot's us-east-1 price (0.045), charged to the service the
// gateway's tags name, else to Unallocated; a gateway in a region without a
// price is reported.
func TestObserveNATData(t *testing.T) {
	f := newOMFixture()
	arn := "arn:aws:ec2:us-east-1:123456789012:natgateway/nat-0a1"
	f.natGateway("nat-0a1", "us-east-1", arn, 3e9, 6e9)
	f.gauge("aws_natgateway_info", 0, "name", arn, "tag_Service", "checkout",
		"tag_team", "payments")
	// yace could not tie this one to a tagged resource: no ARN.
	f.natGateway("nat-0b2", "us-east-1", "global", 1.5e9, 0)
	f.natGateway("nat-0c3", "eu-west-1", "arn:aws:ec2:eu-west-1:123456789012:natgateway/nat-0c3",
		1e9, 1e9)
	book, err := pricing.NewBookFromConfig(pricing.Config{Discounts: []pricing.DiscountConfig{
		{Cloud: "aws", Service: "checkout", Percent: 10},
	}})
	require.NoError(t, err)
	eng := newServerlessEngine(t, f.load(t), book, CloudUsageConfig{})
	result, unpriced, meta, queries, err := eng.observeCloudUsage(context.Background(), cuAt, nil, nil)
	require.NoError(t, err)
	require.Equal(t, CloudUsageQueries, queries)

	gib := func(bytesPerPeriod float64) float64 { return bytesPerPeriod / 300 * 3600 / (1 << 30) }
	got := map[string]ResourceCost{}
	for _, r := range result.Resources {
		got[r.ID] = r
	}
	require.Len(t, got, 2)
	tagged := got[arn+"#data-processed"]
	require.Equal(t, ResourceTypeNATData, tagged.Type)
	require.InEpsilon(t, gib(9e9)*0.045*0.9, tagged.CostPerHour, 1e-12)
	require.InEpsilon(t, gib(1.5e9)*0.045,
		got["123456789012/us-east-1/nat-0b2#data-processed"].CostPerHour, 1e-12)

	charged := map[identity.Service]float64{}
	for _, a := range result.Allocations {
		require.Equal(t, ComponentNetwork, a.Component)
		charged[a.Service] += a.CostPerHour
	}
	require.InEpsilon(t, gib(9e9)*0.045*0.9, charged[identity.Service{Name: "checkout"}], 1e-12)
	require.InEpsilon(t, gib(1.5e9)*0.045, charged[identity.Service{Name: Unallocated}], 1e-12)
	require.Equal(t, map[identity.Service]identity.Metadata{
		{Name: "checkout"}: {Team: "payments"}}, meta.Result())

	require.Len(t, unpriced, 1)
	require.Equal(t, ResourceTypeNATData, unpriced[0].Type)
	require.Equal(t, pricing.ReasonUnknownProduct, unpriced[0].Reason)
	require.NoError(t, result.CheckConservation(ConservationTolerance))
}

func TestObserveNATDataErrors(t *testing.T) {
	e := newOMFixture().load(t)
	for ok, want := range map[int]string{
		9:  "cost: querying Azure Functions: connection refused",
		10: "cost: querying Azure Functions: connection refused",
		11: "cost: querying NAT gateway bytes: connection refused",
		12: "cost: querying NAT gateway tags: connection refused",
	} {
		eng := newServerlessEngine(t, &failingQuerier{Querier: e, ok: ok},
			serverlessBook(t, serverlessPrices), CloudUsageConfig{})
		_, _, _, queries, err := eng.observeCloudUsage(context.Background(), cuAt, nil, nil)
		require.EqualError(t, err, want)
		require.Equal(t, ok+1, queries)
	}

	// Bytes that are not a number are reported, never charged as zero.
	f := newOMFixture()
	f.natGateway("nat-1", "us-east-1", "x", -5, 0)
	book, err := pricing.NewBookFromConfig(pricing.Config{})
	require.NoError(t, err)
	eng := newServerlessEngine(t, f.load(t), book, CloudUsageConfig{})
	result, unpriced, _, _, err := eng.observeCloudUsage(context.Background(), cuAt, nil, nil)
	require.NoError(t, err)
	require.Empty(t, result.Resources)
	require.Len(t, unpriced, 1)
	require.Equal(t, string(ReasonInvalidQuantity), unpriced[0].Reason)
	require.Contains(t, unpriced[0].Detail, "bytes processed per second is -")
}

// TestNATDataReconciles: a gateway's hourly charge and its data processing,
// two resources of the estimate, are billed under the gateway's one id; both
// estimates meet the bill there.
func TestNATDataReconciles(t *testing.T) {
	arn := "arn:aws:ec2:us-east-1:1:natgateway/nat-0a1"
	require.Equal(t, arn, BilledResourceID(arn+natDataSuffix))
	require.Equal(t, arn, BilledResourceID(arn))
	rec := Reconcile(ReconcileInput{
		Rows: []billing.Row{row("aws", arn, 0, 0.045, 0.045), row("aws", arn, 0, 4.5, 4.5)},
		Estimates: []ResourceHourEstimate{
			estimate("aws", BilledResourceID(arn), 0, 0.045),
			estimate("aws", BilledResourceID(arn+natDataSuffix), 0, 4.5),
		},
	})
	require.Len(t, rec.Clouds, 1)
	require.InDelta(t, 0, rec.Clouds[0].ErrorRatio(), 1e-12)
	require.Zero(t, rec.Clouds[0].EstimatedUnmatched)
}

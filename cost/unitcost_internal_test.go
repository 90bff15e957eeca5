package cost

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/inventory"
)

func TestServiceMatcher(t *testing.T) {
	svc := func(c, ns, n string) identity.Service {
		return identity.Service{Cluster: c, Namespace: ns, Name: n}
	}
	costs := map[identity.Service]float64{
		svc("c1", "shop", "web"): 1, svc("c2", "shop", "web"): 1,
		svc("c1", "other", "web"): 1, svc("c1", "shop", "cart"): 1,
	}
	match := serviceMatcher(costs, nil, identity.Config{
		Aliases: map[string]string{"basket": "shop/cart"}})
	for _, tc := range []struct {
		cluster, namespace, name string
		want                     identity.Service
		ok                       bool
	}{
		{"c2", "shop", "web", svc("c2", "shop", "web"), true},          // exact
		{"collector", "other", "web", svc("c1", "other", "web"), true}, // one in the namespace
		{"collector", "shop", "web", identity.Service{}, false},        // two clusters
		{"", "", "web", identity.Service{}, false},                     // three
		{"", "", "cart", svc("c1", "shop", "cart"), true},              // the only one
		{"", "", "basket", svc("c1", "shop", "cart"), true},            // an alias
		{"", "", "", identity.Service{}, false},
	} {
		got, ok := match(tc.cluster, tc.namespace, tc.name)
		require.Equal(t, tc.ok, ok, "%+v", tc)
		require.Equal(t, tc.want, got, "%+v", tc)
	}
}

func TestComponentOf(t *testing.T) {
	require.Equal(t, ComponentStorage, componentOf(inventory.TypeBucket))
	require.Equal(t, ComponentNetwork, componentOf(inventory.TypeLoadBalancer))
	require.Equal(t, ComponentNetwork, componentOf(inventory.TypeNATGateway))
	require.Equal(t, ComponentCompute, componentOf(inventory.TypeDatabase))
}

func TestInventoryFunctionMemory(t *testing.T) {
	memory := inventoryFunctionMemory([]inventory.Resource{
		{ID: "arn:a", Type: inventory.TypeFunction, Cloud: "aws", MemoryMiB: 128},
		{ID: "x", Name: "resize", Type: inventory.TypeFunction, Cloud: "aws",
			Region: "us-east-1", MemoryMiB: 256},
		{ID: "y", Name: "resize", Type: inventory.TypeFunction, Cloud: "aws",
			Region: "eu-west-1", MemoryMiB: 512},
		{ID: "z", Name: "thumb", Type: inventory.TypeFunction, Cloud: "aws", MemoryMiB: 1024},
		{ID: "/s/app", Type: inventory.TypeFunction, Cloud: "azure"}, // no memory: not listed
		{ID: "vm", Type: inventory.TypeVM, Cloud: "aws"},
	})
	for _, tc := range []struct {
		ref  FunctionRef
		want float64
		ok   bool
	}{
		{FunctionRef{Cloud: "aws", ID: "arn:a"}, 128, true},
		{FunctionRef{Cloud: "aws", Region: "us-east-1", ID: "arn:r", Name: "resize"}, 256, true},
		{FunctionRef{Cloud: "aws", Region: "eu-west-1", ID: "arn:r2", Name: "resize"}, 512, true},
		{FunctionRef{Cloud: "aws", Region: "ap-south-1", ID: "arn:r3", Name: "resize"}, 0, false},
		{FunctionRef{Cloud: "aws", Region: "ap-south-1", ID: "arn:t", Name: "thumb"}, 1024, true},
		{FunctionRef{Cloud: "azure", ID: "/s/app"}, 0, false},
		{FunctionRef{Cloud: "gcp", ID: "arn:a"}, 0, false},
	} {
		got, ok := memory(tc.ref)
		require.Equal(t, tc.ok, ok, "%+v", tc.ref)
		require.Equal(t, tc.want, got, "%+v", tc.ref)
	}
}

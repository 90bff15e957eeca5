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

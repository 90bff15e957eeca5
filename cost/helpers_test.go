package cost

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
)

// nan is an unknown value.
var nan = math.NaN()

// Cloud and region of the hand-computed cases.
const (
	testCloud  = "aws"
	testRegion = "eu-west-1"
)

// key returns the allocation key of a service in the test cloud and region.
func key(cluster, namespace, name string, c Component) Key {
	return Key{
		Service:   identity.Service{Cluster: cluster, Namespace: namespace, Name: name},
		Cloud:     testCloud,
		Region:    testRegion,
		Component: c,
	}
}

// idleKey returns the Idle key of a cluster in the test cloud and region.
func idleKey(cluster string, c Component) Key {
	return key(cluster, "", Idle, c)
}

// requireAllocations checks that r holds exactly the wanted allocations, each to
// 1e-12, and that it conserves cost.
func requireAllocations(t *testing.T, want map[Key]float64, r *Result) {
	t.Helper()
	got := make(map[Key]float64, len(r.Allocations))
	for _, a := range r.Allocations {
		got[a.Key] = a.CostPerHour
	}
	for k, v := range want {
		require.Contains(t, got, k)
		require.InDelta(t, v, got[k], 1e-12, "%+v", k)
	}
	require.Len(t, got, len(want), "allocations: %+v", r.Allocations)
	require.NoError(t, r.CheckConservation(ConservationTolerance))
}

// reasons returns the "kind id reason" of each skip, in order.
func reasons(r *Result) []string {
	var out []string
	for _, s := range r.Skipped {
		out = append(out, s.Kind+" "+s.ID+" "+string(s.Reason))
	}
	return out
}

// checkInvariants checks what every result must satisfy: every charge finite and
// non-negative, and conservation per cloud and region to the target tolerance.
func checkInvariants(t *testing.T, r *Result) {
	t.Helper()
	for _, a := range r.Allocations {
		require.True(t, validAmount(a.CostPerHour), "charge %+v", a)
	}
	for _, rc := range r.Resources {
		require.True(t, validAmount(rc.CostPerHour), "resource %+v", rc)
	}
	require.NoError(t, r.CheckConservation(ConservationTolerance))
}

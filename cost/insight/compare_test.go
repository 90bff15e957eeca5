package insight

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
)

var (
	web    = identity.Service{Namespace: "shop", Name: "web"}
	cart   = identity.Service{Namespace: "shop", Name: "cart"}
	search = identity.Service{Namespace: "shop", Name: "search"}
	legacy = identity.Service{Namespace: "shop", Name: "legacy"}
)

// line returns a line with its factors.
func line(s identity.Service, component string, cost, replicas, size, price float64) Line {
	return Line{
		Service: s, Component: component, Cloud: "aws", CostPerHour: cost,
		Replicas: replicas, Size: size, UnitPrice: price,
	}
}

func TestCompareWindowsLines(t *testing.T) {
	ln2, ln3, ln15 := math.Log(2), math.Log(3), math.Log(1.5)
	cases := []struct {
		name          string
		before, after Line
		want          Effects
	}{
		{
			// 2 → 3 replicas, nothing else: all of 10 → 15 is the count.
			name:   "more replicas",
			before: line(web, "compute", 10, 2, 4, 1.25),
			after:  line(web, "compute", 15, 3, 4, 1.25),
			want:   Effects{Replicas: 5},
		},
		{
			// Requests of 2 → 4 vCPU per replica: all size.
			name:   "bigger requests",
			before: line(web, "compute", 8, 2, 2, 2),
			after:  line(web, "compute", 16, 2, 4, 2),
			want:   Effects{Size: 8},
		},
		{
			// 2 → 4 replicas and a price of 1 → 1.5: 10 → 30. The logarithmic
			// mean is 20 / ln 3, so replicas take 20 ln 2 / ln 3 and price
			// 20 ln 1.5 / ln 3.
			name:   "replicas and price",
			before: line(web, "compute", 10, 2, 5, 1),
			after:  line(web, "compute", 30, 4, 5, 1.5),
			want:   Effects{Replicas: 20 * ln2 / ln3, Price: 20 * ln15 / ln3},
		},
		{
			// Twice the replicas at the same cost: the rest (usage above
			// requests fell by half) offsets the count exactly. The weight is
			// the cost itself, 10.
			name:   "same cost, offsetting",
			before: line(web, "compute", 10, 2, 1, 1),
			after:  line(web, "compute", 10, 4, 1, 1),
			want:   Effects{Replicas: 10 * ln2, Other: -10 * ln2},
		},
		{
			name:   "factors unknown",
			before: line(web, "memory", 10, nan, 0, -1),
			after:  line(web, "memory", 12, 3, math.Inf(1), 1),
			want:   Effects{Other: 2},
		},
		{
			name:   "usage above requests",
			before: line(web, "memory", 10, 2, 4, 1.25),
			after:  line(web, "memory", 12, 2, 4, 1.25),
			want:   Effects{Other: 2},
		},
		{
			name:   "component added",
			before: line(web, "storage", 0, 0, 0, 0),
			after:  line(web, "storage", 2, 0, 0, 0),
			want:   Effects{Added: 2},
		},
		{
			name:   "component removed",
			before: line(web, "network", 1, 0, 0, 0),
			after:  line(web, "network", 0, 0, 0, 0),
			want:   Effects{Removed: -1},
		},
		{
			name:   "nothing either side",
			before: line(web, "network", 0, 0, 0, 0),
			after:  line(web, "network", 0, 0, 0, 0),
		},
		{
			// Close costs: ln(after/before) through log1p, not rounded to 0.
			name:   "almost equal",
			before: line(web, "compute", 1e10, 2, 1, 1),
			after:  line(web, "compute", math.Nextafter(1e10, 2e10), 2, 1, 1),
			want:   Effects{Other: math.Nextafter(1e10, 2e10) - 1e10},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A second line keeps the service continuing when this one empties.
			anchor := line(web, "anchor", 1, 0, 0, 0)
			got, err := CompareWindows([]Line{c.before, anchor}, []Line{c.after, anchor})
			require.NoError(t, err)
			var lc LineChange
			for _, l := range got.Lines {
				if l.Component == c.before.Component {
					lc = l
				}
			}
			require.InDelta(t, c.after.CostPerHour-c.before.CostPerHour, lc.Difference, 0)
			requireEffects(t, c.want, lc.Effects, 1e-12)
			require.InDelta(t, lc.Difference, lc.Effects.Sum(), 1e-12*max(1, lc.Before))
		})
	}
}

// requireEffects compares effects to a relative tolerance.
func requireEffects(t *testing.T, want, got Effects, tolerance float64) {
	t.Helper()
	for _, f := range []struct {
		name      string
		want, got float64
	}{
		{"replicas", want.Replicas, got.Replicas},
		{"size", want.Size, got.Size},
		{"price", want.Price, got.Price},
		{"other", want.Other, got.Other},
		{"new service", want.NewService, got.NewService},
		{"removed service", want.RemovedService, got.RemovedService},
		{"added", want.Added, got.Added},
		{"removed", want.Removed, got.Removed},
	} {
		require.InDelta(t, f.want, f.got, tolerance*max(1, math.Abs(f.want)), f.name)
	}
}

// TestCompareWindowsFeature is the user scenario: a new feature adds a search
// service, scales web out, gives cart bigger requests, and retires legacy, while
// the memory price drops.
func TestCompareWindowsFeature(t *testing.T) {
	before := []Line{
		line(web, "compute", 10, 2, 2, 2.5),
		line(web, "memory", 4, 2, 8, 0.25),
		line(cart, "compute", 6, 3, 1, 2),
		{Service: legacy, Component: "compute", Cloud: "gcp", CostPerHour: 3},
		{Service: legacy, Component: "storage", Cloud: "gcp", CostPerHour: 1},
		line(cart, "zero", 0, 0, 0, 0),
	}
	after := []Line{
		line(web, "compute", 15, 3, 2, 2.5),   // replicas +5
		line(web, "memory", 4.8, 3, 8, 0.2),   // replicas and price
		line(cart, "compute", 12, 3, 2, 2),    // size +6
		line(search, "compute", 7, 1, 2, 3.5), // new
		line(search, "storage", 0.5, 0, 0, 0), // new
		line(cart, "zero", 0, 0, 0, 0),
		{Service: web, Component: "network", Cloud: "aws", CostPerHour: nan}, // skipped
	}
	got, err := CompareWindows(before, after)
	require.NoError(t, err)

	require.InDelta(t, 24, got.Before, 1e-12)
	require.InDelta(t, 39.3, got.After, 1e-12)
	require.InDelta(t, 15.3, got.Difference, 1e-12)
	require.InDelta(t, got.Difference, got.Effects.Sum(), 1e-12)

	// Memory 4 → 4.8: replicas 2 → 3 and price 0.25 → 0.2, ratio 1.2. The
	// logarithmic mean is 0.8 / ln 1.2.
	memoryWeight := 0.8 / math.Log(1.2)
	requireEffects(t, Effects{
		Replicas:       5 + memoryWeight*math.Log(1.5),
		Size:           6,
		Price:          memoryWeight * math.Log(0.8),
		NewService:     7.5,
		RemovedService: -4,
	}, got.Effects, 1e-12)

	require.Len(t, got.Skipped, 1)
	require.Equal(t, "after", got.Skipped[0].Window)
	require.Equal(t, "network", got.Skipped[0].Line.Component) // its NaN equals nothing

	var services []string
	for _, s := range got.Services {
		services = append(services, s.Service.Name+":"+string(s.Status))
	}
	// search +7.5, web +5.8, cart +6, legacy -4: by size of the difference.
	require.Equal(t, []string{"search:new", "cart:continuing", "web:continuing", "legacy:removed"},
		services)
	require.InDelta(t, 7.5, got.Services[0].Effects.NewService, 1e-12)
	require.InDelta(t, -4, got.Services[3].Effects.RemovedService, 1e-12)

	var components []string
	for _, c := range got.Components {
		components = append(components, c.Name)
	}
	// compute +15+... : 5 + 6 + 7 - 3 = 15; memory 0.8; storage 0.5 - 1; zero 0.
	require.Equal(t, []string{"compute", "memory", "storage", "zero"}, components)
	require.InDelta(t, 15, got.Components[0].Difference, 1e-12)

	require.Equal(t, "aws", got.Clouds[0].Name)
	require.InDelta(t, 19.3, got.Clouds[0].Difference, 1e-12)
	require.Equal(t, "gcp", got.Clouds[1].Name)
	require.InDelta(t, -4, got.Clouds[1].Difference, 1e-12)

	require.Len(t, got.Lines, 8)
	require.Equal(t, search, got.Lines[0].Service) // +7 first
}

func TestCompareWindowsBadInput(t *testing.T) {
	_, err := CompareWindows([]Line{line(web, "compute", 1, 0, 0, 0), line(web, "compute", 2, 0, 0, 0)}, nil)
	require.ErrorContains(t, err, `window before: service "/shop/web" component "compute" cloud "aws" is listed twice`)

	got, err := CompareWindows(
		[]Line{line(web, "compute", -1, 0, 0, 0), line(web, "memory", math.Inf(1), 0, 0, 0)},
		[]Line{line(web, "compute", 2e15, 0, 0, 0)})
	require.NoError(t, err)
	require.Len(t, got.Skipped, 3)
	require.Empty(t, got.Lines)
	require.Zero(t, got.Difference)
}

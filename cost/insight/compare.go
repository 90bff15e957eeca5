package insight

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/stratus-monitoring/stratus/identity"
)

// maxLineCost is the largest cost a line may have. No bill comes near it, and below
// it no effect can overflow.
const maxLineCost = 1e15

// Line is the cost of one service, component and cloud over a window, with what is
// known of the factors behind it.
type Line struct {
	Service identity.Service
	// Component is the `component` label: compute, memory, storage or network.
	// Any string is accepted.
	Component string
	Cloud     string
	// CostPerHour is the mean cost per hour over the window. (Any cost will do,
	// as long as both windows are of the same length and in the same unit.) It
	// must be a finite number >= 0, at most 1e15.
	CostPerHour float64
	// Replicas is the mean number of replicas (pods, instances, tasks) over the
	// window; Size the mean size of one (vCPUs, GiB) in the unit UnitPrice is the
	// price of; UnitPrice the mean price of one unit for one hour. A factor that
	// is 0, negative, NaN or infinite is unknown.
	Replicas  float64
	Size      float64
	UnitPrice float64
}

// lineKey identifies a line within a window.
type lineKey struct {
	service   identity.Service
	component string
	cloud     string
}

// compareLineKeys orders lines by service (cluster, namespace, name), component
// and cloud.
func compareLineKeys(a, b lineKey) int {
	return cmp.Or(
		compareServices(a.service, b.service),
		cmp.Compare(a.component, b.component),
		cmp.Compare(a.cloud, b.cloud),
	)
}

// compareServices orders services by cluster, namespace and name.
func compareServices(a, b identity.Service) int {
	return cmp.Or(
		cmp.Compare(a.Cluster, b.Cluster),
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
	)
}

// Effects split a difference in cost by cause. They sum to the difference.
type Effects struct {
	// Replicas is the effect of the number of replicas (the count effect).
	Replicas float64
	// Size is the effect of bigger or smaller instances or requests.
	Size float64
	// Price is the effect of the price per unit.
	Price float64
	// Other is what the known factors do not explain: usage above requests,
	// resources that ran for part of a window, and the whole change of a line
	// whose factors are not known.
	Other float64
	// NewService is the cost of services that cost nothing before, and
	// RemovedService the (negative) cost of those that cost nothing after.
	NewService     float64
	RemovedService float64
	// Added is the cost of components or clouds that a continuing service did not
	// have before, and Removed the (negative) cost of those it no longer has.
	Added   float64
	Removed float64
}

// Sum returns the sum of the effects.
func (e Effects) Sum() float64 {
	return e.Replicas + e.Size + e.Price + e.Other +
		e.NewService + e.RemovedService + e.Added + e.Removed
}

// add adds o to e.
func (e *Effects) add(o Effects) {
	e.Replicas += o.Replicas
	e.Size += o.Size
	e.Price += o.Price
	e.Other += o.Other
	e.NewService += o.NewService
	e.RemovedService += o.RemovedService
	e.Added += o.Added
	e.Removed += o.Removed
}

// Change is the cost of something before and after, the difference, and its split
// by cause.
type Change struct {
	Before     float64
	After      float64
	Difference float64
	Effects    Effects
}

// add adds o to c.
func (c *Change) add(o Change) {
	c.Before += o.Before
	c.After += o.After
	c.Difference += o.Difference
	c.Effects.add(o.Effects)
}

// LineChange is the change of one service, component and cloud.
type LineChange struct {
	Service   identity.Service
	Component string
	Cloud     string
	Change
}

// ServiceStatus says whether a service is new, removed or in both windows.
type ServiceStatus string

// Statuses of a service.
const (
	// ServiceNew is a service that cost nothing before.
	ServiceNew ServiceStatus = "new"
	// ServiceRemoved is a service that costs nothing after.
	ServiceRemoved ServiceStatus = "removed"
	// ServiceContinuing is a service with cost in both windows (or in neither).
	ServiceContinuing ServiceStatus = "continuing"
)

// ServiceChange is the change of one service, summed over its lines.
type ServiceChange struct {
	Service identity.Service
	Status  ServiceStatus
	Change
}

// GroupChange is the change of one component or one cloud, summed over services.
type GroupChange struct {
	Name string
	Change
}

// SkippedLine is a line left out of a comparison because its cost is NaN, infinite,
// negative or larger than 1e15.
type SkippedLine struct {
	// Window is "before" or "after".
	Window string
	Line   Line
}

// Comparison is what drove the difference in cost between two windows. Every list
// is sorted by the size of its difference, largest first, then by name, so that the
// top drivers come first.
type Comparison struct {
	// Change is the total: its Effects split the whole difference by cause.
	Change
	Services   []ServiceChange
	Components []GroupChange
	Clouds     []GroupChange
	Lines      []LineChange
	// Skipped are the lines left out, in input order, before then after.
	Skipped []SkippedLine
}

// CompareWindows attributes the difference between the cost of two windows to
// services, components, clouds and causes (see the package documentation). An
// error is input the caller built wrong: the same service, component and cloud
// twice in one window.
func CompareWindows(before, after []Line) (Comparison, error) {
	var c Comparison
	windows := [2]map[lineKey]Line{}
	for i, lines := range [2][]Line{before, after} {
		name := [2]string{"before", "after"}[i]
		windows[i] = make(map[lineKey]Line, len(lines))
		for _, l := range lines {
			if !validCost(l.CostPerHour) || l.CostPerHour > maxLineCost {
				c.Skipped = append(c.Skipped, SkippedLine{Window: name, Line: l})
				continue
			}
			k := lineKey{l.Service, l.Component, l.Cloud}
			if _, dup := windows[i][k]; dup {
				return Comparison{}, fmt.Errorf("window %s: service %q component %q cloud %q "+
					"is listed twice", name, l.Service, l.Component, l.Cloud)
			}
			windows[i][k] = l
		}
	}

	totals := make(map[identity.Service]*[2]float64)
	for i, w := range windows {
		for _, k := range slices.SortedFunc(maps.Keys(w), compareLineKeys) {
			sumInto(totals, k.service, i, w[k].CostPerHour)
		}
	}
	statuses := make(map[identity.Service]ServiceStatus, len(totals))
	for service, t := range totals {
		statuses[service] = status(t[0], t[1])
	}

	keys := slices.Collect(maps.Keys(windows[0]))
	for k := range windows[1] {
		if _, ok := windows[0][k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareLineKeys)

	services := make(map[identity.Service]*ServiceChange)
	components := make(map[string]*GroupChange)
	clouds := make(map[string]*GroupChange)
	for _, k := range keys {
		lc := LineChange{
			Service:   k.service,
			Component: k.component,
			Cloud:     k.cloud,
			Change:    lineChange(windows[0][k], windows[1][k], statuses[k.service]),
		}
		c.Lines = append(c.Lines, lc)
		c.add(lc.Change)
		group(services, k.service, func() *ServiceChange {
			return &ServiceChange{Service: k.service, Status: statuses[k.service]}
		}).add(lc.Change)
		group(components, k.component, func() *GroupChange {
			return &GroupChange{Name: k.component}
		}).add(lc.Change)
		group(clouds, k.cloud, func() *GroupChange {
			return &GroupChange{Name: k.cloud}
		}).add(lc.Change)
	}

	c.Services = sortedChanges(services, func(a, b ServiceChange) int {
		return compareServices(a.Service, b.Service)
	})
	byName := func(a, b GroupChange) int { return cmp.Compare(a.Name, b.Name) }
	c.Components = sortedChanges(components, byName)
	c.Clouds = sortedChanges(clouds, byName)
	slices.SortStableFunc(c.Lines, func(a, b LineChange) int {
		return compareDifferences(a.Difference, b.Difference)
	})
	return c, nil
}

// status returns the status of a service that cost before and after in the two
// windows.
func status(before, after float64) ServiceStatus {
	switch {
	case before == 0 && after > 0:
		return ServiceNew
	case before > 0 && after == 0:
		return ServiceRemoved
	}
	return ServiceContinuing
}

// lineChange splits the change of one line (a zero Line where it is absent) by
// cause.
func lineChange(before, after Line, s ServiceStatus) Change {
	c := Change{
		Before:     before.CostPerHour,
		After:      after.CostPerHour,
		Difference: after.CostPerHour - before.CostPerHour,
	}
	switch {
	case s == ServiceNew:
		c.Effects.NewService = c.Difference
	case s == ServiceRemoved:
		c.Effects.RemovedService = c.Difference
	case c.Before == 0:
		c.Effects.Added = c.Difference
	case c.After == 0:
		c.Effects.Removed = c.Difference
	default:
		c.Effects = divisia(before, after)
	}
	return c
}

// divisia splits the change of a line that costs something in both windows by the
// logarithmic mean Divisia index. Other takes the remainder, so that the effects
// sum to the difference.
func divisia(before, after Line) Effects {
	weight := before.CostPerHour
	if after.CostPerHour != before.CostPerHour {
		weight = (after.CostPerHour - before.CostPerHour) /
			logRatio(before.CostPerHour, after.CostPerHour)
	}

	var e Effects
	e.Replicas = weight * factorLogRatio(before.Replicas, after.Replicas)
	e.Size = weight * factorLogRatio(before.Size, after.Size)
	e.Price = weight * factorLogRatio(before.UnitPrice, after.UnitPrice)
	e.Other = (after.CostPerHour - before.CostPerHour) - e.Replicas - e.Size - e.Price
	return e
}

// factorLogRatio is ln(after / before) for a factor known in both windows, and 0
// for one that is not: its change is then part of Other.
func factorLogRatio(before, after float64) float64 {
	known := func(v float64) bool { return v > 0 && !math.IsInf(v, 1) }
	if !known(before) || !known(after) {
		return 0
	}
	return logRatio(before, after)
}

// logRatio is ln(after / before) for positive finite numbers. Near 1 it goes
// through log1p, which keeps the ratio of two close numbers from rounding to 0.
func logRatio(before, after float64) float64 {
	if math.Abs(after-before) <= before {
		return math.Log1p((after - before) / before)
	}
	return math.Log(after) - math.Log(before)
}

// group returns the entry under k, creating it with create on first use.
func group[K comparable, V any](m map[K]*V, k K, create func() *V) *V {
	v, ok := m[k]
	if !ok {
		v = create()
		m[k] = v
	}
	return v
}

// sumInto adds v to the i-th sum under k.
func sumInto[K comparable](m map[K]*[2]float64, k K, i int, v float64) {
	group(m, k, func() *[2]float64 { return new([2]float64) })[i] += v
}

// changer is a change with a name: a ServiceChange or a GroupChange.
type changer interface {
	difference() float64
}

// difference returns the difference of c; ServiceChange and GroupChange have it
// too.
func (c Change) difference() float64 { return c.Difference }

// sortedChanges returns the changes of m by the size of their difference, largest
// first, then by name.
func sortedChanges[K comparable, V changer](m map[K]*V, byName func(a, b V) int) []V {
	changes := make([]V, 0, len(m))
	for _, v := range m {
		changes = append(changes, *v)
	}
	slices.SortFunc(changes, func(a, b V) int {
		return cmp.Or(compareDifferences(a.difference(), b.difference()), byName(a, b))
	})
	return changes
}

// compareDifferences orders differences by size, largest first.
func compareDifferences(a, b float64) int {
	return cmp.Compare(math.Abs(b), math.Abs(a))
}

// Package cost attributes the hourly cost of cloud resources to services.
//
// Everything here is a pure function over typed inputs for one evaluation step: no
// I/O, no clock, no Prometheus queries. The caller reads utilization, requests and
// inventory from Prometheus, prices from the price book, and hands them in as plain
// numbers in the configured currency per hour.
//
// # Conservation
//
// Every cost that enters leaves as an allocation: the sum of allocations, including
// the sentinel services [Unallocated] and [Idle], equals the total cost of the
// resources per cloud and per cloud and region. The totals in a [Result] are summed
// from the input prices, never from the allocations, so that
// [Result.CheckConservation] compares two independent figures.
//
// # Kubernetes nodes
//
// [AllocateNodeCost] splits each node's price into a CPU part (component compute) and
// a memory part (component memory) in the ratio of the node's per-vCPU-hour and
// per-GiB-hour rates times its allocatable capacity. Only the ratio of the rates
// counts: rates from a price book rarely add up to the instance price, so both parts
// are scaled to sum to the node price exactly. Each container is charged
// max(request, usage) of each resource at the node's rate for it; a container with no
// request is charged its usage. When the charges exceed the node's part
// (over-commit), all are scaled down in proportion and idle is zero. What no
// container is charged is the node's [Idle] cost.
//
// # Other resources
//
// [AllocateResourceCost] charges a resource (virtual machine, managed database,
// volume, load balancer, egress) to its owner, to several services by weight, or to
// [Unallocated]. [AllocateTaskCost] and [AllocateFunctionCost] price Fargate-like
// tasks and serverless functions from their measured use. [Allocate] runs them all
// and merges the results.
//
// # Features and unit cost
//
// [SplitByWork] splits one service's cost over its routes in proportion to
// requests × mean latency, and [PerRequest] gives the cost of one request, NaN when
// there is no traffic.
//
// # Bad input
//
// Input the caller built wrong (the same node, container or resource twice, an
// unknown component, a resource with both an owner and shares) is an error, and
// nothing is allocated: any result would count something twice or guess. Bad
// values in the data (a NaN, negative or infinite price or capacity, a container on
// a node that is not listed, a negative usage) are skipped and reported in
// [Result.Skipped] with a reason, so that one bad series does not stop a cycle and
// no cost disappears without a trace. Nothing here panics.
package cost

package cost

import (
	"fmt"
	"math"

	"github.com/stratus-monitoring/stratus/identity"
)

// secondsPerHour turns per-second rates (what PromQL rate() gives) into per-hour ones.
const secondsPerHour = 3600

// Task is a workload priced by the vCPUs and memory it reserves while it runs: ECS
// tasks on Fargate, or Cloud Run instances (billable instance time times the
// revision's CPU and memory). ECS tasks on EC2 share a VM: give the container
// instances to AllocateNodeCost as nodes and the tasks as containers instead.
//
// The caller computes the averages over the step, for example for Fargate from
// Container Insights (CpuReserved in CPU units of 1/1024 vCPU, MemoryReserved in MiB,
// as yace exports them) or from the task definition times RunningTaskCount.
type Task struct {
	// ID is the resource id: a task definition family or ECS service ARN, a Cloud
	// Run revision.
	ID      string
	Service identity.Service
	Cloud   string
	Region  string

	// VCPUs and MemoryGiB are what the running tasks reserve, averaged over the
	// step: vCPU-hours and GiB-hours per hour.
	VCPUs     float64
	MemoryGiB float64
	// VCPUHourPrice and GiBHourPrice are the prices of one vCPU and one GiB for
	// an hour. Prices quoted per second are multiplied by 3600 first.
	VCPUHourPrice float64
	GiBHourPrice  float64
}

// TaskCharge is the hourly cost of a Task, split as its prices are: the vCPU part
// is compute, the memory part memory.
type TaskCharge struct {
	Compute float64
	Memory  float64
}

// TaskCost prices a task: VCPUs × VCPUHourPrice for compute plus MemoryGiB ×
// GiBHourPrice for memory, per hour. A NaN, negative or infinite input, or a cost
// that overflows, is an error naming the task and the input.
func TaskCost(t Task) (TaskCharge, error) {
	charge, _, detail := t.charge()
	if detail != "" {
		return TaskCharge{}, fmt.Errorf("task %q: %s", t.ID, detail)
	}
	return charge, nil
}

// charge prices a task; a non-empty detail says why it cannot be priced.
func (t Task) charge() (charge TaskCharge, reason SkipReason, detail string) {
	if f, bad := firstInvalid(
		field{"vCPU-hour price", t.VCPUHourPrice},
		field{"GiB-hour price", t.GiBHourPrice},
	); bad {
		return TaskCharge{}, ReasonInvalidPrice, fmt.Sprintf("%s is %g", f.name, f.value)
	}
	if f, bad := firstInvalid(field{"vCPUs", t.VCPUs}, field{"memory GiB", t.MemoryGiB}); bad {
		return TaskCharge{}, ReasonInvalidQuantity, fmt.Sprintf("%s is %g", f.name, f.value)
	}
	charge = TaskCharge{Compute: t.VCPUs * t.VCPUHourPrice, Memory: t.MemoryGiB * t.GiBHourPrice}
	if math.IsInf(charge.Compute+charge.Memory, 1) {
		return TaskCharge{}, ReasonOverflow, "cost per hour overflows"
	}
	return charge, "", ""
}

// AllocateTaskCost prices each task with TaskCost and charges its compute and
// memory parts to its service, or to Unallocated when the service is not known. A
// task listed twice (same cloud and id) is an error; one without an id or with an
// input TaskCost rejects is skipped and reported.
func AllocateTaskCost(tasks []Task) (*Result, error) {
	b := newBuilder()
	for _, t := range tasks {
		if t.ID == "" {
			b.skip("task", "", t.Cloud, ReasonNoID, "task without an id")
			continue
		}
		charge, reason, detail := t.charge()
		if reason != "" {
			b.skip("task", t.ID, t.Cloud, reason, detail)
			continue
		}
		if err := b.addResource(ResourceCost{
			ID:          t.ID,
			Type:        ResourceTypeTask,
			Cloud:       t.Cloud,
			Region:      t.Region,
			CostPerHour: charge.Compute + charge.Memory,
		}); err != nil {
			return nil, err
		}
		key := Key{Service: serviceOrUnallocated(t.Service), Cloud: t.Cloud, Region: t.Region}
		key.Component = ComponentCompute
		b.charge(key, charge.Compute)
		key.Component = ComponentMemory
		b.charge(key, charge.Memory)
	}
	return b.result()
}

// Function is a serverless function priced per invocation and per GB-second of
// configured memory times duration: AWS Lambda, Google Cloud Functions (first
// generation), Azure Functions on the Consumption plan. Cloud Run and second
// generation Cloud Functions bill instance time: price them as a Task.
//
// The caller computes the rates from the exporters' series, for example:
//
//   - Lambda through yace (namespace AWS/Lambda): Invocations (Sum) and Duration
//     (Average, in milliseconds); the memory size comes from the inventory, since
//     CloudWatch does not report it. GB-seconds per second = invocations per
//     second × mean duration in seconds × memory in GB.
//   - Cloud Functions through stackdriver_exporter: function/execution_count and
//     function/execution_times (a distribution in nanoseconds), with the memory
//     from the inventory.
//   - Azure Functions: FunctionExecutionCount and FunctionExecutionUnits (in
//     MB-milliseconds: divide by 1024 × 1000 for GB-seconds).
//
// "GB" is whatever unit the price is quoted in (the clouds mean 1024 MB); use the
// same for the memory. Free tiers are not subtracted: they are account-wide credits
// that reconciliation with the bill shows.
type Function struct {
	// ID is the resource id: a function ARN or name.
	ID      string
	Service identity.Service
	Cloud   string
	Region  string

	// InvocationsPerSecond and GBSecondsPerSecond are rates over the step.
	InvocationsPerSecond float64
	GBSecondsPerSecond   float64
	// PricePerInvocation is the price of one request (a price per million
	// requests divided by a million); PricePerGBSecond the price of one
	// GB-second.
	PricePerInvocation float64
	PricePerGBSecond   float64
}

// FunctionCost prices a function per hour: 3600 × (invocations per second × price
// per invocation + GB-seconds per second × price per GB-second). A NaN, negative or
// infinite input, or a cost that overflows, is an error naming the function and the
// input.
func FunctionCost(f Function) (float64, error) {
	cost, _, detail := f.charge()
	if detail != "" {
		return 0, fmt.Errorf("function %q: %s", f.ID, detail)
	}
	return cost, nil
}

// charge prices a function; a non-empty detail says why it cannot be priced.
func (f Function) charge() (cost float64, reason SkipReason, detail string) {
	if bad, isBad := firstInvalid(
		field{"price per invocation", f.PricePerInvocation},
		field{"price per GB-second", f.PricePerGBSecond},
	); isBad {
		return 0, ReasonInvalidPrice, fmt.Sprintf("%s is %g", bad.name, bad.value)
	}
	if bad, isBad := firstInvalid(
		field{"invocations per second", f.InvocationsPerSecond},
		field{"GB-seconds per second", f.GBSecondsPerSecond},
	); isBad {
		return 0, ReasonInvalidQuantity, fmt.Sprintf("%s is %g", bad.name, bad.value)
	}
	cost = secondsPerHour * (f.InvocationsPerSecond*f.PricePerInvocation +
		f.GBSecondsPerSecond*f.PricePerGBSecond)
	if math.IsInf(cost, 1) {
		return 0, ReasonOverflow, "cost per hour overflows"
	}
	return cost, "", ""
}

// AllocateFunctionCost prices each function with FunctionCost and charges it to its
// service (or Unallocated) as compute. A function listed twice (same cloud and id)
// is an error; one without an id or with an input FunctionCost rejects is skipped
// and reported.
func AllocateFunctionCost(functions []Function) (*Result, error) {
	b := newBuilder()
	for _, f := range functions {
		if f.ID == "" {
			b.skip("function", "", f.Cloud, ReasonNoID, "function without an id")
			continue
		}
		cost, reason, detail := f.charge()
		if reason != "" {
			b.skip("function", f.ID, f.Cloud, reason, detail)
			continue
		}
		if err := b.addResource(ResourceCost{
			ID:          f.ID,
			Type:        ResourceTypeFunction,
			Cloud:       f.Cloud,
			Region:      f.Region,
			CostPerHour: cost,
		}); err != nil {
			return nil, err
		}
		b.charge(Key{
			Service:   serviceOrUnallocated(f.Service),
			Cloud:     f.Cloud,
			Region:    f.Region,
			Component: ComponentCompute,
		}, cost)
	}
	return b.result()
}

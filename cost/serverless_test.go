package cost

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
)

// fargate is a quarter vCPU and half a GiB at Fargate's list prices:
// 0.25 × 0.04048 = 0.01012 compute, 0.5 × 0.004445 = 0.0022225 memory per hour.
var fargate = Task{
	ID:            "arn:aws:ecs:eu-west-1:1:service/shop/cart",
	Service:       identity.Service{Name: "cart"},
	Cloud:         testCloud,
	Region:        testRegion,
	VCPUs:         0.25,
	MemoryGiB:     0.5,
	VCPUHourPrice: 0.04048,
	GiBHourPrice:  0.004445,
}

// lambda takes 10 requests per second of 200 ms at 512 MB: 1 GB-second per second.
// Per hour: 3600 × (10 × 0.0000002 + 1 × 0.0000166667) = 0.0072 + 0.06000012.
var lambda = Function{
	ID:                   "arn:aws:lambda:eu-west-1:1:function:thumbs",
	Service:              identity.Service{Name: "thumbs"},
	Cloud:                testCloud,
	Region:               testRegion,
	InvocationsPerSecond: 10,
	GBSecondsPerSecond:   10 * 0.2 * 0.5,
	PricePerInvocation:   0.0000002,
	PricePerGBSecond:     0.0000166667,
}

func TestTaskCost(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Task)
		want TaskCharge
		err  string
	}{
		{name: "fargate", edit: func(*Task) {}, want: TaskCharge{0.01012, 0.0022225}},
		{name: "nan price", edit: func(t *Task) { t.GiBHourPrice = nan },
			err: "GiB-hour price is NaN"},
		{name: "negative vcpus", edit: func(t *Task) { t.VCPUs = -1 }, err: "vCPUs is -1"},
		{name: "overflow", edit: func(t *Task) { t.VCPUs, t.VCPUHourPrice = 1e200, 1e200 },
			err: "cost per hour overflows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := fargate
			tc.edit(&task)
			got, err := TaskCost(task)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				require.ErrorContains(t, err, task.ID)
				return
			}
			require.NoError(t, err)
			require.InDelta(t, tc.want.Compute, got.Compute, 1e-15)
			require.InDelta(t, tc.want.Memory, got.Memory, 1e-15)
		})
	}
}

func TestFunctionCost(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Function)
		want float64
		err  string
	}{
		{name: "lambda", edit: func(*Function) {}, want: 0.0072 + 0.06000012},
		{name: "no traffic costs nothing", edit: func(f *Function) {
			f.InvocationsPerSecond, f.GBSecondsPerSecond = 0, 0
		}},
		{name: "inf price", edit: func(f *Function) { f.PricePerInvocation = math.Inf(1) },
			err: "price per invocation is +Inf"},
		{name: "nan rate", edit: func(f *Function) { f.GBSecondsPerSecond = nan },
			err: "GB-seconds per second is NaN"},
		{name: "overflow", edit: func(f *Function) {
			f.InvocationsPerSecond, f.PricePerInvocation = 1e300, 1e10
		}, err: "cost per hour overflows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := lambda
			tc.edit(&f)
			got, err := FunctionCost(f)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				require.ErrorContains(t, err, f.ID)
				return
			}
			require.NoError(t, err)
			require.InDelta(t, tc.want, got, 1e-12)
		})
	}
}

func TestAllocateTaskCost(t *testing.T) {
	unowned := fargate
	unowned.ID, unowned.Service = "task-2", identity.Service{}
	bad := fargate
	bad.ID, bad.MemoryGiB = "task-3", nan
	overflow := fargate
	overflow.ID, overflow.VCPUs, overflow.VCPUHourPrice = "task-4", 1e200, 1e200

	r, err := AllocateTaskCost([]Task{fargate, unowned, bad, overflow, {Cloud: "gcp"}})
	require.NoError(t, err)
	requireAllocations(t, map[Key]float64{
		key("", "", "cart", ComponentCompute):      0.01012,
		key("", "", "cart", ComponentMemory):       0.0022225,
		key("", "", Unallocated, ComponentCompute): 0.01012,
		key("", "", Unallocated, ComponentMemory):  0.0022225,
	}, r)
	require.Equal(t, []string{
		"task  no_id",
		"task task-3 invalid_quantity",
		"task task-4 overflow",
	}, reasons(r))
	require.Len(t, r.Resources, 2)
	require.Equal(t, ResourceTypeTask, r.Resources[0].Type)

	_, err = AllocateTaskCost([]Task{fargate, fargate})
	require.ErrorContains(t, err, "listed twice")
}

func TestAllocateFunctionCost(t *testing.T) {
	bad := lambda
	bad.ID, bad.PricePerGBSecond = "f-2", -1
	r, err := AllocateFunctionCost([]Function{lambda, bad, {Cloud: "gcp"}})
	require.NoError(t, err)
	requireAllocations(t, map[Key]float64{
		key("", "", "thumbs", ComponentCompute): 0.0072 + 0.06000012,
	}, r)
	require.Equal(t, []string{"function  no_id", "function f-2 invalid_price"}, reasons(r))
	require.Equal(t, ResourceTypeFunction, r.Resources[0].Type)

	_, err = AllocateFunctionCost([]Function{lambda, lambda})
	require.ErrorContains(t, err, "listed twice")
}

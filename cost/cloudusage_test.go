package cost

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/sim"
)

// cuAt is the evaluation time of the serverless fixtures.
var cuAt = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// omFixture writes timestamped OpenMetrics text: each series is written at
// one-minute steps over the quarter hour before cuAt.
type omFixture struct {
	families map[string][]string // family → sample lines
	types    map[string]string
	written  map[string]bool // sample name and labels of the series written
}

func newOMFixture() *omFixture {
	return &omFixture{families: map[string][]string{}, types: map[string]string{},
		written: map[string]bool{}}
}

// series writes a series whose value at a step minutes before cuAt is
// value(minutes). sample is the name of the sample (a counter's _total).
func (f *omFixture) series(family, typ, sample string, value func(ago int) float64,
	kv ...string,
) {
	var lbls []string
	for i := 0; i+1 < len(kv); i += 2 {
		lbls = append(lbls, fmt.Sprintf("%s=%q", kv[i], kv[i+1]))
	}
	set := "{" + strings.Join(lbls, ",") + "}"
	if f.written[sample+set] {
		return // a series shared by several resources, such as a cluster's
	}
	f.written[sample+set] = true
	for ago := 15; ago >= 0; ago-- {
		ts := cuAt.Add(-time.Duration(ago) * time.Minute).Unix()
		f.families[family] = append(f.families[family],
			fmt.Sprintf("%s%s %s %d", sample, set, formatOM(value(ago)), ts))
	}
	f.types[family] = typ
}

func formatOM(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	}
	return fmt.Sprint(v)
}

// gauge writes a gauge of constant value.
func (f *omFixture) gauge(name string, v float64, kv ...string) {
	f.series(name, "gauge", name, func(int) float64 { return v }, kv...)
}

// counter writes a counter growing by rate per second; total says whether
// its samples are spelt with _total, as an OpenMetrics scrape stores them.
func (f *omFixture) counter(name string, rate float64, total bool, kv ...string) {
	sample, typ := name, "unknown"
	if total {
		sample, typ = name+"_total", "counter"
	}
	f.series(name, typ, sample, func(ago int) float64 {
		return 1e4 + rate*float64(60*(15-ago))
	}, kv...)
}

// load loads the fixture into a new embedded engine.
func (f *omFixture) load(t testing.TB) *query.Embedded {
	t.Helper()
	var b strings.Builder
	names := make([]string, 0, len(f.families))
	for name := range f.families {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "# TYPE %s %s\n", name, f.types[name])
		for _, line := range f.families[name] {
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("# EOF\n")
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	require.NoError(t, e.LoadOpenMetricsReader(strings.NewReader(b.String()), "fixture"))
	return e
}

// Serverless list prices of the fixtures, written as a price file writes them.
const serverlessPrices = `cloud,region,kind,product,price,unit
aws,us-east-1,request,lambda,0.2,million-requests
aws,us-east-1,memory,lambda,0.0000166667,gib-second
aws,us-east-1,vcpu,fargate,0.04048,vcpu-hour
aws,us-east-1,memory,fargate,0.004445,gib-hour
gcp,us-central1,vcpu,cloud-run,0.000024,vcpu-second
gcp,us-central1,memory,cloud-run,0.0000025,gib-second
gcp,us-central1,request,cloud-run,0.4,million-requests
`

func serverlessBook(t testing.TB, prices string) *pricing.Book {
	t.Helper()
	parsed, err := pricing.ParsePriceFile("serverless.csv", []byte(prices), "USD")
	require.NoError(t, err)
	book := pricing.NewBook("USD")
	require.NoError(t, book.SetFilePrices(parsed))
	return book
}

func lambdaARN(name string) string {
	return "arn:aws:lambda:us-east-1:123456789012:function:" + name
}

// lambda writes a function's yace series: invocations and milliseconds of
// duration summed over the 300 s period, and its info series with tags.
func (f *omFixture) lambda(name, region string, invocations, durationMs float64,
	tags ...string,
) {
	arn := strings.Replace(lambdaARN(name), "us-east-1", region, 1)
	base := []string{"name", arn, "region", region, "account_id", "123456789012",
		"dimension_FunctionName", name}
	f.gauge("aws_lambda_invocations_sum", invocations, base...)
	f.gauge("aws_lambda_duration_sum", durationMs, base...)
	f.gauge("aws_lambda_info", 0, append([]string{"name", arn}, tags...)...)
}

// ecs writes an ECS service's Container Insights series and its tags.
func (f *omFixture) ecs(cluster, service string, cpuUnits, memMiB float64, tags ...string) {
	arn := "arn:aws:ecs:us-east-1:123456789012:service/" + cluster + "/" + service
	base := []string{"name", arn, "region", "us-east-1", "account_id", "123456789012",
		"dimension_ClusterName", cluster, "dimension_ServiceName", service}
	f.gauge("aws_ecs_containerinsights_cpu_reserved_average", cpuUnits, base...)
	f.gauge("aws_ecs_containerinsights_memory_reserved_average", memMiB, base...)
	// The cluster-wide series, which is no service's.
	f.gauge("aws_ecs_containerinsights_cpu_reserved_average", cpuUnits*10, "name",
		"arn:aws:ecs:us-east-1:123456789012:cluster/"+cluster, "region", "us-east-1",
		"dimension_ClusterName", cluster)
	if len(tags) > 0 {
		f.gauge("aws_ecs_containerinsights_info", 0, append([]string{"name", arn}, tags...)...)
	}
}

// cloudRun writes a Cloud Run revision's stackdriver_exporter counters, as
// two replicated scrapes (replica a and b) that must count once.
func (f *omFixture) cloudRun(service, revision string, cpu, memGiB, rps float64,
	total bool,
) {
	for _, replica := range []string{"a", "b"} {
		base := []string{"project_id", "p1", "location", "us-central1",
			"service_name", service, "revision_name", revision,
			"configuration_name", service, "replica", replica}
		f.counter(cloudRunPrefix+"container_cpu_allocation_time", cpu, total,
			append(base, "unit", "s{CPU}")...)
		f.counter(cloudRunPrefix+"container_memory_allocation_time", memGiB, total,
			append(base, "unit", "GiBy.s")...)
		if rps >= 0 {
			// Two response codes: each counts.
			f.counter(cloudRunPrefix+"request_count", rps*0.9, total, append(base,
				"response_code", "200", "response_code_class", "2xx", "route", "")...)
			f.counter(cloudRunPrefix+"request_count", rps*0.1, total, append(base,
				"response_code", "503", "response_code_class", "5xx", "route", "")...)
		}
	}
}

func newServerlessEngine(t testing.TB, q query.Querier, book *pricing.Book,
	cu CloudUsageConfig,
) *Engine {
	t.Helper()
	e, err := NewEngine(q, EngineConfig{Book: book, CloudUsage: cu,
		TagKeys:  identity.TagKeys{Service: []string{"service"}},
		Identity: identity.Config{Aliases: map[string]string{"api-svc": "api"}}})
	require.NoError(t, err)
	return e
}

type unpricedSummary struct{ Type, ID, Reason string }

func summarise(us []UnpricedNode) []unpricedSummary {
	out := []unpricedSummary{}
	for _, u := range us {
		out = append(out, unpricedSummary{u.Type, u.ResourceID, u.Reason})
	}
	return out
}

// TestObserveCloudUsage checks the cost of Lambda functions, Fargate services
// and Cloud Run services read from yace and stackdriver_exporter series
// against costs computed by hand, and every function or task that cannot be
// priced against its reason.
func TestObserveCloudUsage(t *testing.T) {
	f := newOMFixture()
	// 600 invocations of 250 ms in 300 s: 2 a second, 0.5 s of duration a
	// second; at 512 MiB 0.25 GiB-seconds a second.
	f.lambda("checkout-fn", "us-east-1", 600, 600*250,
		"tag_service", "checkout", "tag_team", "payments", "tag_owner", "bob")
	// Untagged; 1024 MiB from the inventory: 1 invocation and 0.1 GiB-s a second.
	f.lambda("orphan-fn", "us-east-1", 300, 300*100)
	f.lambda("nomem-fn", "us-east-1", 300, 3000, "tag_service", "checkout")
	f.lambda("nan-fn", "us-east-1", math.NaN(), 3000, "tag_service", "checkout")
	f.lambda("neg-fn", "us-east-1", 300, -5, "tag_service", "checkout")
	f.lambda("far-fn", "eu-north-1", 300, 3000, "tag_service", "checkout")
	// Only invocations: no duration series at all.
	f.gauge("aws_lambda_invocations_sum", 10, "name", lambdaARN("half-fn"),
		"region", "us-east-1")
	// 512 CPU units and 1024 MiB: 0.5 vCPU and 1 GiB. Tagged Service (another
	// spelling of the key), aliased to api.
	f.ecs("prod", "api", 512, 1024, "tag_Service", "api-svc", "tag_team", "platform")
	f.ecs("prod", "worker", 2048, 4096) // untagged: the ECS service name
	f.ecs("ec2-cluster", "batch", 4096, 8192, "tag_service", "batch")
	// frontend: 1.5 + 0.5 vCPU, 0.75 + 0.25 GiB, 6 + 4 requests a second.
	f.cloudRun("frontend", "frontend-00001", 1.5, 0.75, 6, true)
	f.cloudRun("frontend", "frontend-00002", 0.5, 0.25, 4, false)
	f.cloudRun("quiet", "quiet-00001", 1, 0.5, -1, false) // no request series: none served
	e := f.load(t)

	cu := CloudUsageConfig{
		FunctionMemoryMiB: map[string]float64{
			lambdaARN("checkout-fn"): 512, "nan-fn": 128, "neg-fn": 128, "far-fn": 128,
			"half-fn": 128,
		},
		FunctionMemory: func(ref FunctionRef) (float64, bool) {
			if ref.Name == "orphan-fn" && ref.Region == "us-east-1" && ref.Cloud == "aws" &&
				ref.Account == "123456789012" {
				return 1024, true
			}
			return 0, false
		},
		ECSEC2Clusters: []string{"ec2-cluster"},
	}
	eng := newServerlessEngine(t, e, serverlessBook(t, serverlessPrices), cu)
	result, unpriced, meta, queries, err := eng.observeCloudUsage(context.Background(), cuAt, nil, nil)
	require.NoError(t, err)
	require.Equal(t, CloudUsageQueries, queries)

	const (
		perRequestLambda = 0.2 / 1e6
		perGBSecond      = 0.0000166667
		fargateVCPU      = 0.04048
		fargateGiB       = 0.004445
		runVCPUHour      = 0.000024 * 3600
		runGiBHour       = 0.0000025 * 3600
		runPerRequest    = 0.4 / 1e6
	)
	svc := func(name string) identity.Service { return identity.Service{Name: name} }
	k := func(s identity.Service, cloud, region string, c Component) Key {
		return Key{Service: s, Cloud: cloud, Region: region, Component: c}
	}
	checkout := 3600 * (2*perRequestLambda + 0.25*perGBSecond)
	orphan := 3600 * (1*perRequestLambda + 0.1*perGBSecond)
	want := map[Key]float64{
		k(svc("checkout"), "aws", "us-east-1", ComponentCompute):  checkout,
		k(svc(Unallocated), "aws", "us-east-1", ComponentCompute): orphan,
		k(svc("api"), "aws", "us-east-1", ComponentCompute):       0.5 * fargateVCPU,
		k(svc("api"), "aws", "us-east-1", ComponentMemory):        1 * fargateGiB,
		k(svc("worker"), "aws", "us-east-1", ComponentCompute):    2 * fargateVCPU,
		k(svc("worker"), "aws", "us-east-1", ComponentMemory):     4 * fargateGiB,
		k(svc("frontend"), "gcp", "us-central1", ComponentCompute): 2*runVCPUHour +
			3600*10*runPerRequest,
		k(svc("frontend"), "gcp", "us-central1", ComponentMemory): 1 * runGiBHour,
		k(svc("quiet"), "gcp", "us-central1", ComponentCompute):   1 * runVCPUHour,
		k(svc("quiet"), "gcp", "us-central1", ComponentMemory):    0.5 * runGiBHour,
	}
	got := map[Key]float64{}
	for _, a := range result.Allocations {
		got[a.Key] = a.CostPerHour
	}
	require.Len(t, got, len(want), "%+v", result.Allocations)
	for key, v := range want {
		require.Contains(t, got, key)
		require.InEpsilon(t, v, got[key], 1e-9, "%+v", key)
	}
	require.NoError(t, result.CheckConservation(ConservationTolerance))

	resources := map[string]ResourceCost{}
	for _, r := range result.Resources {
		resources[r.ID] = r
	}
	require.Len(t, resources, 6)
	require.Equal(t, ResourceTypeFunction, resources[lambdaARN("checkout-fn")].Type)
	require.InEpsilon(t, checkout, resources[lambdaARN("checkout-fn")].CostPerHour, 1e-9)
	run := resources["projects/p1/locations/us-central1/services/frontend"]
	require.Equal(t, ResourceTypeTask, run.Type)
	require.Equal(t, ProductCloudRun, run.InstanceType)
	require.Contains(t, resources, "arn:aws:ecs:us-east-1:123456789012:service/prod/api")

	require.Equal(t, []unpricedSummary{
		{"function", "arn:aws:lambda:eu-north-1:123456789012:function:far-fn",
			pricing.ReasonUnknownRegion},
		{"function", lambdaARN("half-fn"), "invalid_quantity"},
		{"function", lambdaARN("nan-fn"), "invalid_quantity"},
		{"function", lambdaARN("neg-fn"), "invalid_quantity"},
		{"function", lambdaARN("nomem-fn"), ReasonNoMemorySize},
	}, summarise(unpriced))
	for _, u := range unpriced {
		require.NotEmpty(t, u.Detail, u.ResourceID)
		require.NotEmpty(t, u.Cloud, u.ResourceID)
		require.NotEmpty(t, u.Region, u.ResourceID)
	}
	details := map[string]string{}
	for _, u := range unpriced {
		details[u.ResourceID] = u.Detail
	}
	require.Equal(t, "no aws_lambda_duration_sum series", details[lambdaARN("half-fn")])
	require.Contains(t, details[lambdaARN("nan-fn")], "invocations per second is NaN")
	require.Contains(t, details[lambdaARN("neg-fn")], "GB-seconds per second is -")

	require.Equal(t, map[identity.Service]identity.Metadata{
		svc("checkout"): {Team: "payments", Owner: "bob"},
		svc("api"):      {Team: "platform"},
	}, meta.Result())
}

// TestObserveCloudUsagePrices checks what the price book decides: a missing
// price leaves the resource unpriced with the book's reason, never at zero,
// and discounts of the cloud, account or service apply.
func TestObserveCloudUsagePrices(t *testing.T) {
	f := newOMFixture()
	f.lambda("fn", "us-east-1", 300, 300*1000, "tag_service", "shop")
	f.ecs("prod", "api", 1024, 2048, "tag_service", "api")
	f.cloudRun("web", "web-1", 1, 1, 1, true)
	e := f.load(t)
	without := func(row string) string {
		require.Contains(t, serverlessPrices, row)
		return strings.Replace(serverlessPrices, row+"\n", "", 1)
	}
	tests := []struct {
		name     string
		prices   string
		discount []pricing.DiscountConfig
		unpriced []unpricedSummary
		total    float64
	}{
		{
			name: "all priced", prices: serverlessPrices,
			total: 3600*(1*0.2e-6+0.125*0.0000166667) + 1*0.04048 + 2*0.004445 +
				0.0864 + 0.009 + 3600*0.4e-6,
		},
		{
			name:   "no Lambda request price",
			prices: without("aws,us-east-1,request,lambda,0.2,million-requests"),
			unpriced: []unpricedSummary{
				{"function", lambdaARN("fn"), pricing.ReasonUnknownProduct},
			},
			total: 1*0.04048 + 2*0.004445 + 0.0864 + 0.009 + 3600*0.4e-6,
		},
		{
			name:   "no Fargate memory price",
			prices: without("aws,us-east-1,memory,fargate,0.004445,gib-hour"),
			unpriced: []unpricedSummary{{"task",
				"arn:aws:ecs:us-east-1:123456789012:service/prod/api",
				pricing.ReasonUnknownProduct}},
			total: 3600*(1*0.2e-6+0.125*0.0000166667) + 0.0864 + 0.009 + 3600*0.4e-6,
		},
		{
			name:   "no Cloud Run request price",
			prices: without("gcp,us-central1,request,cloud-run,0.4,million-requests"),
			unpriced: []unpricedSummary{{"task",
				"projects/p1/locations/us-central1/services/web",
				pricing.ReasonUnknownProduct}},
			total: 3600*(1*0.2e-6+0.125*0.0000166667) + 1*0.04048 + 2*0.004445,
		},
		{
			name: "discounts", prices: serverlessPrices,
			discount: []pricing.DiscountConfig{
				{Cloud: "aws", Percent: 10},
				{Cloud: "aws", Service: "shop", Percent: 50},
				{Cloud: "gcp", Account: "p1", Percent: 20},
			},
			total: 0.5*3600*(1*0.2e-6+0.125*0.0000166667) + 0.9*(1*0.04048+2*0.004445) +
				0.8*(0.0864+0.009+3600*0.4e-6),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			book := serverlessBook(t, tt.prices)
			require.NoError(t, book.SetDiscounts(tt.discount))
			eng := newServerlessEngine(t, e, book,
				CloudUsageConfig{FunctionMemoryMiB: map[string]float64{"fn": 128}})
			result, unpriced, _, _, err := eng.observeCloudUsage(context.Background(), cuAt, nil, nil)
			require.NoError(t, err)
			want := tt.unpriced
			if want == nil {
				want = []unpricedSummary{}
			}
			require.Equal(t, want, summarise(unpriced))
			total := 0.0
			for _, c := range result.CloudTotals {
				total += c.CostPerHour
			}
			require.InEpsilon(t, tt.total, total, 1e-9)
			require.NoError(t, result.CheckConservation(ConservationTolerance))
		})
	}
}

// countingQuerier counts queries.
type countingQuerier struct {
	query.Querier
	n atomic.Int64
}

func (q *countingQuerier) Query(ctx context.Context, expr string, ts time.Time) (model.Vector,
	error,
) {
	q.n.Add(1)
	return q.Querier.Query(ctx, expr, ts)
}

// TestObserveCloudUsageQueriesPerCycle checks that the number of queries
// does not grow with the number of functions and services.
func TestObserveCloudUsageQueriesPerCycle(t *testing.T) {
	for _, n := range []int{2, 80} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := newOMFixture()
			memory := map[string]float64{}
			for i := range n {
				name := fmt.Sprintf("fn-%03d", i)
				f.lambda(name, "us-east-1", 300, 3000, "tag_service", fmt.Sprintf("svc-%d", i%7))
				memory[name] = 256
				f.ecs("prod", fmt.Sprintf("svc-%03d", i), 256, 512)
				f.cloudRun(fmt.Sprintf("run-%03d", i), "r1", 0.1, 0.1, 1, i%2 == 0)
			}
			q := &countingQuerier{Querier: f.load(t)}
			eng := newServerlessEngine(t, q, serverlessBook(t, serverlessPrices),
				CloudUsageConfig{FunctionMemoryMiB: memory})
			result, unpriced, _, queries, err := eng.observeCloudUsage(context.Background(), cuAt, nil, nil)
			require.NoError(t, err)
			require.Empty(t, unpriced)
			require.Len(t, result.Resources, 3*n)
			require.Equal(t, CloudUsageQueries, queries)
			require.Equal(t, int64(CloudUsageQueries), q.n.Load())
		})
	}
}

// failingQuerier fails every query after the first few.
type failingQuerier struct {
	query.Querier
	ok int
}

func (q *failingQuerier) Query(ctx context.Context, expr string, ts time.Time) (model.Vector,
	error,
) {
	if q.ok == 0 {
		return nil, errors.New("connection refused")
	}
	q.ok--
	return q.Querier.Query(ctx, expr, ts)
}

func TestObserveCloudUsageQueryError(t *testing.T) {
	e := newOMFixture().load(t)
	eng := newServerlessEngine(t, &failingQuerier{Querier: e, ok: 3},
		serverlessBook(t, serverlessPrices), CloudUsageConfig{})
	_, _, _, queries, err := eng.observeCloudUsage(context.Background(), cuAt, nil, nil)
	require.ErrorContains(t, err, "cost: querying ECS CPU reserved: connection refused")
	require.Equal(t, 4, queries)

	eng = newServerlessEngine(t, &failingQuerier{Querier: e}, serverlessBook(t, serverlessPrices),
		CloudUsageConfig{Disabled: true})
	result, unpriced, meta, queries, err := eng.observeCloudUsage(context.Background(), cuAt, nil, nil)
	require.NoError(t, err)
	require.Zero(t, queries)
	require.Nil(t, result)
	require.Nil(t, unpriced)
	require.Nil(t, meta)
}

// TestObserveCloudUsagePeriod checks that the CloudWatch period turns yace's
// sums into rates.
func TestObserveCloudUsagePeriod(t *testing.T) {
	f := newOMFixture()
	f.lambda("fn", "us-east-1", 600, 600*100, "tag_service", "shop")
	e := f.load(t)
	cost := func(period time.Duration) float64 {
		eng := newServerlessEngine(t, e, serverlessBook(t, serverlessPrices),
			CloudUsageConfig{CloudWatchPeriod: period,
				FunctionMemoryMiB: map[string]float64{"fn": 2048}})
		result, _, _, _, err := eng.observeCloudUsage(context.Background(), cuAt, nil, nil)
		require.NoError(t, err)
		require.Len(t, result.Resources, 1)
		return result.Resources[0].CostPerHour
	}
	// 600 invocations of 100 ms at 2 GiB over 60 s: 10 a second, 2 GiB-s a second.
	require.InEpsilon(t, 3600*(10*0.2e-6+2*0.0000166667), cost(time.Minute), 1e-9)
	require.InEpsilon(t, cost(time.Minute)/5, cost(0), 1e-9) // yace's default 300 s
}

func TestCloudUsageConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     CloudUsageConfig
		wantErr string
	}{
		{"zero", CloudUsageConfig{}, ""},
		{"set", CloudUsageConfig{CloudWatchPeriod: time.Minute, StackdriverWindow: 5 * time.Minute,
			FunctionMemoryMiB: map[string]float64{"fn": 128}, ECSEC2Clusters: []string{"a"}}, ""},
		{"period fraction", CloudUsageConfig{CloudWatchPeriod: 1500 * time.Millisecond},
			"cloudwatch_period: 1.5s is not a whole number of seconds"},
		{"period negative", CloudUsageConfig{CloudWatchPeriod: -time.Minute},
			"cloudwatch_period: -1m0s"},
		{"window", CloudUsageConfig{StackdriverWindow: 30 * time.Second},
			"stackdriver_window: 30s is shorter than 1m"},
		{"memory NaN", CloudUsageConfig{FunctionMemoryMiB: map[string]float64{"fn": math.NaN()}},
			`function_memory_mib["fn"]: NaN is not a positive number of MiB`},
		{"memory zero", CloudUsageConfig{FunctionMemoryMiB: map[string]float64{"fn": 0}},
			`function_memory_mib["fn"]: 0 is not a positive`},
		{"memory name", CloudUsageConfig{FunctionMemoryMiB: map[string]float64{" ": 1}},
			"function_memory_mib: empty function name"},
		{"cluster", CloudUsageConfig{ECSEC2Clusters: []string{"a", ""}},
			"ecs_ec2_clusters[1]: empty cluster name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestTagLabelNames checks the labels read for the configured tag keys.
func TestTagLabelNames(t *testing.T) {
	got := tagLabelNames(identity.TagKeys{Service: []string{"app.kubernetes.io/name", "Service"},
		Team: []string{"team"}, Owner: []string{"owner"}})
	var labels []string
	for _, l := range got {
		labels = append(labels, l.label+"="+l.key)
	}
	require.Equal(t, []string{
		"tag_app_kubernetes_io_name=app.kubernetes.io/name",
		"tag_App_kubernetes_io_name=App.kubernetes.io/name",
		"tag_Service=Service", "tag_service=service",
		"tag_team=team", "tag_Team=Team",
		"tag_owner=owner", "tag_Owner=Owner",
	}, labels)
	require.Equal(t, "fn", lambdaName("arn:aws:lambda:us-east-1:1:function:fn:prod"))
	require.Equal(t, "not-an-arn", lambdaName("not-an-arn"))
}

// TestObserveCloudUsageSimulated runs the serverless queries over simulated
// worlds and checks every function's and task's cost against its truth, rate
// times price, to 1e-9 relative at several steps, and the services charged.
func TestObserveCloudUsageSimulated(t *testing.T) {
	start := time.Date(2025, 3, 4, 6, 0, 0, 0, time.UTC)
	for _, seed := range []int64{1, 7} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w, err := sim.New(sim.Options{Scenario: "startup", Seed: seed, Start: start,
				Duration: 2 * time.Hour, Step: time.Minute, Telemetry: []string{},
				Serverless: true})
			require.NoError(t, err)
			e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, e.Close()) })
			batch := e.Appender(context.Background())
			require.NoError(t, w.Advance(start.Add(2*time.Hour), batch.Append))
			require.NoError(t, batch.Commit())

			truth := w.Truth()
			require.NotEmpty(t, truth.Serverless)
			memory := map[string]float64{}
			for _, r := range truth.Serverless {
				if r.Kind == sim.ServerlessLambda {
					memory[r.ID] = r.MemoryMiB
				}
			}
			eng, err := NewEngine(e, EngineConfig{Book: serverlessBook(t, serverlessPrices),
				CloudUsage: CloudUsageConfig{FunctionMemory: func(ref FunctionRef) (float64,
					bool,
				) {
					v, ok := memory[ref.ID]
					return v, ok
				}}})
			require.NoError(t, err)

			for _, at := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
				result, unpriced, meta, _, err := eng.observeCloudUsage(context.Background(),
					start.Add(at), nil, nil)
				require.NoError(t, err)
				require.Empty(t, unpriced)
				checkSimulatedServerless(t, truth.Serverless, result, meta.Result())
			}
		})
	}
}

// checkSimulatedServerless compares the cost of each resource and service with
// the truth's rates times the fixtures' prices.
func checkSimulatedServerless(t *testing.T, truth []sim.TruthServerless, result *Result,
	meta map[identity.Service]identity.Metadata,
) {
	t.Helper()
	got := map[string]float64{}
	for _, r := range result.Resources {
		got[r.ID] = r.CostPerHour
	}
	wantServices := map[identity.Service]float64{}
	wantMeta := map[identity.Service]identity.Metadata{}
	for _, r := range truth {
		var want float64
		switch r.Kind {
		case sim.ServerlessLambda:
			want = 3600 * (r.InvocationsPerSecond*0.2e-6 + r.GBSecondsPerSecond()*0.0000166667)
		case sim.ServerlessFargate:
			want = r.VCPU*0.04048 + r.MemoryGiB*0.004445
		case sim.ServerlessCloudRun:
			want = r.VCPU*0.0864 + r.MemoryGiB*0.009 + 3600*r.RequestsPerSecond*0.4e-6
		}
		require.Contains(t, got, r.ID)
		require.InEpsilon(t, want, got[r.ID], 1e-9, r.ID)
		svc := identity.Service{Name: cmp.Or(r.Service, Unallocated)}
		wantServices[svc] += want
		if r.Team != "" || r.Owner != "" {
			wantMeta[identity.Service{Name: r.Service}] = identity.Metadata{Team: r.Team,
				Owner: r.Owner}
		}
	}
	require.Len(t, got, len(truth))
	services := map[identity.Service]float64{}
	for _, a := range result.Allocations {
		services[a.Service] += a.CostPerHour
	}
	require.Len(t, services, len(wantServices))
	for s, want := range wantServices {
		require.InEpsilon(t, want, services[s], 1e-9, s.String())
	}
	require.Equal(t, wantMeta, meta)
}

// TestObserveCloudUsageECSClusterARN: when an ECS service is not tagged, yace
// labels its series with the cluster's ARN; each service is still a resource
// of its own, named by account, region, cluster and service, and the
// cluster's tags are not taken for the services'.
func TestObserveCloudUsageECSClusterARN(t *testing.T) {
	f := newOMFixture()
	clusterARN := "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
	for _, s := range []struct {
		name     string
		cpu, mem float64
	}{{"api", 512, 1024}, {"worker", 2048, 4096}, {"batch", 4096, 8192}} {
		base := []string{"name", clusterARN, "region", "us-east-1", "account_id",
			"123456789012", "dimension_ClusterName", "prod", "dimension_ServiceName", s.name}
		f.gauge("aws_ecs_containerinsights_cpu_reserved_average", s.cpu, base...)
		f.gauge("aws_ecs_containerinsights_memory_reserved_average", s.mem, base...)
	}
	f.gauge("aws_ecs_containerinsights_info", 0, "name", clusterARN, "tag_service", "platform")
	eng := newServerlessEngine(t, f.load(t), serverlessBook(t, serverlessPrices),
		CloudUsageConfig{})
	result, unpriced, meta, _, err := eng.observeCloudUsage(context.Background(), cuAt, nil, nil)
	require.NoError(t, err)
	require.Empty(t, unpriced)
	got := map[string]float64{}
	for _, r := range result.Resources {
		got[r.ID] = r.CostPerHour
	}
	want := map[string]float64{}
	total := 0.0
	for _, s := range []struct {
		name      string
		vcpu, gib float64
	}{{"api", 0.5, 1}, {"worker", 2, 4}, {"batch", 4, 8}} {
		c := s.vcpu*0.04048 + s.gib*0.004445
		want["123456789012/us-east-1/prod/"+s.name] = c
		total += c
	}
	require.Len(t, got, 3)
	for id, c := range want {
		require.InEpsilon(t, c, got[id], 1e-9, id)
	}
	for _, a := range result.Allocations {
		require.Contains(t, []string{"api", "worker", "batch"}, a.Service.Name,
			"each charged to its own name, not to the cluster's tag")
	}
	require.Empty(t, meta.Result())
	var sum float64
	for _, c := range result.CloudTotals {
		sum += c.CostPerHour
	}
	require.InEpsilon(t, total, sum, 1e-9)
}

// TestObserveCloudUsageJoinsKubernetesServices: a function tagged with the
// bare name of the one Kubernetes service of that name is charged to it.
func TestObserveCloudUsageJoinsKubernetesServices(t *testing.T) {
	f := newOMFixture()
	f.lambda("cart-fn", "us-east-1", 300, 300*1000, "tag_service", "cart", "tag_team", "shop")
	eng := newServerlessEngine(t, f.load(t), serverlessBook(t, serverlessPrices),
		CloudUsageConfig{FunctionMemoryMiB: map[string]float64{"cart-fn": 128}})
	cart := identity.Service{Cluster: "c1", Namespace: "shop", Name: "cart"}
	result, _, meta, _, err := eng.observeCloudUsage(context.Background(), cuAt,
		podResolver(identity.Config{},
			[]PodAttribution{{Service: cart}, {Service: identity.Service{Name: Unallocated}}}), nil)
	require.NoError(t, err)
	require.Len(t, result.Allocations, 1)
	require.Equal(t, cart, result.Allocations[0].Service)
	require.Equal(t, map[identity.Service]identity.Metadata{cart: {Team: "shop"}}, meta.Result())
}

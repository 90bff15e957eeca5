package cost

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/inventory"
	"github.com/stratus-monitoring/stratus/pricing"
)

// Serverless functions and tasks reach Prometheus through the exporters users
// already run for CloudWatch and Cloud Monitoring: yace
// (yet-another-cloudwatch-exporter) and stackdriver_exporter. This file reads
// their series and prices them with the allocation of serverless.go.
//
// yace names a CloudWatch metric aws_<namespace>_<metric>_<statistic> in snake
// case (AWS/Lambda Invocations Sum is aws_lambda_invocations_sum,
// ECS/ContainerInsights CpuReserved Average is
// aws_ecs_containerinsights_cpu_reserved_average). Each series carries the
// resource's ARN in name, its region and account_id, one dimension_<Name>
// label per CloudWatch dimension, and tag_<Key> labels for the tags listed in
// exportedTagsOnMetrics; aws_<namespace>_info{name} carries every tag of every
// discovered resource. The value is the statistic over the job's period (300
// s unless configured): a Sum is a count over that period, not a counter.
//
// stackdriver_exporter names a Cloud Monitoring metric
// stackdriver_<monitored resource type>_<metric type>, both normalised to
// snake case, with the resource's labels (project_id, location,
// service_name, revision_name for Cloud Run). DELTA metrics are gauges of the
// last sampling period unless --monitoring.aggregate-deltas turns them into
// counters; Stratus reads them as counters, with rate().

// Defaults of CloudUsageConfig.
const (
	// DefaultCloudWatchPeriod is yace's default statistic period (300 s).
	DefaultCloudWatchPeriod = 5 * time.Minute
	// DefaultStackdriverWindow is the rate() window over the counters
	// stackdriver_exporter makes of DELTA metrics. Cloud Monitoring samples
	// Cloud Run every 60 s and publishes with up to a few minutes of delay, so
	// a window much shorter than this sees too few increments.
	DefaultStackdriverWindow = 10 * time.Minute
)

// CloudUsageQueries is how many PromQL instant queries observeCloudUsage
// runs a cycle, whatever the number of functions, tasks, gateways or
// services: 9 for Lambda, ECS and Cloud Run, and EgressQueries for NAT
// gateways, and AzureFunctionsQueries.
const CloudUsageQueries = 9 + EgressQueries + AzureFunctionsQueries

// Resource types of UnpricedNode.Type for serverless resources.
const (
	unpricedFunction = "function"
	unpricedTask     = "task"
)

// Products of the price book keys serverless resources are priced with.
const (
	// ProductLambda prices AWS Lambda: KindRequest per invocation and
	// KindMemory per GiB-hour of configured memory times duration (Lambda's
	// GB-second is a GiB-second: divide by 3600).
	ProductLambda = "lambda"
	// ProductFargate prices ECS tasks on Fargate: KindVCPU and KindMemory.
	ProductFargate = "fargate"
	// ProductCloudRun prices Cloud Run services: KindVCPU, KindMemory and
	// KindRequest.
	ProductCloudRun = "cloud-run"
)

// ReasonNoMemorySize is an unpriced reason: a function whose configured
// memory is known neither to CloudUsageConfig.FunctionMemoryMiB nor to
// CloudUsageConfig.FunctionMemory. CloudWatch does not report it.
const ReasonNoMemorySize = "no_memory_size"

// FunctionRef names a serverless function for CloudUsageConfig.FunctionMemory.
type FunctionRef struct {
	Cloud, Region, Account string
	// ID is the function's ARN (yace's name label); Name its function name.
	ID, Name string
}

// CloudUsageConfig configures how serverless functions and tasks are read.
// The zero value reads them with the defaults.
type CloudUsageConfig struct {
	// Disabled turns the serverless queries off.
	Disabled bool
	// CloudWatchPeriod is the period of yace's CloudWatch statistics, which
	// turns a Sum over the period into a rate; zero means
	// DefaultCloudWatchPeriod. It must equal the period of yace's AWS/Lambda
	// job.
	CloudWatchPeriod time.Duration
	// StackdriverWindow is the rate() window over stackdriver_exporter's
	// counters; zero means DefaultStackdriverWindow.
	StackdriverWindow time.Duration
	// FunctionMemoryMiB gives the configured memory of functions, in MiB, by
	// ARN or by function name (the ARN wins). It is consulted before
	// FunctionMemory.
	FunctionMemoryMiB map[string]float64
	// FunctionMemory, when set, answers the memory of the functions
	// FunctionMemoryMiB does not list, for example from an inventory.
	FunctionMemory func(FunctionRef) (mib float64, ok bool)
	// ECSEC2Clusters lists the ECS clusters whose tasks run on EC2 container
	// instances rather than Fargate: their cost is the instances', so their
	// services are not priced as Fargate tasks.
	ECSEC2Clusters []string
	// AzureFunctions says where the metrics of Azure Functions are; the zero
	// value means the defaults of webdevops' azure-metrics-exporter.
	AzureFunctions AzureFunctionsConfig
}

// Validate checks the configuration, naming the field that is wrong.
func (c CloudUsageConfig) Validate() error {
	var errs []error
	if c.CloudWatchPeriod < 0 || c.CloudWatchPeriod%time.Second != 0 {
		errs = append(errs, fmt.Errorf("cloudwatch_period: %v is not a whole number of "+
			"seconds above 0", c.CloudWatchPeriod))
	}
	if c.StackdriverWindow < 0 || (c.StackdriverWindow > 0 && c.StackdriverWindow < time.Minute) {
		errs = append(errs, fmt.Errorf("stackdriver_window: %v is shorter than 1m, "+
			"Cloud Monitoring's sampling period", c.StackdriverWindow))
	}
	for _, k := range slices.Sorted(maps.Keys(c.FunctionMemoryMiB)) {
		v := c.FunctionMemoryMiB[k]
		switch {
		case strings.TrimSpace(k) == "":
			errs = append(errs, errors.New("function_memory_mib: empty function name"))
		case !(v > 0) || math.IsInf(v, 1):
			errs = append(errs, fmt.Errorf("function_memory_mib[%q]: %v is not a positive "+
				"number of MiB", k, v))
		}
	}
	for i, cl := range c.ECSEC2Clusters {
		if strings.TrimSpace(cl) == "" {
			errs = append(errs, fmt.Errorf("ecs_ec2_clusters[%d]: empty cluster name", i))
		}
	}
	if err := c.AzureFunctions.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c CloudUsageConfig) withDefaults() CloudUsageConfig {
	if c.CloudWatchPeriod <= 0 {
		c.CloudWatchPeriod = DefaultCloudWatchPeriod
	}
	if c.StackdriverWindow <= 0 {
		c.StackdriverWindow = DefaultStackdriverWindow
	}
	return c
}

// The series read, and what they mean:
//
//   - aws_lambda_invocations_sum and aws_lambda_duration_sum (yace, namespace
//     AWS/Lambda, statistic Sum): invocations and milliseconds of duration
//     over the period. The series per FunctionName alone is the whole
//     function, the others (Resource, ExecutedVersion) parts of it, so max by
//     name takes the whole.
//   - aws_lambda_info{name, tag_*}: every tag of every discovered function.
//   - aws_ecs_containerinsights_cpu_reserved_average and
//     ..._memory_reserved_average (yace, namespace ECS/ContainerInsights,
//     statistic Average, per ClusterName and ServiceName): CPU units (1/1024
//     vCPU) and MiB the running tasks of a service reserve.
//   - aws_ecs_containerinsights_info{name, tag_*}: the tags of ECS services.
//   - stackdriver_cloud_run_revision_run_googleapis_com_container_cpu_allocation_time,
//     ..._memory_allocation_time and ..._request_count (stackdriver_exporter
//     with --monitoring.aggregate-deltas): vCPU-seconds, GiB-seconds and
//     requests, as counters; the _total spelling of an OpenMetrics scrape is
//     read too. Revisions are deduplicated (max) and then summed per service.
const (
	queryLambdaInvocations = `max by (name, region, account_id) (aws_lambda_invocations_sum)`
	queryLambdaDuration    = `max by (name, region, account_id) (aws_lambda_duration_sum)`
	// %s is the list of tag_* labels of the configured tag keys.
	queryLambdaInfo = `max by (name%s) (aws_lambda_info)`

	ecsGrouping = `name, region, account_id, dimension_ClusterName, dimension_ServiceName`
	queryECSCPU = `max by (` + ecsGrouping + `) ` +
		`(aws_ecs_containerinsights_cpu_reserved_average{dimension_ServiceName!=""})`
	queryECSMemory = `max by (` + ecsGrouping + `) ` +
		`(aws_ecs_containerinsights_memory_reserved_average{dimension_ServiceName!=""})`
	queryECSInfo = `max by (name%s) (aws_ecs_containerinsights_info)`

	cloudRunPrefix    = `stackdriver_cloud_run_revision_run_googleapis_com_`
	cloudRunByService = `project_id, location, service_name`
	cloudRunRevision  = cloudRunByService + `, revision_name`
	// %[1]s is the metric, %[2]s the window, %[3]s labels besides the revision's.
	queryCloudRun = `sum by (` + cloudRunByService + `) (max by (` + cloudRunRevision +
		`%[3]s) (rate({__name__=~"` + cloudRunPrefix + `%[1]s(_total)?"}[%[2]s])))`
)

// cloudRunRequestLabels are the metric labels of request_count: each of its
// series counts once before they are summed.
const cloudRunRequestLabels = `, response_code, response_code_class, route`

// observedFunction is what the queries said of one Lambda function.
type observedFunction struct {
	id, region, account    string
	invocations, duration  float64 // over the period; NaN when not read
	hasInvocations, hasDur bool
}

// observedTask is what the queries said of one ECS service or Cloud Run
// service.
type observedTask struct {
	id, cloud, region, account, cluster, name string
	// cpu and mem are vCPUs and GiB; requests per second (Cloud Run only).
	cpu, mem, requests       float64
	hasCPU, hasMem, hasReqs  bool
	tagsFrom                 string // the name label joined with the info series
	product, cpuSeries       string
	memSeries, requestSeries string
}

// cloudObservations is what one cycle read of serverless usage.
type cloudObservations struct {
	functions map[string]*observedFunction
	ecs       map[string]*observedTask
	cloudRun  map[string]*observedTask
	tags      map[string]map[string]string // by ARN: configured tag key → value
	queries   int
}

// observeCloudUsage reads the serverless functions and tasks of the clouds
// at at, prices them and allocates their cost to services. It runs
// CloudUsageQueries queries (none when disabled); a failed query fails it.
// Functions and tasks that cannot be priced are in unpriced, with a reason,
// and absent from result. meta is the team and owner their tags give each
// service, settled by majority.
func (e *Engine) observeCloudUsage(ctx context.Context, at time.Time,
	resolver *identity.Resolver, resources []inventory.Resource,
) (
	result *Result, unpriced []UnpricedNode, meta *identity.MetadataVotes,
	queries int, err error,
) {
	cfg := e.cfg.CloudUsage.withDefaults()
	if cfg.Disabled {
		return nil, nil, nil, 0, nil
	}
	if cfg.FunctionMemory == nil {
		cfg.FunctionMemory = inventoryFunctionMemory(resources)
	}
	tagKeys := e.cfg.TagKeys.WithDefaults()
	obs, err := e.readCloudUsage(ctx, at, cfg, tagKeys)
	if err != nil {
		return nil, nil, nil, obs.queries, err
	}

	// A function or task tagged with the bare name of a Kubernetes service
	// joins it, as inventory resources do, when resolver knows the pods.
	if resolver == nil {
		resolver = identity.NewResolver(e.cfg.Identity)
	}
	p := cloudPricer{e: e, cfg: cfg, tagKeys: tagKeys, obs: obs, resolver: resolver,
		templates: map[string]UnpricedNode{}}
	functions := p.functions()
	azure, azureQueries, err := p.observeAzureFunctions(ctx, at, resources)
	obs.queries += azureQueries
	if err != nil {
		return nil, nil, nil, obs.queries, err
	}
	functions = append(functions, azure...)
	tasks := p.fargateTasks()
	cloudRun := p.cloudRunServices()

	lambdaResult, err := AllocateFunctionCost(functions)
	if err != nil {
		return nil, nil, nil, obs.queries, fmt.Errorf("cost: serverless functions: %w", err)
	}
	fargateResult, err := AllocateTaskCost(tasks)
	if err != nil {
		return nil, nil, nil, obs.queries, fmt.Errorf("cost: Fargate tasks: %w", err)
	}
	cloudRunResult, err := allocateCloudRun(cloudRun)
	if err != nil {
		return nil, nil, nil, obs.queries, fmt.Errorf("cost: Cloud Run services: %w", err)
	}
	natResult, natQueries, err := p.observeNATData(ctx, at)
	obs.queries += natQueries
	if err != nil {
		return nil, nil, nil, obs.queries, err
	}
	result, err = Merge(lambdaResult, fargateResult, cloudRunResult, natResult)
	if err != nil {
		return nil, nil, nil, obs.queries, fmt.Errorf("cost: serverless: %w", err)
	}
	if err := result.CheckConservation(ConservationTolerance); err != nil {
		return nil, nil, nil, obs.queries, fmt.Errorf("cost: serverless allocation is "+
			"not conserved: %w", err)
	}

	// What the allocation skipped is as unpriced as what had no price.
	unpriced = p.unpriced
	for _, s := range result.Skipped {
		u, ok := p.templates[s.Kind+"\x00"+s.Cloud+"\x00"+s.ID]
		if !ok {
			u = UnpricedNode{Type: s.Kind, ResourceID: s.ID, Cloud: s.Cloud}
		}
		u.Reason, u.Detail = string(s.Reason), s.Detail
		unpriced = append(unpriced, u)
	}
	slices.SortFunc(unpriced, func(a, b UnpricedNode) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Cloud, b.Cloud),
			cmp.Compare(a.ResourceID, b.ResourceID))
	})
	for _, u := range unpriced {
		e.cfg.Logger.Debug("serverless resource not priced; its cost is left out of the totals",
			"resource_type", u.Type, "resource_id", u.ResourceID, "cloud", u.Cloud,
			"region", u.Region, "reason", u.Reason, "detail", u.Detail)
	}
	return result, unpriced, &p.votes, obs.queries, nil
}

// readCloudUsage runs the queries. The observations it returns count the
// queries run even when one failed.
func (e *Engine) readCloudUsage(ctx context.Context, at time.Time, cfg CloudUsageConfig,
	tagKeys identity.TagKeys,
) (*cloudObservations, error) {
	o := &cloudObservations{
		functions: map[string]*observedFunction{},
		ecs:       map[string]*observedTask{},
		cloudRun:  map[string]*observedTask{},
		tags:      map[string]map[string]string{},
	}
	label := func(s *model.Sample, name model.LabelName) string { return string(s.Metric[name]) }
	function := func(s *model.Sample) *observedFunction {
		id := label(s, "name")
		f, ok := o.functions[id]
		if !ok {
			f = &observedFunction{id: id, invocations: math.NaN(), duration: math.NaN()}
			o.functions[id] = f
		}
		f.region, f.account = label(s, "region"), label(s, "account_id")
		return f
	}
	ecsTask := func(s *model.Sample) *observedTask {
		cluster, name := label(s, "dimension_ClusterName"), label(s, "dimension_ServiceName")
		region, arn, account := label(s, "region"), label(s, "name"), label(s, "account_id")
		// An ECS service is its account, region, cluster and name. yace's name
		// label is the service's ARN only when the service itself is tagged;
		// otherwise it may be the cluster's ARN, shared by every service of
		// the cluster, whose tags are not the service's.
		id := strings.TrimPrefix(account+"/"+region+"/"+cluster+"/"+name, "/")
		tagsFrom := ""
		if strings.Contains(arn, ":service/") {
			id, tagsFrom = arn, arn
		}
		t, ok := o.ecs[id]
		if !ok {
			t = &observedTask{id: id, cloud: "aws", region: region, cluster: cluster,
				name: name, account: account, tagsFrom: tagsFrom,
				cpu: math.NaN(), mem: math.NaN(), product: ProductFargate,
				cpuSeries: "aws_ecs_containerinsights_cpu_reserved_average",
				memSeries: "aws_ecs_containerinsights_memory_reserved_average"}
			o.ecs[id] = t
		}
		return t
	}
	cloudRun := func(s *model.Sample) *observedTask {
		project, location := label(s, "project_id"), label(s, "location")
		name := label(s, "service_name")
		id := "projects/" + project + "/locations/" + location + "/services/" + name
		t, ok := o.cloudRun[id]
		if !ok {
			t = &observedTask{id: id, cloud: "gcp", region: location, account: project,
				name: name, cpu: math.NaN(), mem: math.NaN(), requests: math.NaN(),
				product:       ProductCloudRun,
				cpuSeries:     cloudRunPrefix + "container_cpu_allocation_time",
				memSeries:     cloudRunPrefix + "container_memory_allocation_time",
				requestSeries: cloudRunPrefix + "request_count"}
			o.cloudRun[id] = t
		}
		return t
	}
	tagLabels := tagLabelNames(tagKeys)
	tags := func(s *model.Sample) { addTags(o.tags, s, tagLabels) }
	window := rangeSelector(cfg.StackdriverWindow)
	period := cfg.CloudWatchPeriod.Seconds()

	steps := []struct {
		name, expr string
		each       func(s *model.Sample)
	}{
		{"Lambda invocations", queryLambdaInvocations, func(s *model.Sample) {
			f := function(s)
			f.invocations, f.hasInvocations = float64(s.Value)/period, true
		}},
		{"Lambda duration", queryLambdaDuration, func(s *model.Sample) {
			f := function(s)
			f.duration, f.hasDur = float64(s.Value)/1000/period, true
		}},
		{"Lambda tags", fmt.Sprintf(queryLambdaInfo, tagGrouping(tagLabels)), tags},
		{"ECS CPU reserved", queryECSCPU, func(s *model.Sample) {
			t := ecsTask(s)
			t.cpu, t.hasCPU = float64(s.Value)/1024, true
		}},
		{"ECS memory reserved", queryECSMemory, func(s *model.Sample) {
			t := ecsTask(s)
			t.mem, t.hasMem = float64(s.Value)/1024, true
		}},
		{"ECS tags", fmt.Sprintf(queryECSInfo, tagGrouping(tagLabels)), tags},
		{"Cloud Run CPU allocation",
			fmt.Sprintf(queryCloudRun, "container_cpu_allocation_time", window, ""),
			func(s *model.Sample) {
				t := cloudRun(s)
				t.cpu, t.hasCPU = float64(s.Value), true
			}},
		{"Cloud Run memory allocation",
			fmt.Sprintf(queryCloudRun, "container_memory_allocation_time", window, ""),
			func(s *model.Sample) {
				t := cloudRun(s)
				t.mem, t.hasMem = float64(s.Value), true
			}},
		{"Cloud Run requests",
			fmt.Sprintf(queryCloudRun, "request_count", window, cloudRunRequestLabels),
			func(s *model.Sample) {
				t := cloudRun(s)
				t.requests, t.hasReqs = float64(s.Value), true
			}},
	}
	for _, step := range steps {
		vec, err := e.querier.Query(ctx, step.expr, at)
		o.queries++
		if err != nil {
			return o, fmt.Errorf("cost: querying %s: %w", step.name, err)
		}
		for _, s := range vec {
			step.each(s)
		}
	}
	return o, nil
}

// tagLabel is a label yace gives a tag, and the configured key it stands for.
type tagLabel struct{ label, key string }

// tagLabelNames returns the labels of every configured tag key, in the
// configured spelling, in lower case and capitalised (Service, service): tag
// keys are case-sensitive in AWS, and Prometheus labels too, so each spelling
// is a label of its own. TagKeys.Read then picks the first key present.
func tagLabelNames(k identity.TagKeys) []tagLabel {
	var out []tagLabel
	seen := map[string]bool{}
	for _, key := range slices.Concat(k.Service, k.Team, k.Owner) {
		for _, spelling := range []string{key, strings.ToLower(key), capitalised(key)} {
			l := identity.LabelName("tag_", spelling)
			if !seen[l] {
				seen[l] = true
				out = append(out, tagLabel{label: l, key: spelling})
			}
		}
	}
	return out
}

// capitalised returns s with its first letter upper case.
func capitalised(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// tagGrouping returns ", tag_a, tag_b" for the tag labels.
func tagGrouping(labels []tagLabel) string {
	var b strings.Builder
	for _, l := range labels {
		b.WriteString(", ")
		b.WriteString(l.label)
	}
	return b.String()
}

// cloudPricer prices what one cycle observed.
type cloudPricer struct {
	e        *Engine
	cfg      CloudUsageConfig
	tagKeys  identity.TagKeys
	obs      *cloudObservations
	resolver *identity.Resolver
	votes    identity.MetadataVotes
	unpriced []UnpricedNode
	// templates describe each resource given to the allocation, by kind,
	// cloud and id, for the unpriced entry of one it skips.
	templates map[string]UnpricedNode
}

// service names the service of a resource from its tags, else from
// fallback (the ECS or Cloud Run service name); aliases apply, and the
// team and owner its tags give count as votes for it. An empty name is
// charged to Unallocated.
func (p *cloudPricer) service(arn, fallback string) identity.Service {
	tagged := p.tagKeys.Read(p.obs.tags[arn])
	name := cmp.Or(tagged.Service, fallback)
	if name == "" {
		return identity.Service{}
	}
	svc := p.resolver.Resolve(identity.Service{Name: name})
	p.votes.Add(svc, identity.Metadata{Team: tagged.Team, Owner: tagged.Owner})
	return svc
}

// lookup returns the price of a serverless product, less the discount of
// its cloud, account or service.
func (p *cloudPricer) lookup(cloud, region string, kind pricing.Kind, product, account,
	service string,
) (float64, error) {
	price, err := p.e.cfg.Book.Lookup(pricing.Key{
		Cloud: cloud, Region: region, Kind: kind, Product: product,
	})
	if err != nil {
		return 0, err
	}
	return price.Value * (1 - p.e.cfg.Book.Discount(cloud, account, service)/100), nil
}

// unpricedFor records that a resource has no usable price.
func (p *cloudPricer) unpricedFor(u UnpricedNode, err error) {
	u.Reason, u.Detail = pricing.NoPriceReason(err), err.Error()
	if u.Reason == "" {
		u.Reason = string(ReasonInvalidPrice)
	}
	p.unpriced = append(p.unpriced, u)
}

// remember keeps the description of a resource given to the allocation.
func (p *cloudPricer) remember(u UnpricedNode) {
	p.templates[u.Type+"\x00"+u.Cloud+"\x00"+u.ResourceID] = u
}

// functions prices the Lambda functions. Their rates are per second of the
// CloudWatch period; a series missing is an unknown (NaN) quantity that the
// allocation reports.
func (p *cloudPricer) functions() []Function {
	var out []Function
	for _, id := range slices.Sorted(maps.Keys(p.obs.functions)) {
		f := p.obs.functions[id]
		name := lambdaName(id)
		u := UnpricedNode{Type: unpricedFunction, Name: name, ResourceID: id, Cloud: "aws",
			Region: f.region, InstanceType: ProductLambda}
		svc := p.service(id, "")
		if missing := missingSeries(
			seriesRead{"aws_lambda_invocations_sum", f.hasInvocations},
			seriesRead{"aws_lambda_duration_sum", f.hasDur},
		); missing != "" {
			u.Reason, u.Detail = string(ReasonInvalidQuantity), missing
			p.unpriced = append(p.unpriced, u)
			continue
		}

		perRequest, perGBSecond, err := p.functionPrices("aws", f.region, ProductLambda,
			f.account, svc.Name)
		if err != nil {
			p.unpricedFor(u, err)
			continue
		}
		mib, ok := p.memoryMiB(FunctionRef{Cloud: "aws", Region: f.region, Account: f.account,
			ID: id, Name: name})
		if !ok {
			u.Reason = ReasonNoMemorySize
			u.Detail = "CloudWatch does not report a function's memory: set " +
				"cost.serverless.function_memory_mib or list it in the inventory with memory_mib"
			p.unpriced = append(p.unpriced, u)
			continue
		}
		p.remember(u)
		out = append(out, Function{
			ID: id, Service: svc, Cloud: "aws", Region: f.region,
			InvocationsPerSecond: f.invocations,
			GBSecondsPerSecond:   f.duration * mib / 1024,
			PricePerInvocation:   perRequest,
			PricePerGBSecond:     perGBSecond,
		})
	}
	return out
}

// functionPrices returns a function product's price per invocation and per
// GiB-second (the book holds memory per GiB-hour), discount applied.
func (p *cloudPricer) functionPrices(cloud, region, product, account, service string,
) (perInvocation, perGBSecond float64, err error) {
	perInvocation, err = p.lookup(cloud, region, pricing.KindRequest, product, account, service)
	if err != nil {
		return 0, 0, err
	}
	perGiBHour, err := p.lookup(cloud, region, pricing.KindMemory, product, account, service)
	if err != nil {
		return 0, 0, err
	}
	return perInvocation, perGiBHour / secondsPerHour, nil
}

// memoryMiB returns a function's configured memory: by ARN, then by name, in
// the configuration, then from FunctionMemory. A value that is not a positive
// number counts as unknown.
func (p *cloudPricer) memoryMiB(ref FunctionRef) (float64, bool) {
	valid := func(v float64) bool { return v > 0 && !math.IsInf(v, 1) }
	for _, k := range []string{ref.ID, ref.Name} {
		if v, ok := p.cfg.FunctionMemoryMiB[k]; ok && k != "" && valid(v) {
			return v, true
		}
	}
	if p.cfg.FunctionMemory != nil {
		if v, ok := p.cfg.FunctionMemory(ref); ok && valid(v) {
			return v, true
		}
	}
	return 0, false
}

// seriesRead says whether a query returned a series for a resource.
type seriesRead struct {
	name string
	read bool
}

// missingSeries names the series not read, or returns "".
func missingSeries(reads ...seriesRead) string {
	var missing []string
	for _, r := range reads {
		if !r.read {
			missing = append(missing, r.name)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "no " + strings.Join(missing, ", ") + " series"
}

// lambdaName returns the function name of a Lambda ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]), or the id itself.
func lambdaName(id string) string {
	parts := strings.Split(id, ":")
	if len(parts) >= 7 && parts[5] == "function" {
		return parts[6]
	}
	return id
}

// fargateTasks prices the ECS services, except those of clusters on EC2.
func (p *cloudPricer) fargateTasks() []Task {
	var out []Task
	for _, id := range slices.Sorted(maps.Keys(p.obs.ecs)) {
		t := p.obs.ecs[id]
		if slices.Contains(p.cfg.ECSEC2Clusters, t.cluster) {
			continue
		}
		task, ok := p.task(t)
		if ok {
			out = append(out, task)
		}
	}
	return out
}

// task prices the vCPU and memory of an ECS or Cloud Run service.
func (p *cloudPricer) task(t *observedTask) (Task, bool) {
	u := UnpricedNode{Type: unpricedTask, Cluster: t.cluster, Name: t.name,
		ResourceID: t.id, Cloud: t.cloud, Region: t.region, InstanceType: t.product}
	svc := p.service(t.tagsFrom, t.name)
	reads := []seriesRead{{t.cpuSeries, t.hasCPU}, {t.memSeries, t.hasMem}}
	if t.requestSeries != "" && !t.hasReqs && t.hasCPU {
		// A service whose instances are allocated but that served no request
		// in the window has no request series (the exporter forgets a delta
		// that stopped): none, not unknown.
		t.requests, t.hasReqs = 0, true
	}
	if t.requestSeries != "" {
		reads = append(reads, seriesRead{t.requestSeries, t.hasReqs})
	}
	if missing := missingSeries(reads...); missing != "" {
		u.Reason, u.Detail = string(ReasonInvalidQuantity), missing
		p.unpriced = append(p.unpriced, u)
		return Task{}, false
	}
	cpu, err := p.lookup(t.cloud, t.region, pricing.KindVCPU, t.product, t.account, svc.Name)
	if err != nil {
		p.unpricedFor(u, err)
		return Task{}, false
	}
	mem, err := p.lookup(t.cloud, t.region, pricing.KindMemory, t.product, t.account, svc.Name)
	if err != nil {
		p.unpricedFor(u, err)
		return Task{}, false
	}
	p.remember(u)
	return Task{
		ID: t.id, Service: svc, Cloud: t.cloud, Region: t.region,
		VCPUs: t.cpu, MemoryGiB: t.mem, VCPUHourPrice: cpu, GiBHourPrice: mem,
	}, true
}

// cloudRunService is a Cloud Run service: its instances priced as a task,
// and its requests.
type cloudRunService struct {
	Task
	RequestsPerSecond, PricePerRequest float64
}

// cloudRunServices prices the Cloud Run services.
func (p *cloudPricer) cloudRunServices() []cloudRunService {
	var out []cloudRunService
	for _, id := range slices.Sorted(maps.Keys(p.obs.cloudRun)) {
		t := p.obs.cloudRun[id]
		task, ok := p.task(t)
		if !ok {
			continue
		}
		perRequest, err := p.lookup(t.cloud, t.region, pricing.KindRequest, t.product,
			t.account, task.Service.Name)
		if err != nil {
			delete(p.templates, unpricedTask+"\x00"+t.cloud+"\x00"+t.id)
			p.unpricedFor(UnpricedNode{Type: unpricedTask, Name: t.name, ResourceID: t.id,
				Cloud: t.cloud, Region: t.region, InstanceType: t.product}, err)
			continue
		}
		out = append(out, cloudRunService{Task: task, RequestsPerSecond: t.requests,
			PricePerRequest: perRequest})
	}
	return out
}

// allocateCloudRun prices each Cloud Run service as one resource: vCPU and
// requests are compute, memory is memory. A service with an input the task
// or request pricing rejects is skipped and reported; a request count that
// was not read (NaN) is such an input, since no request means a counter
// that does not grow, not one that is missing.
func allocateCloudRun(services []cloudRunService) (*Result, error) {
	b := newBuilder()
	for _, s := range services {
		charge, reason, detail := s.charge()
		if reason == "" {
			var requests float64
			requests, reason, detail = Function{
				ID: s.ID, InvocationsPerSecond: s.RequestsPerSecond,
				PricePerInvocation: s.PricePerRequest,
			}.charge()
			charge.Compute += requests
		}
		if reason != "" {
			b.skip("task", s.ID, s.Cloud, reason, detail)
			continue
		}
		if err := b.addResource(ResourceCost{
			ID: s.ID, Type: ResourceTypeTask, InstanceType: ProductCloudRun,
			Cloud: s.Cloud, Region: s.Region, CostPerHour: charge.Compute + charge.Memory,
		}); err != nil {
			return nil, err
		}
		key := Key{Service: serviceOrUnallocated(s.Service), Cloud: s.Cloud, Region: s.Region}
		key.Component = ComponentCompute
		b.charge(key, charge.Compute)
		key.Component = ComponentMemory
		b.charge(key, charge.Memory)
	}
	return b.result()
}

package sim

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// streamServerless seeds the serverless resources apart from the world's other
// streams (load.go numbers those from 1), so that turning Options.Serverless on
// changes no other family's values.
const streamServerless uint64 = 101

// CloudWatchPeriodSeconds is the statistic period of the simulated yace jobs:
// yace's default, which Stratus assumes unless cost.cloudwatch_period says
// otherwise.
const CloudWatchPeriodSeconds = 300

// Kinds of TruthServerless.
const (
	ServerlessLambda   = "lambda"
	ServerlessFargate  = "fargate"
	ServerlessCloudRun = "cloud-run"
)

// Accounts of the simulated serverless resources.
const (
	simAWSAccount = "123456789012"
	simGCPProject = "stratus-demo"
)

// TruthServerless is a serverless function or task of the world, with the
// constant rates its series carry. Money is not in the truth: the rates times
// the price book's prices are the cost.
type TruthServerless struct {
	// ID is the resource id Stratus reports: the function's or ECS service's
	// ARN, or projects/P/locations/L/services/S for Cloud Run.
	ID     string `json:"id"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Cloud  string `json:"cloud"`
	Region string `json:"region"`
	// Account is the AWS account or GCP project.
	Account string `json:"account"`
	// Cluster is the ECS cluster of a Fargate service.
	Cluster string            `json:"cluster,omitempty"`
	Tags    map[string]string `json:"tags"`
	// Service is the service its cost belongs to as its tags (or, for ECS and
	// Cloud Run, its own name) say; "" for an untagged function.
	Service     string `json:"service"`
	TrueService string `json:"true_service"`
	Team        string `json:"team"`
	Owner       string `json:"owner"`

	// Lambda: configured memory (not in any series), invocations a second and
	// their mean duration; yace reports both summed over PeriodSeconds.
	MemoryMiB            float64 `json:"memory_mib,omitempty"`
	InvocationsPerSecond float64 `json:"invocations_per_second,omitempty"`
	DurationSeconds      float64 `json:"duration_seconds,omitempty"`
	PeriodSeconds        float64 `json:"period_seconds,omitempty"`
	// Fargate and Cloud Run: vCPUs and GiB reserved or allocated on average.
	VCPU      float64 `json:"vcpu,omitempty"`
	MemoryGiB float64 `json:"memory_gib,omitempty"`
	// Cloud Run: requests a second.
	RequestsPerSecond float64 `json:"requests_per_second,omitempty"`
}

// GBSecondsPerSecond is what a Lambda function uses of its price per
// GB-second (GiB-second), a second.
func (t TruthServerless) GBSecondsPerSecond() float64 {
	return t.InvocationsPerSecond * t.DurationSeconds * t.MemoryMiB / 1024
}

// cloudUsageEmitter emits what yace exports of AWS/Lambda and
// ECS/ContainerInsights, and what stackdriver_exporter (with
// --monitoring.aggregate-deltas) exports of Cloud Run, for a few serverless
// resources of the world's services.
type cloudUsageEmitter struct {
	resources []TruthServerless

	lambdaInvocations, lambdaDuration, lambdaInfo *family
	ecsCPU, ecsMemory, ecsInfo                    *family
	runCPU, runMemory, runRequests                *family

	metrics [][]*metric // per resource, in the order emit writes them
}

func newCloudUsageEmitter(w *World) *cloudUsageEmitter {
	c := &cloudUsageEmitter{resources: buildServerless(w)}
	reg := w.reg
	gauge := func(name, help string) *family {
		return reg.family(name, typeGauge, "Simulated yace: "+help, nil)
	}
	counter := func(name, help string) *family {
		return reg.family(name, typeCounter, "Simulated stackdriver_exporter: "+help, nil)
	}
	c.lambdaInvocations = gauge("aws_lambda_invocations_sum",
		"AWS/Lambda Invocations, Sum over the period.")
	c.lambdaDuration = gauge("aws_lambda_duration_sum",
		"AWS/Lambda Duration in milliseconds, Sum over the period.")
	c.lambdaInfo = gauge("aws_lambda_info", "tags of a Lambda function.")
	c.ecsCPU = gauge("aws_ecs_containerinsights_cpu_reserved_average",
		"ECS/ContainerInsights CpuReserved in CPU units, Average over the period.")
	c.ecsMemory = gauge("aws_ecs_containerinsights_memory_reserved_average",
		"ECS/ContainerInsights MemoryReserved in MiB, Average over the period.")
	c.ecsInfo = gauge("aws_ecs_containerinsights_info", "tags of an ECS service.")
	run := "stackdriver_cloud_run_revision_run_googleapis_com_"
	c.runCPU = counter(run+"container_cpu_allocation_time",
		"Cloud Run container CPU allocation in vCPU-seconds.")
	c.runMemory = counter(run+"container_memory_allocation_time",
		"Cloud Run container memory allocation in GiB-seconds.")
	c.runRequests = counter(run+"request_count", "Cloud Run requests.")
	return c
}

// buildServerless attaches serverless resources to the first workload services
// of AWS and GCP: three Lambda functions (the last one untagged), two ECS
// services on Fargate (one tagged "Service" rather than "service") and two
// Cloud Run services.
func buildServerless(w *World) []TruthServerless {
	r := newRand(w.opts.Seed, streamServerless)
	var aws, gcp []*service
	for _, s := range w.services {
		switch {
		case s.kind != serviceWorkload:
		case s.cloud == "aws":
			aws = append(aws, s)
		case s.cloud == "gcp":
			gcp = append(gcp, s)
		}
	}
	var out []TruthServerless
	region := cloudProfiles[0].region
	for i := 0; i < 3 && len(aws) > 0; i++ {
		s := aws[i%len(aws)]
		name := fmt.Sprintf("%s-events-%d", s.name, i)
		t := TruthServerless{
			ID:   fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, simAWSAccount, name),
			Name: name, Kind: ServerlessLambda, Cloud: "aws", Region: region,
			Account: simAWSAccount, TrueService: s.name,
			MemoryMiB: []float64{128, 256, 512, 1024, 1769}[r.IntN(5)],
			// Whole invocations and milliseconds per period, as CloudWatch sums.
			InvocationsPerSecond: float64(30+r.IntN(3000)) / CloudWatchPeriodSeconds,
			DurationSeconds:      float64(20+r.IntN(900)) / 1000,
			PeriodSeconds:        CloudWatchPeriodSeconds,
		}
		if i < 2 {
			t.tag("service", s.name, s)
		}
		out = append(out, t)
	}
	for i := 0; i < 2 && len(aws) > 0; i++ {
		s := aws[(i+1)%len(aws)]
		cluster := "prod-ecs"
		tasks := float64(1 + r.IntN(6))
		t := TruthServerless{
			ID: fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", region, simAWSAccount,
				cluster, s.name),
			Name: s.name, Kind: ServerlessFargate, Cloud: "aws", Region: region,
			Account: simAWSAccount, Cluster: cluster, TrueService: s.name,
			VCPU:      tasks * []float64{0.25, 0.5, 1, 2}[r.IntN(4)],
			MemoryGiB: tasks * []float64{0.5, 1, 2, 4}[r.IntN(4)],
		}
		t.tag([]string{"service", "Service"}[i], s.name, s)
		out = append(out, t)
	}
	location := cloudProfiles[1].region
	for i := 0; i < 2 && len(gcp) > 0; i++ {
		s := gcp[i%len(gcp)]
		instances := 0.5 + 3*r.Float64()
		t := TruthServerless{
			ID: fmt.Sprintf("projects/%s/locations/%s/services/%s", simGCPProject, location,
				s.name),
			Name: s.name, Kind: ServerlessCloudRun, Cloud: "gcp", Region: location,
			Account: simGCPProject, Tags: map[string]string{}, Service: s.name,
			TrueService:       s.name,
			VCPU:              roundTo(instances*[]float64{1, 2}[r.IntN(2)], 1e-3),
			MemoryGiB:         roundTo(instances*[]float64{0.5, 1, 2}[r.IntN(3)], 1e-3),
			RequestsPerSecond: roundTo(1+50*r.Float64(), 1e-3),
		}
		out = append(out, t)
	}
	for i := range out {
		if out[i].Tags == nil {
			out[i].Tags = map[string]string{}
		}
	}
	return out
}

// tag tags a resource with its service, team and owner, the service under key.
func (t *TruthServerless) tag(key, name string, s *service) {
	t.Tags = map[string]string{key: name, "team": s.team, "owner": s.owner}
	t.Service, t.Team, t.Owner = name, s.team, s.owner
}

func (c *cloudUsageEmitter) emit(w *World, step int) {
	if c.metrics == nil {
		c.metrics = make([][]*metric, len(c.resources))
		for i, t := range c.resources {
			c.metrics[i] = c.newMetrics(w, t)
		}
	}
	elapsed := float64(step) * w.stepSeconds
	for i, t := range c.resources {
		m := c.metrics[i]
		switch t.Kind {
		case ServerlessLambda:
			invocations := math.Round(t.InvocationsPerSecond * CloudWatchPeriodSeconds)
			w.reg.point(m[0], invocations)
			w.reg.point(m[1], math.Round(invocations*t.DurationSeconds*1000))
			w.reg.point(m[2], 0)
		case ServerlessFargate:
			w.reg.point(m[0], t.VCPU*1024)
			w.reg.point(m[1], t.MemoryGiB*1024)
			w.reg.point(m[2], 0)
		case ServerlessCloudRun:
			// Counters since the revision started, a day before the world.
			since := 86400 + elapsed
			w.reg.point(m[0], t.VCPU*since)
			w.reg.point(m[1], t.MemoryGiB*since)
			// Nine requests in ten succeed; both counters only grow.
			w.reg.point(m[2], 0.9*t.RequestsPerSecond*since)
			w.reg.point(m[3], 0.1*t.RequestsPerSecond*since)
		}
	}
}

// newMetrics creates the series of one resource, labelled as the exporters
// label them (yace's name, region, account_id and dimension_*;
// stackdriver_exporter's monitored resource labels and unit).
func (c *cloudUsageEmitter) newMetrics(w *World, t TruthServerless) []*metric {
	yace := []string{"job", "yace", "instance", "yace:5000"}
	tags := func() []string {
		kv := []string{"name", t.ID}
		for _, k := range slices.Sorted(maps.Keys(t.Tags)) {
			kv = append(kv, "tag_"+k, t.Tags[k])
		}
		return kv
	}
	switch t.Kind {
	case ServerlessLambda:
		base := kv(yace, "name", t.ID, "region", t.Region, "account_id", t.Account,
			"dimension_FunctionName", t.Name)
		return []*metric{c.lambdaInvocations.newMetric(base...),
			c.lambdaDuration.newMetric(base...), c.lambdaInfo.newMetric(kv(yace, tags()...)...)}
	case ServerlessFargate:
		base := kv(yace, "name", t.ID, "region", t.Region, "account_id", t.Account,
			"dimension_ClusterName", t.Cluster, "dimension_ServiceName", t.Name)
		return []*metric{c.ecsCPU.newMetric(base...), c.ecsMemory.newMetric(base...),
			c.ecsInfo.newMetric(kv(yace, tags()...)...)}
	}
	base := []string{"job", "stackdriver", "instance", "stackdriver-exporter:9255",
		"project_id", t.Account, "location", t.Region, "service_name", t.Name,
		"configuration_name", t.Name, "revision_name", t.Name + "-00001-abc"}
	req := func(code string) *metric {
		return c.runRequests.newMetric(kv(base, "response_code", code,
			"response_code_class", code[:1]+"xx", "route", "", "unit", "1")...)
	}
	return []*metric{c.runCPU.newMetric(kv(base, "unit", "s{CPU}")...),
		c.runMemory.newMetric(kv(base, "unit", "GiBy.s")...), req("200"), req("500")}
}

// serverlessTruth returns the serverless resources of the world, or nil when
// Options.Serverless is off.
func (w *World) serverlessTruth() []TruthServerless {
	for _, em := range w.emitters {
		if c, ok := em.(*cloudUsageEmitter); ok {
			return c.resources
		}
	}
	return nil
}

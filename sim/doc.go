// Package sim builds deterministic synthetic worlds for Stratus: cloud resources,
// Kubernetes workloads on a real service topology, load with diurnal shape and
// heavy-tailed correlated noise, an HPA-like controller, deployments and new services.
// It emits the telemetry real exporters would (kube-state-metrics, cAdvisor, Istio,
// the OpenTelemetry service graph and spanmetrics connectors, Linkerd and Cilium
// Hubble, as Options.Telemetry selects) together with a ground truth
// that engines are measured against.
//
// The same Options always give the same bytes: randomness comes from seeded PCG
// streams, nothing depends on map iteration order or the wall clock.
package sim

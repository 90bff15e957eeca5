// Package telemetry finds out which kinds of telemetry a Prometheus holds.
//
// Stratus adapts to what it finds rather than asking to be told: the adapters
// of later engines (Istio, Linkerd, service graphs, yace, ...) switch on when
// their family is present. Discovery costs one PromQL query per cycle,
// whatever the number of services or series.
package telemetry

// Family is a kind of telemetry, recognised by the series its exporter emits.
type Family struct {
	// Name is the value of the family label on stratus_telemetry_present.
	Name string
	// Description says which exporter or system emits it.
	Description string
	// Selector matches the series that show the family is present. It must be
	// specific enough not to match another family: Linkerd's request_total,
	// for one, is told apart by its direction label.
	Selector string
}

// Known lists the families Stratus recognises, in the order they are reported.
var Known = []Family{
	{
		Name:        "kube_state_metrics",
		Description: "kube-state-metrics: Kubernetes object state",
		Selector: `{__name__=~"kube_pod_info|kube_deployment_spec_replicas|` +
			`kube_node_info|kube_horizontalpodautoscaler_info"}`,
	},
	{
		Name:        "cadvisor",
		Description: "cAdvisor via the kubelet: container usage",
		Selector: `{__name__=~"container_cpu_usage_seconds_total|` +
			`container_memory_working_set_bytes"}`,
	},
	{
		Name:        "node_exporter",
		Description: "node_exporter: host usage",
		Selector:    `{__name__=~"node_cpu_seconds_total|node_uname_info"}`,
	},
	{
		Name:        "istio",
		Description: "Istio proxies: request and TCP telemetry",
		Selector: `{__name__=~"istio_requests_total|istio_tcp_sent_bytes_total|` +
			`istio_tcp_connections_opened_total"}`,
	},
	{
		Name:        "linkerd",
		Description: "Linkerd proxies: request_total and response_total",
		Selector:    `{__name__=~"request_total|response_total",direction=~"inbound|outbound"}`,
	},
	{
		Name:        "service_graph",
		Description: "OpenTelemetry service graphs (collector connector, Tempo, Beyla)",
		Selector: `{__name__=~"traces_service_graph_request_total|` +
			`traces_service_graph_request_failed_total"}`,
	},
	{
		Name:        "span_metrics",
		Description: "OpenTelemetry span metrics",
		Selector: `{__name__=~"traces_span_metrics_calls_total|` +
			`traces_spanmetrics_calls_total|calls_total",span_name!=""}`,
	},
	{
		Name:        "hubble",
		Description: "Cilium Hubble flow and HTTP metrics",
		Selector:    `{__name__=~"hubble_flows_processed_total|hubble_http_requests_total"}`,
	},
	{
		Name:        "yace",
		Description: "yet-another-cloudwatch-exporter: CloudWatch metrics",
		Selector:    `{__name__=~"aws_[a-z0-9_]+_info|yace_cloudwatch_requests_total"}`,
	},
	{
		Name:        "stackdriver_exporter",
		Description: "stackdriver_exporter: Google Cloud Monitoring metrics",
		Selector:    `{__name__=~"stackdriver_.+"}`,
	},
}

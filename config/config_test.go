package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

func TestParseEmptyGivesDefaults(t *testing.T) {
	for _, content := range []string{"", "{}\n", "# only a comment\n"} {
		cfg, err := Parse([]byte(content))
		require.NoError(t, err)
		require.Equal(t, Default(), *cfg)
	}
}

func TestLoadFullFile(t *testing.T) {
	cfg, err := Load("testdata/full.yml")
	require.NoError(t, err)

	require.Equal(t, "https://prometheus.example.internal:9090/", cfg.Prometheus.URL)
	require.Equal(t, model.Duration(45*time.Second), cfg.Prometheus.QueryTimeout)
	require.Equal(t, 8, cfg.Prometheus.MaxConcurrency)
	require.Equal(t, 5, cfg.Prometheus.Retries)
	require.Equal(t, "stratus", cfg.Prometheus.HTTPClient.BasicAuth.Username)
	// Relative files inside the config resolve against the config's directory.
	require.Equal(t, filepath.Join("testdata", "password.txt"),
		cfg.Prometheus.HTTPClient.BasicAuth.PasswordFile)
	require.Equal(t, model.Duration(2*time.Minute), cfg.Engines.Telemetry.Interval)
	require.Equal(t, model.Duration(20*time.Second), cfg.Engines.Telemetry.Timeout)
	require.Equal(t, DemoConfig{Scenario: "steady", Seed: 42, Backfill: model.Duration(time.Hour)},
		cfg.Demo)
	require.Equal(t, EngineConfig{Interval: model.Duration(30 * time.Second),
		Timeout: model.Duration(25 * time.Second)}, cfg.Engines.Dependencies)
	require.Equal(t, "k8s_cluster", cfg.Identity.ClusterLabel)
	require.Equal(t, map[string]string{"checkout-svc": "shop/checkout"}, cfg.Identity.Aliases)
	deps := cfg.Dependencies
	require.Equal(t, []string{"linkerd", "istio"}, deps.Sources)
	require.Len(t, deps.Generic, 1)
	require.Equal(t, "envoy_cluster_upstream_rq_total", deps.Generic[0].Metric)
	require.Equal(t, "source_namespace", deps.Generic[0].Client.Namespace)
	require.Equal(t, model.Duration(12*time.Hour), deps.Retention)
	require.Equal(t, model.Duration(2*time.Minute), deps.RateWindow)
	require.Equal(t, 500, deps.MaxEdges)
	require.Equal(t, 100, deps.MaxServices)
	require.Equal(t, []string{"istio-system/istio-ingressgateway"}, deps.Gateways)
}

func TestDefaultDependencies(t *testing.T) {
	cfg, err := Parse(nil)
	require.NoError(t, err)
	require.Equal(t, []string{"istio", "linkerd", "hubble", "servicegraph", "spanmetrics"},
		cfg.Dependencies.Sources)
	require.Equal(t, model.Duration(24*time.Hour), cfg.Dependencies.Retention)
	require.Equal(t, "cluster", cfg.Identity.ClusterLabel)
}

func TestPartialFileKeepsOtherDefaults(t *testing.T) {
	cfg, err := Parse([]byte("prometheus:\n  retries: 0\n"))
	require.NoError(t, err)
	require.Equal(t, 0, cfg.Prometheus.Retries)
	require.Equal(t, 4, cfg.Prometheus.MaxConcurrency)
	require.Equal(t, Default().Engines, cfg.Engines)
}

func TestParseErrorsNameLineOrField(t *testing.T) {
	cases := []struct {
		name    string
		content string
		want    []string
	}{
		{
			name:    "unknown top-level field",
			content: "prometheus:\n  url: http://localhost:9090\nbogus: 1\n",
			want:    []string{"line 3: bogus: unknown field"},
		},
		{
			name:    "unknown nested field",
			content: "engines:\n  telemetry:\n    intervall: 1m\n",
			want:    []string{"line 3: engines.telemetry.intervall: unknown field"},
		},
		{
			name:    "wrong type",
			content: "prometheus:\n  max_concurrency: many\n",
			want:    []string{"line 2: prometheus.max_concurrency:", "many"},
		},
		{
			name:    "bad duration",
			content: "prometheus:\n  query_timeout: soon\n",
			want:    []string{"line 2", "prometheus.query_timeout", "soon"},
		},
		{
			name:    "syntax error",
			content: "prometheus:\n  url: [unclosed\n",
			want:    []string{"line"},
		},
		{
			name:    "bad url scheme",
			content: "prometheus:\n  url: ftp://host/\n",
			want:    []string{"prometheus.url", "scheme"},
		},
		{
			name:    "url without host",
			content: "prometheus:\n  url: http://\n",
			want:    []string{"prometheus.url", "host"},
		},
		{
			name: "unknown field inside the HTTP client block",
			content: "prometheus:\n  http_client:\n    basic_auth:\n" +
				"      user: x\n",
			want: []string{"line 4: prometheus.http_client: unknown field user"},
		},
		{
			name: "wrong type through an alias",
			content: "prometheus:\n  url: &u http://prometheus:9090\n" +
				"  retries: *u\n",
			want: []string{"line 3: prometheus.retries:", "cannot unmarshal"},
		},
		{
			name:    "unknown field through an aliased block",
			content: "x: &p\n  url: http://p:9090\ndemo: *p\n",
			want:    []string{"line 1: x: unknown field"},
		},
		{
			name:    "url with the API path",
			content: "prometheus:\n  url: http://prometheus:9090/api/v1/\n",
			want:    []string{"prometheus.url", "without /api/v1"},
		},
		{
			name:    "zero concurrency",
			content: "prometheus:\n  max_concurrency: 0\n",
			want:    []string{"line 2: prometheus.max_concurrency: must be at least 1"},
		},
		{
			name:    "negative retries",
			content: "prometheus:\n  retries: -1\n",
			want:    []string{"prometheus.retries"},
		},
		{
			name:    "zero timeout",
			content: "prometheus:\n  query_timeout: 0s\n",
			want:    []string{"prometheus.query_timeout"},
		},
		{
			name:    "zero interval and timeout",
			content: "engines:\n  telemetry:\n    interval: 0s\n    timeout: 0s\n",
			want: []string{"line 3: engines.telemetry.interval: must be positive",
				"line 4: engines.telemetry.timeout: must be positive"},
		},
		{
			name:    "unknown dependency source",
			content: "dependencies:\n  sources:\n    - istio\n    - zipkin\n    - istio\n",
			want: []string{"line 4: dependencies.sources[1]: \"zipkin\" is not one of istio,",
				"line 5: dependencies.sources[2]: \"istio\" is listed twice"},
		},
		{
			name: "bad generic adapter",
			content: "dependencies:\n  generic:\n    - name: a\n      metric: m\n" +
				"      client: {name: c}\n      server: {name: s}\n" +
				"    - name: b\n      metric: m\n      client: {name: c}\n",
			want: []string{"line 7: dependencies.generic[1]:", "server.name"},
		},
		{
			name: "generic adapter named like a built-in",
			content: "dependencies:\n  generic:\n    - name: istio\n      metric: m\n" +
				"      client: {name: c}\n      server: {name: s}\n",
			want: []string{"line 3: dependencies.generic[0].name: \"istio\" is already a source"},
		},
		{
			name: "generic adapter named like an unused built-in",
			content: "dependencies:\n  sources: [istio]\n  generic:\n    - name: linkerd\n" +
				"      metric: m\n      client: {name: c}\n      server: {name: s}\n",
			want: []string{"line 4: dependencies.generic[0].name: \"linkerd\" is already"},
		},
		{
			name: "bad dependency limits",
			content: "dependencies:\n  retention: 0s\n  rate_window: 0s\n  max_edges: 0\n" +
				"  max_services: 1\n  gateways: [a/b/c/d]\n",
			want: []string{"line 2: dependencies.retention: must be positive",
				"line 3: dependencies.rate_window", "line 4: dependencies.max_edges",
				"line 5: dependencies.max_services", "line 6: dependencies.gateways[0]"},
		},
		{
			name:    "bad identity",
			content: "identity:\n  cluster_label: 'k8s-cluster'\n  aliases: {x: a/b/c/d}\n",
			want: []string{"line 2: identity.cluster_label: \"k8s-cluster\" is not a valid",
				"identity: aliases.x:"},
		},
		{
			name:    "zero dependency interval",
			content: "engines:\n  dependencies:\n    interval: 0s\n",
			want:    []string{"line 3: engines.dependencies.interval: must be positive"},
		},
		{
			name:    "unknown scenario",
			content: "demo:\n  scenario: nosuch\n",
			want:    []string{"demo.scenario", "nosuch", "startup"},
		},
		{
			name:    "negative backfill",
			content: "demo:\n  backfill: -1h\n",
			want:    []string{"line 2", "demo.backfill"},
		},
		{
			name: "two auth methods",
			content: "prometheus:\n  http_client:\n    bearer_token: x\n" +
				"    basic_auth:\n      username: u\n",
			want: []string{"line 3", "prometheus.http_client"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.content))
			require.Error(t, err)
			require.NotContains(t, err.Error(), "\n", "an error is one log line")
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yml"))
	require.ErrorContains(t, err, "absent.yml")

	path := filepath.Join(t.TempDir(), "stratus.yml")
	require.NoError(t, os.WriteFile(path, []byte("prometheus:\n  retries: x\n"), 0o600))
	_, err = Load(path)
	require.ErrorContains(t, err, path+": line 2")
}

func TestValidationErrorsAreStable(t *testing.T) {
	content := []byte("prometheus:\n  max_concurrency: 0\n  retries: -1\n  query_timeout: 0s\n")
	_, first := Parse(content)
	for range 20 {
		_, again := Parse(content)
		require.Equal(t, first.Error(), again.Error())
	}
}

func FuzzParse(f *testing.F) {
	full, err := os.ReadFile("testdata/full.yml")
	require.NoError(f, err)
	f.Add(full)
	f.Add([]byte(""))
	f.Add([]byte("prometheus: {url: 'http://x'}\n"))
	f.Add([]byte("engines: [1, 2]\n"))
	f.Add([]byte("demo:\n  backfill: 99999999999999999999h\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		cfg, err := Parse(content)
		if err == nil {
			require.NoError(t, cfg.Validate(), "Parse accepted what Validate rejects")
		}
	})
}

func TestURLErrorsHidePasswords(t *testing.T) {
	for _, u := range []string{"ftp://alice:hunter2@host/", "http://alice:hunter2@/",
		"http://alice:hunter2@host:port/%zz"} {
		err := ValidatePrometheusURL(u)
		require.Error(t, err, u)
		require.NotContains(t, err.Error(), "hunter2")
	}
	_, err := Parse([]byte("prometheus:\n  url: ftp://alice:hunter2@host/\n"))
	require.ErrorContains(t, err, "prometheus.url")
	require.NotContains(t, err.Error(), "hunter2")
}

// Package config reads the Stratus configuration file.
//
// The file is YAML and parsed strictly: an unknown field, a wrong type or an
// invalid value is an error that names the file and, where the YAML parser knows
// it, the line. Every field has a default, so an empty file (or none) is valid.
// README.md documents each field; keep the two in step.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/sim"
	"github.com/stratus-monitoring/stratus/topology"
)

// Config is the whole configuration file.
type Config struct {
	Prometheus   PrometheusConfig   `yaml:"prometheus"`
	Engines      EnginesConfig      `yaml:"engines"`
	Identity     identity.Config    `yaml:"identity"`
	Dependencies DependenciesConfig `yaml:"dependencies"`
	Cost         CostConfig         `yaml:"cost"`
	CostInsight  CostInsightConfig  `yaml:"cost_insight"`
	Pricing      pricing.Config     `yaml:"pricing"`
	Demo         DemoConfig         `yaml:"demo"`
}

// PrometheusConfig says how Stratus queries a Prometheus-compatible API.
// The URL itself may also come from --prometheus.url, which wins.
type PrometheusConfig struct {
	URL            string                     `yaml:"url"`
	HTTPClient     commoncfg.HTTPClientConfig `yaml:"http_client"`
	QueryTimeout   model.Duration             `yaml:"query_timeout"`
	MaxConcurrency int                        `yaml:"max_concurrency"`
	Retries        int                        `yaml:"retries"`
}

// EnginesConfig holds the schedule of each analysis engine.
type EnginesConfig struct {
	Telemetry    EngineConfig `yaml:"telemetry"`
	Dependencies EngineConfig `yaml:"dependencies"`
	Cost         EngineConfig `yaml:"cost"`
	CostInsight  EngineConfig `yaml:"cost_insight"`
}

// DependenciesConfig configures dependency discovery.
type DependenciesConfig struct {
	// Sources lists the built-in telemetry adapters to use, in order of
	// preference for traffic figures.
	Sources []string `yaml:"sources"`
	// Generic adds adapters for metrics the built-ins do not know.
	Generic []topology.GenericConfig `yaml:"generic"`
	// Retention is how long an edge stays after its series was last seen.
	Retention model.Duration `yaml:"retention"`
	// RateWindow is the range of rate() for traffic figures.
	RateWindow model.Duration `yaml:"rate_window"`
	// MaxEdges and MaxServices cap the graph; what they refuse is counted.
	MaxEdges    int `yaml:"max_edges"`
	MaxServices int `yaml:"max_services"`
	// Gateways are entry points that have callers (ingress, API gateways).
	Gateways []string `yaml:"gateways"`
}

// EngineConfig is the schedule of one engine.
type EngineConfig struct {
	// Interval is the time between the starts of two runs.
	Interval model.Duration `yaml:"interval"`
	// Timeout bounds one run; a run that exceeds it fails and the last good
	// result keeps being served.
	Timeout model.Duration `yaml:"timeout"`
}

// DemoConfig shapes the built-in world that serve runs when no data source is given.
type DemoConfig struct {
	Scenario string         `yaml:"scenario"`
	Seed     int64          `yaml:"seed"`
	Backfill model.Duration `yaml:"backfill"`
}

// Default returns the configuration used when no file is given; Load starts
// from it so that every field left out of a file keeps its default.
func Default() Config {
	return Config{
		Prometheus: PrometheusConfig{
			HTTPClient:     commoncfg.DefaultHTTPClientConfig,
			QueryTimeout:   model.Duration(30 * time.Second),
			MaxConcurrency: 4,
			Retries:        3,
		},
		Engines: EnginesConfig{
			Telemetry: EngineConfig{
				Interval: model.Duration(time.Minute),
				Timeout:  model.Duration(30 * time.Second),
			},
			Dependencies: EngineConfig{
				Interval: model.Duration(time.Minute),
				Timeout:  model.Duration(50 * time.Second),
			},
			Cost: EngineConfig{
				Interval: model.Duration(5 * time.Minute),
				Timeout:  model.Duration(2 * time.Minute),
			},
			CostInsight: EngineConfig{
				Interval: model.Duration(15 * time.Minute),
				Timeout:  model.Duration(2 * time.Minute),
			},
		},
		Identity: identity.Config{ClusterLabel: identity.DefaultClusterLabel},
		Dependencies: DependenciesConfig{
			Sources:     topology.BuiltinSources(),
			Retention:   model.Duration(topology.DefaultRetention),
			RateWindow:  model.Duration(topology.DefaultRateWindow),
			MaxEdges:    topology.DefaultMaxEdges,
			MaxServices: topology.DefaultMaxServices,
		},
		Cost:        defaultCost(),
		CostInsight: defaultCostInsight(),
		Demo: DemoConfig{
			Scenario: "startup",
			Seed:     1,
			Backfill: model.Duration(3 * time.Hour),
		},
	}
}

// Load reads and validates the file at path. Relative paths inside the file
// (TLS certificates, password files, price files, billing exports, inventory
// files) are resolved against its directory.
func Load(path string) (*Config, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	cfg, err := Parse(content)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	cfg.Prometheus.HTTPClient.SetDirectory(dir)
	for _, files := range [][]string{cfg.Pricing.Files, cfg.Cost.BillingExports,
		cfg.Cost.Inventory} {
		for i, f := range files {
			if !filepath.IsAbs(f) {
				files[i] = filepath.Join(dir, f)
			}
		}
	}
	return cfg, nil
}

// Parse reads a configuration from YAML and validates it.
func Parse(content []byte) (*Config, error) {
	cfg := Default()
	if err := yaml.UnmarshalStrict(content, &cfg); err != nil {
		if located := locateError(content, reflect.TypeFor[Config]()); located != nil {
			return nil, located
		}
		return nil, tidyYAMLError(err)
	}
	if err := renderFieldErrors(cfg.validate(), content); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Validate checks values that the YAML types alone cannot, naming the field.
func (c *Config) Validate() error {
	return renderFieldErrors(c.validate(), nil)
}

// fieldError is a value that is wrong, by its dotted path in the file.
type fieldError struct {
	field string
	err   error
}

func (c *Config) validate() []fieldError {
	var errs []fieldError
	add := func(field string, err error) { errs = append(errs, fieldError{field, err}) }
	if u := c.Prometheus.URL; u != "" {
		if err := ValidatePrometheusURL(u); err != nil {
			add("prometheus.url", err)
		}
	}
	if err := c.Prometheus.HTTPClient.Validate(); err != nil {
		add("prometheus.http_client", err)
	}
	if c.Prometheus.QueryTimeout <= 0 {
		add("prometheus.query_timeout", errors.New("must be positive"))
	}
	if c.Prometheus.MaxConcurrency < 1 {
		add("prometheus.max_concurrency", errors.New("must be at least 1"))
	}
	if c.Prometheus.Retries < 0 {
		add("prometheus.retries", errors.New("must not be negative"))
	}
	for name, e := range map[string]EngineConfig{
		"telemetry": c.Engines.Telemetry, "dependencies": c.Engines.Dependencies,
		"cost": c.Engines.Cost, "cost_insight": c.Engines.CostInsight,
	} {
		if e.Interval <= 0 {
			add("engines."+name+".interval", errors.New("must be positive"))
		}
		if e.Timeout <= 0 {
			add("engines."+name+".timeout", errors.New("must be positive"))
		}
	}
	errs = append(errs, c.validateIdentity()...)
	errs = append(errs, c.Dependencies.validate()...)
	errs = append(errs, c.Cost.validate()...)
	errs = append(errs, c.CostInsight.validate()...)
	errs = append(errs, c.validatePricing()...)
	if !slices.Contains(sim.Scenarios(), c.Demo.Scenario) {
		add("demo.scenario", fmt.Errorf("%q is not one of %s",
			c.Demo.Scenario, strings.Join(sim.Scenarios(), ", ")))
	}
	if c.Demo.Backfill < 0 {
		add("demo.backfill", errors.New("must not be negative"))
	}
	return errs
}

// renderFieldErrors joins errors in a stable order, each as "field: problem",
// prefixed with the line of the field in content where content has it.
func renderFieldErrors(errs []fieldError, content []byte) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := fmt.Sprintf("%s: %v", e.field, e.err)
		if line := lineOf(content, e.field); line > 0 {
			msg = fmt.Sprintf("line %d: %s", line, msg)
		}
		msgs = append(msgs, msg)
	}
	slices.Sort(msgs)
	return errors.New(strings.Join(msgs, "; "))
}

// ValidatePrometheusURL checks that u is an absolute http or https URL.
// Errors never repeat a password the URL may carry.
func ValidatePrometheusURL(u string) error {
	parsed, err := url.Parse(u)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			return urlErr.Err // its URL field would repeat the password
		}
		return errors.New("not a valid URL")
	}
	if parsed.Scheme != "http" && parsed.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", parsed.Redacted())
	}
	if parsed.Host == "" {
		return fmt.Errorf("%q: host is missing", parsed.Redacted())
	}
	if strings.HasSuffix(strings.TrimRight(parsed.Path, "/"), "/api/v1") {
		return fmt.Errorf("%q: give the base URL, without /api/v1", parsed.Redacted())
	}
	return nil
}

// tidyYAMLError turns the YAML library's multi-line "unmarshal errors" into
// one line per problem joined by "; ", so that a log line stays one line and
// still names every line of the file that is wrong.
func tidyYAMLError(err error) error {
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) {
		return errors.New(strings.Join(typeErr.Errors, "; "))
	}
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

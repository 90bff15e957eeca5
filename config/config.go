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

	"github.com/stratus-monitoring/stratus/sim"
)

// Config is the whole configuration file.
type Config struct {
	Prometheus PrometheusConfig `yaml:"prometheus"`
	Engines    EnginesConfig    `yaml:"engines"`
	Demo       DemoConfig       `yaml:"demo"`
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
	Telemetry EngineConfig `yaml:"telemetry"`
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
		},
		Demo: DemoConfig{
			Scenario: "startup",
			Seed:     1,
			Backfill: model.Duration(3 * time.Hour),
		},
	}
}

// Load reads and validates the file at path. Relative paths inside the file
// (TLS certificates, password files) are resolved against its directory.
func Load(path string) (*Config, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	cfg, err := Parse(content)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg.Prometheus.HTTPClient.SetDirectory(filepath.Dir(path))
	return cfg, nil
}

// Parse reads a configuration from YAML and validates it.
func Parse(content []byte) (*Config, error) {
	cfg := Default()
	if err := yaml.UnmarshalStrict(content, &cfg); err != nil {
		var typeErr *yaml.TypeError
		if !errors.As(err, &typeErr) {
			if located := locateError(content, reflect.TypeFor[Config]()); located != nil {
				return nil, located
			}
		}
		return nil, tidyYAMLError(err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Validate checks values that the YAML types alone cannot, naming the field.
func (c *Config) Validate() error {
	var errs []error
	if u := c.Prometheus.URL; u != "" {
		if err := ValidatePrometheusURL(u); err != nil {
			errs = append(errs, fmt.Errorf("prometheus.url: %w", err))
		}
	}
	if err := c.Prometheus.HTTPClient.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("prometheus.http_client: %w", err))
	}
	if c.Prometheus.QueryTimeout <= 0 {
		errs = append(errs, errors.New("prometheus.query_timeout: must be positive"))
	}
	if c.Prometheus.MaxConcurrency < 1 {
		errs = append(errs, errors.New("prometheus.max_concurrency: must be at least 1"))
	}
	if c.Prometheus.Retries < 0 {
		errs = append(errs, errors.New("prometheus.retries: must not be negative"))
	}
	errs = append(errs, c.Engines.Telemetry.validate("engines.telemetry")...)
	if !slices.Contains(sim.Scenarios(), c.Demo.Scenario) {
		errs = append(errs, fmt.Errorf("demo.scenario: %q is not one of %s",
			c.Demo.Scenario, strings.Join(sim.Scenarios(), ", ")))
	}
	if c.Demo.Backfill < 0 {
		errs = append(errs, errors.New("demo.backfill: must not be negative"))
	}
	return sortedJoin(errs)
}

func (e EngineConfig) validate(field string) []error {
	var errs []error
	if e.Interval <= 0 {
		errs = append(errs, fmt.Errorf("%s.interval: must be positive", field))
	}
	if e.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.timeout: must be positive", field))
	}
	return errs
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
	return nil
}

// sortedJoin joins errors in a stable order, since map iteration is random and
// the same file should always produce the same message.
func sortedJoin(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(errs))
	for _, err := range errs {
		msgs = append(msgs, err.Error())
	}
	slices.Sort(msgs)
	return errors.New(strings.Join(msgs, "; "))
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

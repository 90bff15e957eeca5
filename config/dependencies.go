package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/topology"
)

func (c *Config) validateIdentity() []fieldError {
	var errs []fieldError
	if !model.LegacyValidation.IsValidLabelName(c.Identity.ClusterLabel) {
		errs = append(errs, fieldError{"identity.cluster_label",
			fmt.Errorf("%q is not a valid label name", c.Identity.ClusterLabel)})
	}
	if err := c.Identity.Validate(); err != nil {
		errs = append(errs, fieldError{"identity", err})
	}
	return errs
}

func (d DependenciesConfig) validate() []fieldError {
	var errs []fieldError
	add := func(field string, err error) {
		errs = append(errs, fieldError{"dependencies." + field, err})
	}
	seen := map[string]bool{}
	for i, s := range d.Sources {
		switch {
		case !slices.Contains(topology.BuiltinSources(), s):
			add(fmt.Sprintf("sources[%d]", i), fmt.Errorf("%q is not one of %s",
				s, strings.Join(topology.BuiltinSources(), ", ")))
		case seen[s]:
			add(fmt.Sprintf("sources[%d]", i), fmt.Errorf("%q is listed twice", s))
		}
		seen[s] = true
	}
	for i, g := range d.Generic {
		if _, err := topology.NewGeneric(g, topology.AdapterOptions{}); err != nil {
			add(fmt.Sprintf("generic[%d]", i), err)
			continue
		}
		if seen[g.Name] || slices.Contains(topology.BuiltinSources(), g.Name) {
			add(fmt.Sprintf("generic[%d].name", i),
				fmt.Errorf("%q is already a source name", g.Name))
		}
		seen[g.Name] = true
	}
	if d.Retention <= 0 {
		add("retention", errors.New("must be positive"))
	}
	if d.RateWindow <= 0 {
		add("rate_window", errors.New("must be positive"))
	}
	if d.MaxEdges < 1 {
		add("max_edges", errors.New("must be at least 1"))
	}
	if d.MaxServices < 2 {
		add("max_services", errors.New("must be at least 2"))
	}
	for i, g := range d.Gateways {
		if _, err := identity.ParseService(g); err != nil {
			add(fmt.Sprintf("gateways[%d]", i), err)
		}
	}
	return errs
}

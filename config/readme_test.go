package config

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEExampleParses keeps the configuration example of the README true: it
// must be a valid file, every field of it known.
func TestREADMEExampleParses(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Configuration file\n")
	require.True(t, ok, "the README has a Configuration file section")
	_, block, ok := strings.Cut(section, "```yaml\n")
	require.True(t, ok, "with a YAML example")
	example, _, ok := strings.Cut(block, "```")
	require.True(t, ok)

	cfg, err := Parse([]byte(example))
	require.NoError(t, err)
	require.NotEmpty(t, cfg.CostInsight.Budgets, "the example shows every section")
	require.NotEmpty(t, cfg.Dependencies.Generic)
}

package inventory

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEExampleParses keeps the inventory example of the README true.
func TestREADMEExampleParses(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n### Resources outside Kubernetes: the inventory\n")
	require.True(t, ok, "the README has an inventory section")
	_, block, ok := strings.Cut(section, "```yaml\n")
	require.True(t, ok, "with a YAML example")
	example, _, ok := strings.Cut(block, "```")
	require.True(t, ok)

	got, err := Parse("README.md", []byte(example))
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, TypeVM, got[0].Type)
	require.Equal(t, TypeVolume, got[1].Type)
	require.Equal(t, TypeFunction, got[2].Type)
}

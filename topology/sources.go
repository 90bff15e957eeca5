package topology

import (
	"fmt"
	"strings"
)

// BuiltinSources names the built-in adapters in their default order of
// preference, as dependencies.sources in the configuration file lists them.
func BuiltinSources() []string {
	adapters := DefaultAdapters(AdapterOptions{})
	names := make([]string, len(adapters))
	for i, a := range adapters {
		names[i] = a.Name()
	}
	return names
}

// NewBuiltin returns the built-in adapter of that name.
func NewBuiltin(name string, opts AdapterOptions) (Adapter, error) {
	for _, a := range DefaultAdapters(opts) {
		if a.Name() == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%q is not a built-in source (valid: %s)",
		name, strings.Join(BuiltinSources(), ", "))
}

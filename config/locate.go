package config

import (
	"fmt"
	"reflect"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	yamlv3 "go.yaml.in/yaml/v3"
)

// locateError finds where in content a value fails to decode.
//
// The strict decoder reports a line for unknown fields and type mismatches, but
// an error returned by a type's own UnmarshalYAML (a bad duration, two auth
// methods in an HTTP client block) comes back without one. This walks the YAML
// tree alongside the Go type, decodes each value on its own, and names the line
// and the dotted field path of the first value that fails. It returns nil when
// it cannot do better than the original error.
func locateError(content []byte, target reflect.Type) error {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(content, &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	return locateIn(doc.Content[0], "", target)
}

var unmarshalerType = reflect.TypeFor[yamlv2.Unmarshaler]()

func locateIn(node *yamlv3.Node, path string, target reflect.Type) error {
	hasOwnDecoder := reflect.PointerTo(target).Implements(unmarshalerType)
	if target.Kind() == reflect.Struct && !hasOwnDecoder && node.Kind == yamlv3.MappingNode {
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, value := node.Content[i], node.Content[i+1]
			field, ok := fieldByYAMLName(target, key.Value)
			if !ok {
				continue // the strict decoder already names unknown fields
			}
			if err := locateIn(value, joinPath(path, key.Value), field.Type); err != nil {
				return err
			}
		}
		return nil
	}

	snippet, err := yamlv3.Marshal(node)
	if err != nil {
		return nil
	}
	if err := yamlv2.UnmarshalStrict(snippet, reflect.New(target).Interface()); err != nil {
		return fmt.Errorf("line %d: %s: %w", node.Line, path, tidyYAMLError(err))
	}
	return nil
}

func fieldByYAMLName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	yamlv3 "go.yaml.in/yaml/v3"
)

// locateError finds where in content a value fails to decode.
//
// The strict decoder names a line but speaks of Go types ("field x not found
// in type config.plain"), and an error returned by a type's own UnmarshalYAML
// (a bad duration, two auth methods in an HTTP client block) comes back with
// no line at all. This walks the YAML tree alongside the Go type, decodes
// each value on its own, and names the line and the dotted field path of the
// first value that fails. It returns nil when it cannot do better than the
// original error.
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
				return fmt.Errorf("line %d: %s: unknown field", key.Line,
					joinPath(path, key.Value))
			}
			if err := locateIn(resolveAliases(value), joinPath(path, key.Value), field.Type); err != nil {
				return err
			}
		}
		return nil
	}

	snippet, err := yamlv3.Marshal(resolveAliases(node))
	if err != nil {
		return nil
	}
	if err := yamlv2.UnmarshalStrict(snippet, reflect.New(target).Interface()); err != nil {
		return fmt.Errorf("line %d: %s: %s", innerLine(node, err), path, innerMessage(err))
	}
	return nil
}

var (
	snippetLine  = regexp.MustCompile(`^line (\d+): `)
	unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
)

// innerLine maps a line the decoder reported inside a re-encoded block back
// to the file: the block's first line is the node's own. Block-style YAML
// keeps its line structure when re-encoded, which is what files use.
func innerLine(node *yamlv3.Node, err error) int {
	var typeErr *yamlv2.TypeError
	if errors.As(err, &typeErr) && len(typeErr.Errors) > 0 {
		if m := snippetLine.FindStringSubmatch(typeErr.Errors[0]); m != nil {
			n, _ := strconv.Atoi(m[1])
			return node.Line + n - 1
		}
	}
	return node.Line
}

// innerMessage is the decoder's message without its snippet line numbers and
// Go type names.
func innerMessage(err error) string {
	var typeErr *yamlv2.TypeError
	if !errors.As(err, &typeErr) {
		return tidyYAMLError(err).Error()
	}
	msgs := make([]string, 0, len(typeErr.Errors))
	for _, m := range typeErr.Errors {
		m = snippetLine.ReplaceAllString(m, "")
		m = unknownField.ReplaceAllString(m, "unknown field $1")
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
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

// lineOf returns the line of the value at the dotted path in content, or 0
// when content does not spell the field out (it has its default).
func lineOf(content []byte, path string) int {
	var doc yamlv3.Node
	if len(content) == 0 || yamlv3.Unmarshal(content, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	node := resolveAliases(doc.Content[0])
	line := 0
	for _, segment := range strings.Split(path, ".") {
		name, index := splitIndex(segment)
		node = mappingValue(node, name)
		if node != nil && index >= 0 {
			if node.Kind != yamlv3.SequenceNode || index >= len(node.Content) {
				node = nil
			} else {
				node = node.Content[index]
			}
		}
		if node == nil {
			return line // the deepest part of the path that the file has
		}
		line = node.Line
	}
	return line
}

// splitIndex reads a path segment "name[3]" as ("name", 3), and "name" as
// ("name", -1).
func splitIndex(segment string) (string, int) {
	open := strings.IndexByte(segment, '[')
	if open < 0 || !strings.HasSuffix(segment, "]") {
		return segment, -1
	}
	i, err := strconv.Atoi(segment[open+1 : len(segment)-1])
	if err != nil || i < 0 {
		return segment, -1
	}
	return segment[:open], i
}

func mappingValue(node *yamlv3.Node, key string) *yamlv3.Node {
	if node == nil || node.Kind != yamlv3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i+1]
		}
	}
	return nil
}

// resolveAliases returns node with every alias replaced by a copy of what it
// points to. A subtree re-encoded on its own would otherwise carry "*name"
// without the anchor it names, and the decoder would complain about the
// anchor instead of the real problem.
func resolveAliases(node *yamlv3.Node) *yamlv3.Node {
	if node == nil {
		return nil
	}
	if node.Kind == yamlv3.AliasNode && node.Alias != nil {
		// Errors should point at the use, not at the anchor.
		target := *resolveAliases(node.Alias)
		target.Line, target.Column = node.Line, node.Column
		return &target
	}
	if len(node.Content) == 0 {
		return node
	}
	copied := *node
	copied.Anchor = ""
	copied.Content = make([]*yamlv3.Node, len(node.Content))
	for i, child := range node.Content {
		copied.Content[i] = resolveAliases(child)
	}
	return &copied
}

// Package inventory holds the cloud and on-premises resources Stratus knows of
// from outside Prometheus: virtual machines, managed databases, caches and
// brokers, volumes, buckets, load balancers and NAT gateways, each with its
// type, place and tags. The cost engine prices them; readers of
// infrastructure-as-code and the simulator produce them.
//
// An inventory file is YAML:
//
//	resources:
//	  - id: i-0a1b2c3d4e5f67890
//	    type: vm
//	    cloud: aws
//	    region: us-east-1
//	    account: "123456789012"
//	    instance_type: m5.large
//	    tags: {service: checkout, team: payments, owner: ana}
//	  - id: vol-0123456789abcdef0
//	    type: volume
//	    cloud: aws
//	    region: us-east-1
//	    product: ebs-gp3
//	    size_gib: 200
//	    tags: {service: checkout}
package inventory

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Resource types, the resource_type label of their cost. Each is priced one way:
// the hourly types by InstanceType (an instance type, a database class, a load
// balancer or gateway product), the stored types by Product per GiB-month times
// SizeGiB.
const (
	TypeVM           = "vm"
	TypeDatabase     = "database"
	TypeCache        = "cache"
	TypeBroker       = "broker"
	TypeLoadBalancer = "load_balancer"
	TypeNATGateway   = "nat_gateway"
	TypeVolume       = "volume"
	TypeBucket       = "bucket"
	// TypeFunction is a serverless function: an AWS Lambda function, whose
	// configured memory (MemoryMiB) no CloudWatch metric reports, or an Azure
	// function app, whose region and tags Azure Monitor's metrics do not give.
	// Its cost comes from its usage, not from here.
	TypeFunction = "function"
)

// Hourly reports whether resources of type t are priced per hour by their
// InstanceType; stored types are priced per GiB-month of SizeGiB, and
// functions from their usage.
func Hourly(t string) bool {
	return slices.Contains(hourlyTypes, t)
}

var (
	hourlyTypes = []string{TypeVM, TypeDatabase, TypeCache, TypeBroker, TypeLoadBalancer,
		TypeNATGateway}
	storedTypes = []string{TypeVolume, TypeBucket}
	usageTypes  = []string{TypeFunction}
)

// Resource is one resource of the inventory.
type Resource struct {
	// ID is the resource's id within its cloud, as its billing export names it
	// (an instance id, an ARN, a self-link), so that reconciliation can match it.
	ID   string
	Type string
	// Name is a human name, if any.
	Name    string
	Cloud   string
	Region  string
	Account string
	// InstanceType is what an hourly resource is priced by: m5.large,
	// db.r6g.large, n2-standard-2.
	InstanceType string
	// OS is the operating system of a VM's price; empty means linux.
	OS string
	// Purchase is on_demand (when empty), spot, reserved or committed.
	Purchase string
	// Product and SizeGiB price a stored resource: ebs-gp3, 200.
	Product string
	SizeGiB float64
	// MemoryMiB is the configured memory of a Lambda function; optional.
	MemoryMiB float64
	// Tags are the resource's cloud tags (labels on GCP), which say its
	// service, team and owner.
	Tags map[string]string

	// File and Line say where the resource was read, for messages.
	File string
	Line int
}

// Where returns "file:line" of the resource, or its id where it was not read
// from a file.
func (r Resource) Where() string {
	if r.File == "" {
		return fmt.Sprintf("resource %q", r.ID)
	}
	return fmt.Sprintf("%s:%d", r.File, r.Line)
}

// ReadFile reads an inventory file.
func ReadFile(path string) ([]Resource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return Parse(path, data)
}

// Parse reads an inventory from data; name is the file name used in errors,
// which all say "name:line: field: problem". Unknown fields, a missing or
// duplicate id, an unknown type, and a missing or invalid price key are errors:
// an inventory that is wrong is wrong at once, not at the first cost cycle.
func Parse(name string, data []byte) ([]Resource, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping with a resources list", name, root.Line)
	}
	var items *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, value := root.Content[i], root.Content[i+1]
		if key.Value != "resources" {
			return nil, fmt.Errorf("%s:%d: %s: unknown field", name, key.Line, key.Value)
		}
		items = value
	}
	if items == nil || items.Tag == "!!null" {
		return nil, nil
	}
	if items.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: resources: want a list", name, items.Line)
	}

	out := make([]Resource, 0, len(items.Content))
	seen := map[[2]string]int{}
	for i, item := range items.Content {
		path := fmt.Sprintf("resources[%d]", i)
		r, err := parseResource(item, path)
		if err != nil {
			return nil, fmt.Errorf("%s:%w", name, err)
		}
		r.File = name
		k := [2]string{r.Cloud, r.ID}
		if first, dup := seen[k]; dup {
			return nil, fmt.Errorf("%s:%d: %s.id: %q of cloud %q is listed already on line %d",
				name, r.Line, path, r.ID, r.Cloud, first)
		}
		seen[k] = r.Line
		out = append(out, r)
	}
	return out, nil
}

// lineError is an error at a line of the file and a field path.
func lineError(line int, path, format string, args ...any) error {
	return fmt.Errorf("%d: %s: %s", line, path, fmt.Sprintf(format, args...))
}

// parseResource reads one resource and checks it.
func parseResource(node *yaml.Node, path string) (Resource, error) {
	r := Resource{Line: node.Line}
	if node.Kind != yaml.MappingNode {
		return r, lineError(node.Line, path, "want a mapping")
	}
	text := map[string]*string{
		"id": &r.ID, "type": &r.Type, "name": &r.Name, "cloud": &r.Cloud,
		"region": &r.Region, "account": &r.Account, "instance_type": &r.InstanceType,
		"os": &r.OS, "purchase": &r.Purchase, "product": &r.Product,
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		field := path + "." + key.Value
		if _, dup := lines[key.Value]; dup {
			return r, lineError(key.Line, field, "given twice")
		}
		lines[key.Value] = value.Line
		switch key.Value {
		case "size_gib":
			v, err := parseSize(value)
			if err != nil {
				return r, lineError(value.Line, field, "%v", err)
			}
			r.SizeGiB = v
		case "memory_mib":
			v, err := parseSize(value)
			if err != nil || v == 0 {
				return r, lineError(value.Line, field, "%q is not a positive number of MiB",
					value.Value)
			}
			r.MemoryMiB = v
		case "tags":
			tags, err := parseTags(value, field)
			if err != nil {
				return r, err
			}
			r.Tags = tags
		default:
			dst, ok := text[key.Value]
			if !ok {
				return r, lineError(key.Line, field, "unknown field")
			}
			if value.Kind != yaml.ScalarNode || value.Tag == "!!null" {
				return r, lineError(value.Line, field, "want a string")
			}
			*dst = trim(value.Value)
		}
	}
	// Clouds and regions are lower case wherever Stratus meets them (price
	// books, provider ids, labels): `AWS` and `US-EAST-1` mean the same.
	r.Cloud, r.Region = strings.ToLower(r.Cloud), strings.ToLower(r.Region)
	if _, ok := lines["size_gib"]; !ok && slices.Contains(storedTypes, r.Type) {
		r.SizeGiB = math.NaN() // check reports it missing
	}
	return r, r.check(path, func(f string) int {
		if l, ok := lines[f]; ok {
			return l
		}
		return node.Line
	})
}

// trim removes surrounding white space.
func trim(s string) string { return strings.TrimSpace(s) }

// parseSize reads a size in GiB: a finite number, not negative.
func parseSize(value *yaml.Node) (float64, error) {
	if value.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("want a number")
	}
	v, err := strconv.ParseFloat(value.Value, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%q is not a finite number of GiB, 0 or more", value.Value)
	}
	return v, nil
}

// parseTags reads a mapping of tag keys to string values.
func parseTags(value *yaml.Node, path string) (map[string]string, error) {
	if value.Tag == "!!null" {
		return nil, nil
	}
	if value.Kind != yaml.MappingNode {
		return nil, lineError(value.Line, path, "want a mapping of tag keys to values")
	}
	tags := make(map[string]string, len(value.Content)/2)
	for i := 0; i+1 < len(value.Content); i += 2 {
		k, v := value.Content[i], value.Content[i+1]
		if k.Value == "" {
			return nil, lineError(k.Line, path, "empty tag key")
		}
		if v.Kind != yaml.ScalarNode {
			return nil, lineError(v.Line, path+"."+k.Value, "want a string")
		}
		if _, dup := tags[k.Value]; dup {
			return nil, lineError(k.Line, path+"."+k.Value, "given twice")
		}
		tags[k.Value] = v.Value
		if v.Tag == "!!null" {
			tags[k.Value] = ""
		}
	}
	return tags, nil
}

// check validates a resource read from a file; lineOf gives the line of a
// field (the resource's own when the field is absent).
func (r Resource) check(path string, lineOf func(field string) int) error {
	fail := func(field, format string, args ...any) error {
		return lineError(lineOf(field), path+"."+field, format, args...)
	}
	switch {
	case r.ID == "":
		return fail("id", "required")
	case r.Cloud == "":
		return fail("cloud", "required")
	case r.Type == "":
		return fail("type", "required: one of %s", strings.Join(types(), ", "))
	case !slices.Contains(types(), r.Type):
		return fail("type", "%q is not one of %s", r.Type, strings.Join(types(), ", "))
	}
	switch r.Purchase {
	case "", "on_demand", "spot", "reserved", "committed":
	default:
		return fail("purchase", "%q is not one of on_demand, spot, reserved, committed",
			r.Purchase)
	}
	if r.MemoryMiB != 0 && r.Type != TypeFunction {
		return fail("memory_mib", "only a function has a configured memory")
	}
	if r.Type == TypeFunction {
		switch {
		case r.Cloud != "aws" && r.Cloud != "azure":
			return fail("cloud", "functions are read for aws (Lambda) and azure (Functions), "+
				"not %q", r.Cloud)
		case r.InstanceType != "" || r.Product != "" || r.SizeGiB != 0 || r.OS != "" ||
			r.Purchase != "":
			return fail("type", "a function is priced from its usage: give memory_mib, "+
				"not instance_type, product, size_gib, os or purchase")
		}
		return nil
	}
	if Hourly(r.Type) {
		switch {
		case r.InstanceType == "":
			return fail("instance_type", "required for a %s: what it is priced by", r.Type)
		case r.Product != "":
			return fail("product", "a %s is priced by instance_type, not product and size_gib",
				r.Type)
		case r.SizeGiB != 0:
			return fail("size_gib", "a %s is priced by instance_type, not product and size_gib",
				r.Type)
		}
		return nil
	}
	switch {
	case r.Product == "":
		return fail("product", "required for a %s: the storage product it is priced by", r.Type)
	case math.IsNaN(r.SizeGiB):
		return fail("size_gib", "required for a %s: the GiB it stores", r.Type)
	case r.Type == TypeVolume && r.SizeGiB == 0:
		return fail("size_gib", "a volume of 0 GiB: give its provisioned size")
	case r.InstanceType != "":
		return fail("instance_type", "a %s is priced by product and size_gib", r.Type)
	case r.OS != "":
		return fail("os", "a %s has no operating system", r.Type)
	case r.Purchase != "" && r.Purchase != "on_demand":
		return fail("purchase", "a %s is priced per GiB-month on demand", r.Type)
	}
	return nil
}

// types lists every resource type.
func types() []string { return slices.Concat(hourlyTypes, storedTypes, usageTypes) }

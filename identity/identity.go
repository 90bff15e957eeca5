// Package identity maps the names that telemetry sources give services onto the one
// identity every Stratus engine speaks of: a service name, plus the namespace and
// cluster where Kubernetes gives them.
//
// Sources disagree on names. A mesh knows the workload, its namespace and cluster;
// a trace knows only `service.name`; a span attribute may carry a DNS name such as
// `cart.shop.svc.cluster.local:8080`. The Resolver reconciles them: it reads a host
// name as name and namespace, applies configured aliases, and completes a bare name
// from the one fully named service that carries it. A bare name that matches several
// services stays bare: guessing would merge two services into one.
package identity

import (
	"fmt"
	"net"
	"strings"
)

// Service identifies a service. Empty parts mean "not known".
type Service struct {
	Cluster   string
	Namespace string
	Name      string
}

// String returns "cluster/namespace/name" with empty parts kept, the form node IDs
// and the JSON outputs use.
func (s Service) String() string {
	return s.Cluster + "/" + s.Namespace + "/" + s.Name
}

// Bare reports whether only the name is known.
func (s Service) Bare() bool { return s.Namespace == "" && s.Cluster == "" }

// ParseService reads "name", "namespace/name" or "cluster/namespace/name".
func ParseService(s string) (Service, error) {
	parts := strings.Split(s, "/")
	var svc Service
	switch len(parts) {
	case 1:
		svc.Name = parts[0]
	case 2:
		svc.Namespace, svc.Name = parts[0], parts[1]
	case 3:
		svc.Cluster, svc.Namespace, svc.Name = parts[0], parts[1], parts[2]
	default:
		return Service{}, fmt.Errorf("%q: want name, namespace/name or cluster/namespace/name", s)
	}
	if svc.Name == "" {
		return Service{}, fmt.Errorf("%q: the name is empty", s)
	}
	return svc, nil
}

// clusterDomain is the DNS suffix of Kubernetes services. Clusters may configure
// another; a name with a different suffix is read as an external host.
const clusterDomain = ".svc.cluster.local"

// FromHost reads a host as a source reported it (a `server.address` span attribute,
// an Istio `destination_service`, an authority): the port is removed, and a
// Kubernetes service DNS name (`name.namespace`, `name.namespace.svc`,
// `name.namespace.svc.cluster.local`) gives the name and namespace. Any other host
// is returned whole as the name, with external true when it has a dot (a DNS name
// or an IP address outside the cluster's naming).
func FromHost(host string) (svc Service, external bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if net.ParseIP(host) != nil {
		return Service{Name: host}, true
	}
	trimmed := strings.TrimSuffix(strings.TrimSuffix(host, clusterDomain), ".svc")
	parts := strings.Split(trimmed, ".")
	switch {
	case len(parts) == 1:
		return Service{Name: parts[0]}, false
	case len(parts) == 2 && trimmed != host:
		return Service{Namespace: parts[1], Name: parts[0]}, false
	case len(parts) == 2 && isTopLevelLike(parts[1]):
		return Service{Name: host}, true
	case len(parts) == 2:
		return Service{Namespace: parts[1], Name: parts[0]}, false
	}
	return Service{Name: host}, true
}

// isTopLevelLike tells "api.example" style names (an external host under a short
// top-level domain) from "cart.shop" (a service in a namespace) as well as a name
// alone can: common top-level domains are taken as external.
func isTopLevelLike(label string) bool {
	switch label {
	case "com", "net", "org", "io", "dev", "app", "cloud", "co", "ai", "internal", "local":
		return true
	}
	return false
}

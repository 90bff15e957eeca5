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

// FromHost reads a host as a source reported it (a `server.address` span attribute,
// an Istio `destination_service`, an authority): the port is removed, and a
// Kubernetes service DNS name gives the name and namespace — `name.namespace`,
// `name.namespace.svc`, or `name.namespace.svc.` followed by any cluster domain.
// Any other host is returned whole as the name, with external true: a name with
// more labels, an IP address, or two labels whose second is a common top-level
// domain (`stripe.com`; a namespace called `com` is rarer than a host under it).
func FromHost(host string) (svc Service, external bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if net.ParseIP(host) != nil {
		return Service{Name: host}, true
	}
	if before, _, ok := strings.Cut(host, ".svc."); ok {
		host = before
	} else {
		host = strings.TrimSuffix(host, ".svc")
	}
	parts := strings.Split(host, ".")
	if len(parts) == 1 {
		return Service{Name: parts[0]}, false
	}
	if len(parts) == 2 && !topLevelDomains[parts[1]] {
		return Service{Namespace: parts[1], Name: parts[0]}, false
	}
	return Service{Name: host}, true
}

// topLevelDomains are the generic top-level domains a two-label host most often
// ends in. Only these: a short namespace such as dev, app or prod is common.
var topLevelDomains = map[string]bool{
	"com": true, "net": true, "org": true, "io": true, "edu": true, "gov": true,
}

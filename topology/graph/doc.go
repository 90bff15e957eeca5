// Package graph holds the directed service graph of Stratus and its analysis.
//
// A node is a service, database, message broker, external host or an unknown caller
// (a client without a proxy or instrumentation), identified by cluster, namespace and
// name. An edge points from the client to the server of a call and carries what the
// telemetry saw over one analysis window: the request rate, the error ratio the client
// observed, the error ratio the server reported and the server-side p95 latency.
//
// Analyze is a pure function of a Graph and Options: it does no I/O, reads no clock and
// keeps no state, so the same input always gives the same Result. Every list in a Result
// is ordered by node ID (or by a documented rule built on it), never by map order.
//
// Cycles are common in real service graphs (callbacks, services that call each other
// through a queue), so path-based answers work on the condensation: each strongly
// connected component becomes one vertex and the result is a DAG. Self-loops (a
// service calling itself) are kept on the graph and reported, but they take no part in
// paths, fan-in or fan-out, because "X depends on X" tells an operator nothing.
//
// The latency and error answers are estimates from aggregate metrics, not from traces;
// each function says what it assumes and where the estimate breaks down.
package graph

#!/usr/bin/awk -f
# benchtable.awk turns `go test -bench -benchmem` output into a Markdown table,
# one row per benchmark: time, memory and allocations per operation, and any
# custom metrics a benchmark reports with b.ReportMetric (ratios, per-resource
# figures). Lines that are not results (goos, PASS, ok) pass through to stderr
# only when they report a failure, so the table stays clean.
#
# Usage: go test -run='^$' -bench=. -benchmem ./... | awk -f scripts/benchtable.awk

/^pkg: / {
	pkg = $2
	sub(/^github\.com\/stratus-monitoring\/stratus\/?/, "", pkg)
	if (pkg == "") pkg = "."
	next
}

/^Benchmark/ && NF >= 4 && $2 ~ /^[0-9]+$/ {
	name = $1
	sub(/^Benchmark/, "", name)
	sub(/-[0-9]+$/, "", name) # the GOMAXPROCS suffix
	ns = bytes = allocs = ""
	extra = ""
	for (i = 3; i + 1 <= NF; i += 2) {
		value = $i
		unit = $(i + 1)
		if (unit == "ns/op") ns = value
		else if (unit == "B/op") bytes = value
		else if (unit == "allocs/op") allocs = value
		else extra = extra (extra == "" ? "" : ", ") value " " unit
	}
	rows++
	row[rows] = sprintf("| %s | %s | %s | %s | %s | %s | %s |", pkg, name, $2,
		human(ns, "ns"), bytes, allocs, extra)
	next
}

/^(--- FAIL|FAIL|panic:)/ { failed = 1; print > "/dev/stderr" }

END {
	if (rows == 0) {
		print "no benchmarks ran"
		exit failed
	}
	print "| package | benchmark | runs | time/op | B/op | allocs/op | custom metrics |"
	print "|---|---|---:|---:|---:|---:|---|"
	for (r = 1; r <= rows; r++) print row[r]
	exit failed
}

# human prints a duration in ns with a readable unit next to it.
function human(v, unit) {
	if (v == "") return ""
	if (v >= 1e9) return sprintf("%.3f s", v / 1e9)
	if (v >= 1e6) return sprintf("%.3f ms", v / 1e6)
	if (v >= 1e3) return sprintf("%.3f µs", v / 1e3)
	return sprintf("%s ns", v)
}

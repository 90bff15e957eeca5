#!/usr/bin/env bash
# coverage.sh joins the coverage that `make unit` and `make e2e` leave under
# COVERDIR, prints statement coverage per package and in total, and fails when the
# total is below the threshold.
#
# Usage: scripts/coverage.sh COVERDIR THRESHOLD_PERCENT
#
# Inputs (at least one must hold data):
#   COVERDIR/unit.out  text profile from `go test -coverpkg=./... -coverprofile=...`.
#                      It lists every package of the module, tested or not, so a
#                      package nobody tests counts as 0% instead of vanishing.
#                      (Binary data from -test.gocoverdir would leave out packages
#                      that no test binary links, which is why unit uses this.)
#   COVERDIR/e2e/      binary coverage data written by stratus binaries that the e2e
#                      tests build with `go build -cover` and run with GOCOVERDIR set.
# Outputs:
#   COVERDIR/e2e.out       the e2e data as a text profile (go tool covdata textfmt)
#   COVERDIR/coverage.out  unit and e2e joined: a block counts as covered if either
#                          run executed it
#   COVERDIR/func.txt      per-function coverage, COVERDIR/coverage.html a report
#
# Nothing is excluded unless COVER_EXCLUDE (an extended regular expression matched
# against import paths) is set; what it removes is printed with COVER_EXCLUDE_REASON.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 COVERDIR THRESHOLD_PERCENT" >&2
	exit 2
fi
coverdir=$1
threshold=$2

profiles=()
if [[ -s $coverdir/unit.out ]]; then
	profiles+=("$coverdir/unit.out")
	echo "coverage: unit profile $coverdir/unit.out"
else
	echo "coverage: no unit profile at $coverdir/unit.out (make unit did not run?)"
fi
if compgen -G "$coverdir/e2e/covmeta.*" >/dev/null; then
	go tool covdata textfmt -i="$coverdir/e2e" -o="$coverdir/e2e.out"
	profiles+=("$coverdir/e2e.out")
	runs=$(find "$coverdir/e2e" -name 'covcounters.*' | wc -l)
	echo "coverage: e2e data from $runs binary run(s) in $coverdir/e2e"
else
	echo "coverage: no e2e data in $coverdir/e2e (no e2e tests, or the binaries they" \
		"ran did not exit cleanly: coverage is written only on a normal exit)"
fi
if [[ ${#profiles[@]} -eq 0 ]]; then
	echo "coverage: FAIL: no coverage data at all under $coverdir" >&2
	exit 1
fi

# Join the profiles. A block is "file:start,end statements count"; the same block
# may appear several times (once per test binary, once per e2e run). Counter modes
# may differ between inputs, so the result is in mode "set": covered or not.
awk -v exclude="${COVER_EXCLUDE:-}" '
	FNR == 1 && /^mode:/ { next }
	{
		block = $1 " " $2
		pkg = $1; sub(/:[0-9].*$/, "", pkg); sub(/\/[^\/]*$/, "", pkg)
		if (exclude != "" && pkg ~ exclude) { dropped[pkg] = 1; next }
		if (!(block in count)) { order[++n] = block; count[block] = 0 }
		if ($3 > 0) count[block] = 1
	}
	END {
		print "mode: set"
		for (i = 1; i <= n; i++) print order[i], count[order[i]]
		for (p in dropped) print p > "/dev/stderr"
	}
' "${profiles[@]}" >"$coverdir/coverage.out" 2>"$coverdir/excluded.txt"
if [[ -s $coverdir/excluded.txt ]]; then
	echo "coverage: EXCLUDED packages matching /${COVER_EXCLUDE}/ because:" \
		"${COVER_EXCLUDE_REASON:-no reason given}"
	sed 's/^/coverage:   excluded /' "$coverdir/excluded.txt"
fi
if [[ $(wc -l <"$coverdir/coverage.out") -le 1 ]]; then
	echo "coverage: FAIL: the joined profile has no statements" >&2
	exit 1
fi

echo "coverage: per package, unit and e2e together (covered/statements):"
awk '
	NR == 1 { next }
	{
		pkg = $1; sub(/:[0-9].*$/, "", pkg); sub(/\/[^\/]*$/, "", pkg)
		stmts[pkg] += $2
		if ($3 > 0) covered[pkg] += $2
	}
	END {
		for (p in stmts)
			printf "  %6.1f%%  %6d/%-6d %s\n", 100 * covered[p] / stmts[p], covered[p], stmts[p], p
	}
' "$coverdir/coverage.out" | sort -b -k3,3

go tool cover -func="$coverdir/coverage.out" >"$coverdir/func.txt"
go tool cover -html="$coverdir/coverage.out" -o "$coverdir/coverage.html"
total=$(awk '$1 == "total:" { sub(/%/, "", $NF); print $NF }' "$coverdir/func.txt")
echo "coverage: total ${total}% of statements (gate: ${threshold}%)" \
	"- details in $coverdir/func.txt, $coverdir/coverage.html"

if awk -v t="$total" -v min="$threshold" 'BEGIN { exit !(t + 0 < min + 0) }'; then
	echo "coverage: FAIL: total ${total}% is below ${threshold}%" >&2
	exit 1
fi
echo "coverage: ok"

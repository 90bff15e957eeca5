#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the module, one after the other, each for
# the given time (default 30s). Go fuzzes one target of one package per run, so
# the targets are found by looking for `func FuzzXxx(` in test files.
#
# Usage: scripts/fuzz.sh [FUZZTIME]
# New crashers land in the package's testdata/fuzz/FuzzXxx/ and fail the run;
# commit them so that `go test` keeps checking the case.
set -euo pipefail

fuzztime=${1:-30s}
cd "$(dirname "$0")/.."

targets=$(
	grep -rEo --include='*_test.go' \
		--exclude-dir=.git --exclude-dir=.tools --exclude-dir=tools --exclude-dir=testdata \
		'^func Fuzz[A-Za-z0-9_]*\(' . |
		sed -E 's#^\./##; s#^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#; s#^[^/]*:func (Fuzz[A-Za-z0-9_]*)\($#. \1#' |
		sort -u
)
if [[ -z $targets ]]; then
	echo "fuzz: no Fuzz* targets in the module yet"
	exit 0
fi

count=$(wc -l <<<"$targets")
echo "fuzz: $count target(s), $fuzztime each"
failed=()
while read -r dir name; do
	echo "fuzz: ./$dir $name"
	if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "./$dir"; then
		failed+=("./$dir $name")
	fi
done <<<"$targets"

if [[ ${#failed[@]} -gt 0 ]]; then
	printf 'fuzz: FAILED: %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "fuzz: all $count target(s) ran $fuzztime without a failure"

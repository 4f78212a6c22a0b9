#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a bounded time each.
#
#   scripts/fuzz.sh            # each target for $FUZZTIME (default 20s)
#   FUZZTIME=2m scripts/fuzz.sh FuzzRead
#
# Arguments, when given, are target names to run; by default every
# "func FuzzX(f *testing.F)" found under the module is run. A failing
# input is written by Go under the package's testdata/fuzz/FuzzX/ and
# makes this script exit non-zero; commit that file with the fix, so that
# plain "go test" replays it from then on.
set -euo pipefail

cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-20s}"

targets=$(grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
	while read -r file; do
		dir=$(dirname "$file")
		grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed "s|^func |$dir |"
	done | sort)

failed=0
ran=0
while read -r dir name; do
	[[ -n "$name" ]] || continue
	if (($# > 0)) && ! printf '%s\n' "$@" | grep -qx "$name"; then
		continue
	fi

	ran=$((ran + 1))
	echo "== $name ($dir, $fuzztime)"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir"; then
		echo "FAIL: $name: the failing input is under $dir/testdata/fuzz/$name/" >&2
		failed=$((failed + 1))
	fi
done <<<"$targets"

if ((ran == 0)); then
	echo "fuzz.sh: no fuzz target matched: ${*:-(none found)}" >&2
	exit 2
fi
if ((failed > 0)); then
	echo "fuzz.sh: $failed of $ran fuzz targets failed" >&2
	exit 1
fi
echo "fuzz.sh: $ran fuzz targets passed ($fuzztime each)"

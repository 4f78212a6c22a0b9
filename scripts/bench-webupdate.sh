#!/usr/bin/env bash
# bench-webupdate.sh [PROJECT]
#
# Measures `mfpdev app webupdate --build` on a large prepared project and
# compares it with `zip -r -q -X` on the same www folders:
#
#   - wall time with hyperfine: one platform (ios) and both platforms, each
#     against zip of the same folders;
#   - peak memory (maximum resident set size) with /usr/bin/time -v;
#   - archive sizes.
#
# PROJECT defaults to $MFPDEV_CACHE/bench-project (MFPDEV_CACHE defaults to
# ${XDG_CACHE_HOME:-~/.cache}/mfpdev) and is built with
# scripts/make-bench-project.sh when missing. Results go to
# $BENCH_OUT (default $MFPDEV_CACHE/bench-results): the hyperfine
# exports and results.md, a markdown snippet for docs/benchmarks.md.
# BENCH_RUNS sets the hyperfine runs per command (default 10). BENCH_MFPDEV
# names an mfpdev binary to measure instead of building one from this tree.
#
# Needs hyperfine and /usr/bin/time (Debian packages hyperfine and time);
# as root the script installs missing ones with apt-get.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${MFPDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mfpdev}"
project="${1:-$cache/bench-project}"
out="${BENCH_OUT:-$cache/bench-results}"
runs="${BENCH_RUNS:-10}"

ensure_tools() {
	local missing=()
	command -v hyperfine >/dev/null || missing+=(hyperfine)
	[[ -x /usr/bin/time ]] || missing+=(time)
	command -v zip >/dev/null || missing+=(zip)
	((${#missing[@]} == 0)) && return 0

	if [[ $(id -u) -ne 0 ]]; then
		log "bench-webupdate: ${missing[*]} not found: run sudo apt-get install ${missing[*]}"
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# peak_rss_kb COMMAND... runs the command once under /usr/bin/time -v and
# prints its maximum resident set size in KiB.
peak_rss_kb() {
	local report
	report="$(mktemp)"
	/usr/bin/time -v -o "$report" "$@" >/dev/null 2>&1
	awk -F': ' '/Maximum resident set size/ { print $2 }' "$report"
	rm -f "$report"
}

ensure_tools
mkdir -p "$out"
out="$(cd "$out" && pwd)"

if [[ ! -f "$project/config.xml" ]]; then
	log "== building the benchmark project in $project"
	bash "$repo/scripts/make-bench-project.sh" "$project" >&2
fi
project="$(cd "$project" && pwd)"

bin="${BENCH_MFPDEV:-}"
if [[ -z "$bin" ]]; then
	log "== building mfpdev"
	bin="$out/mfpdev"
	(cd "$repo" && go build -o "$bin" ./cmd/mfpdev)
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

ios_www="$project/platforms/ios/www"
android_www="$project/platforms/android/app/src/main/assets/www"
zip_dir="$out/zip"
mkdir -p "$zip_dir"

mfpdev_ios="'$bin' app webupdate --build --project '$project' --platform ios"
mfpdev_both="'$bin' app webupdate --build --project '$project' --platform ios,android"
zip_ios="cd '$project/platforms/ios' && zip -r -q -X '$zip_dir/ios.zip' www"
zip_both="$zip_ios && cd '$project/platforms/android/app/src/main/assets' && zip -r -q -X '$zip_dir/android.zip' www"
clean="rm -f '$zip_dir'/*.zip '$project'/mobilefirst/*.zip"

# One run first: it writes filelist and checksum.js into the www folders,
# so every measured run, of mfpdev and of zip, reads the same files.
log "== first mfpdev run"
"$bin" app webupdate --build --project "$project" --platform ios,android >&2

log "== hyperfine ($runs runs per command)"
hyperfine --warmup 1 --runs "$runs" --prepare "$clean" \
	--export-markdown "$out/hyperfine-ios.md" --export-json "$out/hyperfine-ios.json" \
	-n "mfpdev webupdate --build, ios" "$mfpdev_ios" \
	-n "zip -r -q -X, ios" "$zip_ios"
hyperfine --warmup 1 --runs "$runs" --prepare "$clean" \
	--export-markdown "$out/hyperfine-both.md" --export-json "$out/hyperfine-both.json" \
	-n "mfpdev webupdate --build, ios + android" "$mfpdev_both" \
	-n "zip -r -q -X, ios + android" "$zip_both"

log "== peak memory"
eval "$clean"
rss_mfpdev_ios=$(peak_rss_kb bash -c "$mfpdev_ios")
eval "$clean"
rss_mfpdev_both=$(peak_rss_kb bash -c "$mfpdev_both")
eval "$clean"
rss_zip_ios=$(peak_rss_kb bash -c "$zip_ios")

# Leave one set of archives for the size table.
eval "$clean"
"$bin" app webupdate --build --project "$project" --platform ios,android >/dev/null 2>&1
eval "$zip_both"

count_files() { find "$1" -type f | wc -l; }
sum_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }'; }
size_of() { stat -c %s "$1"; }

mfpdev_ios_zip="$(ls "$project"/mobilefirst/*-ios-*.zip)"
mfpdev_android_zip="$(ls "$project"/mobilefirst/*-android-*.zip)"

{
	echo "### Results of scripts/bench-webupdate.sh, $(date -u +%Y-%m-%d)"
	echo
	echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(uname -sr)."
	echo "Tools: $("$bin" --version 2>/dev/null | head -1), $(go version | cut -d' ' -f3), Info-ZIP $(zip -v | sed -n 2p | grep -o 'Zip [0-9.]*'), $(hyperfine --version)."
	echo
	echo "Input: ios www $(count_files "$ios_www") files, $(sum_bytes "$ios_www") bytes; android www $(count_files "$android_www") files, $(sum_bytes "$android_www") bytes."
	echo
	echo "#### Wall time, one platform"
	echo
	cat "$out/hyperfine-ios.md"
	echo
	echo "#### Wall time, both platforms"
	echo
	cat "$out/hyperfine-both.md"
	echo
	echo "#### Peak memory (maximum resident set size, /usr/bin/time -v)"
	echo
	echo "| command | peak RSS |"
	echo "|:---|---:|"
	echo "| mfpdev webupdate --build, ios | $((rss_mfpdev_ios / 1024)) MiB |"
	echo "| mfpdev webupdate --build, ios + android | $((rss_mfpdev_both / 1024)) MiB |"
	echo "| zip -r -q -X, ios | $((rss_zip_ios / 1024)) MiB |"
	echo
	echo "#### Archive sizes"
	echo
	echo "| archive | bytes |"
	echo "|:---|---:|"
	echo "| mfpdev $(basename "$mfpdev_ios_zip") | $(size_of "$mfpdev_ios_zip") |"
	echo "| mfpdev $(basename "$mfpdev_android_zip") | $(size_of "$mfpdev_android_zip") |"
	echo "| zip ios.zip | $(size_of "$zip_dir/ios.zip") |"
	echo "| zip android.zip | $(size_of "$zip_dir/android.zip") |"
} >"$out/results.md"

cat "$out/results.md"
log "bench-webupdate: results in $out/results.md"

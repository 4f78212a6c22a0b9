#!/usr/bin/env bash
# bench-delta.sh [PROJECT]
#
# Measures the size of a delta archive on the large benchmark project:
#
#   1. start a server on loopback and push the ios platform (v1);
#   2. a device holding the store build updates to v1 (full archive),
#      unless the project was built before and the device already has v1;
#   3. append one line to a JavaScript file of about 10 KB and push (v2);
#   4. the device on v1 checks until the delta is built, then updates with
#      `mfpdev device update --json`.
#
# It prints the full archive's packedSize, the delta's packedSize, the
# bytesDownloaded of the update and their ratio to the full archive, and
# writes them to $BENCH_OUT/delta-results.md, a snippet for
# docs/benchmarks.md. It exits with status 1 when the device downloaded
# more than 1% of the full archive.
#
# PROJECT defaults to $MFPDEV_CACHE/bench-project (MFPDEV_CACHE defaults to
# ${XDG_CACHE_HOME:-~/.cache}/mfpdev) and is built with
# scripts/make-bench-project.sh when missing; it is copied, never changed.
# BENCH_MFPDEV names an mfpdev binary to measure instead of building one.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${MFPDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mfpdev}"
project="${1:-$cache/bench-project}"
out="${BENCH_OUT:-$cache/bench-results}"
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

work="$(mktemp -d)"
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
export MFPDEV_CONFIG="$work/config.json"

# json_field NAME FILE prints the first number after "NAME": in FILE.
json_field() {
	sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" "$2" | head -n 1
}

log "== copying the project"
mkdir -p "$work/proj/platforms"
for entry in "$project"/*; do
	[[ "$(basename "$entry")" == platforms ]] && continue
	cp -R "$entry" "$work/proj/"
done
cp "$project"/.[!.]* "$work/proj/" 2>/dev/null || true
cp -R "$project/platforms/ios" "$work/proj/platforms/ios"
ios_www="$work/proj/platforms/ios/www"
cp -R "$ios_www" "$work/device-www"

log "== starting the server"
"$bin" server start --addr 127.0.0.1:0 --data "$work/data" --log-format json 2>"$work/server.log" &
server_pid=$!
url=""
for _ in $(seq 1 100); do
	url="$(sed -n 's/^mfpdev: serving on \(http:[^ ]*\).*/\1/p' "$work/server.log")"
	[[ -n "$url" ]] && break
	sleep 0.1
done
if [[ -z "$url" ]]; then
	log "bench-delta: the server did not start:"
	cat "$work/server.log" >&2
	exit 1
fi
"$bin" server add bench --url "$url" --login admin --password admin --setdefault >/dev/null

widget="$(grep -o '<widget[^>]*>' "$project/config.xml" | head -n 1)"
app_id="$(sed -n 's/.* id="\([^"]*\)".*/\1/p' <<<"$widget")"
app_version="$(sed -n 's/.* version="\([^"]*\)".*/\1/p' <<<"$widget")"
plugin_version="$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$project/plugins/cordova-plugin-mfp/package.json" | head -n 1)"
device=(--www "$work/device-www" --url "$url" --platform ios --app-id "$app_id" --app-version "$app_version" --plugin-version "$plugin_version")

log "== push v1 and update the device with the full archive"
"$bin" app webupdate bench --project "$work/proj" --platform ios >/dev/null
"$bin" device update "${device[@]}" --json >"$work/update1.json"
# A project that mfpdev already built ships the checksum.js of v1, so its
# device copy is up to date at once.
grep -Eq '"status": "(SUCCESS|UP_TO_DATE)"' "$work/update1.json"

changed="$(cd "$ios_www" && find . -name '*.js' -size +9k -size -11k -printf '%P\n' | LC_ALL=C sort | head -n 1)"
if [[ -z "$changed" ]]; then
	log "bench-delta: no JavaScript file of about 10 KB in $ios_www"
	exit 1
fi
changed_size=$(stat -c %s "$ios_www/$changed")
log "== push v2 with one line appended to $changed ($changed_size bytes)"
printf '\n/* changed by bench-delta.sh */\n' >>"$ios_www/$changed"
"$bin" app webupdate bench --project "$work/proj" --platform ios >/dev/null

"$bin" device check "${device[@]}" --checksum 1 --json >"$work/full.json"
full=$(json_field packedSize "$work/full.json")

log "== wait for the delta build"
began=$(date +%s.%N)
for _ in $(seq 1 600); do
	"$bin" device check "${device[@]}" --json >"$work/check.json"
	grep -q '"type": "delta"' "$work/check.json" && break
	sleep 0.1
done
if ! grep -q '"type": "delta"' "$work/check.json"; then
	log "bench-delta: no delta offered within 60 s:"
	cat "$work/check.json" "$work/server.log" >&2
	exit 1
fi
ready=$(awk -v b="$began" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - b }')
delta=$(json_field packedSize "$work/check.json")

"$bin" device update "${device[@]}" --json >"$work/update2.json"
grep -q '"type": "delta"' "$work/update2.json"
grep -q '"status": "SUCCESS"' "$work/update2.json"
downloaded=$(json_field bytesDownloaded "$work/update2.json")
cmp "$work/device-www/$changed" "$ios_www/$changed"

files=$(find "$ios_www" -type f | wc -l)
cpu="$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
ratio=$(awk -v d="$downloaded" -v f="$full" 'BEGIN { printf "%.3f", 100 * d / f }')
delta_ratio=$(awk -v d="$delta" -v f="$full" 'BEGIN { printf "%.3f", 100 * d / f }')

cat >"$out/delta-results.md" <<EOF
Measured with \`scripts/bench-delta.sh\` on $(date -u +%Y-%m-%d), $(nproc) CPUs ($cpu),
$(go version 2>/dev/null | awk '{ print $3 }' || echo "a prebuilt binary"), platforms/ios/www of the benchmark project
($files files). One line appended to \`$changed\` ($changed_size bytes).

| | bytes | share of the full archive |
|---|---:|---:|
| full archive (packedSize) | $full | 100% |
| delta archive (packedSize) | $delta | $delta_ratio% |
| downloaded by the device on v1 (bytesDownloaded) | $downloaded | $ratio% |

The delta was offered ${ready} s after the first check that asked for it
(built in the background while that check got the full archive).
EOF
cat "$out/delta-results.md"

if awk -v d="$downloaded" -v f="$full" 'BEGIN { exit !(100 * d > f) }'; then
	log "bench-delta: the device downloaded $downloaded bytes, more than 1% of the full archive's $full"
	exit 1
fi

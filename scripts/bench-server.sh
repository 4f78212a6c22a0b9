#!/usr/bin/env bash
# bench-server.sh
#
# Measures the update server started by `mfpdev server start` against
# nginx serving the same bytes as static files, both on 127.0.0.1:
#
#   - update checks: wrk POSTs a protocol.CheckRequest JSON body (Lua
#     script) to /mfp/api/directupdate/check; nginx responds to the same POST
#     with a static file holding the server's response bytes
#     (error_page 405 =200 turns its "POST on a static file" refusal into
#     a 200 with the file);
#   - paced checks: the same, but each connection waits BENCH_PACE_MS
#     (default 2) milliseconds after each response (wrk's delay() hook),
#     so the servers run below saturation and the latency shows the
#     server rather than the queue of a saturated one;
#   - downloads: wrk GETs the 100 MiB archive from the download link the
#     check returns, and from nginx (sendfile on);
#   - single-stream downloads: curl to /dev/null, BENCH_CURL_RUNS times each.
#
# Both servers get the same wrk settings (BENCH_THREADS threads,
# BENCH_CHECK_CONNS connections for checks, BENCH_DOWNLOAD_CONNS for
# downloads, BENCH_DURATION per run). nginx runs 2 worker processes
# (worker_processes auto on a 2-core machine); the Go server uses every
# core (GOMAXPROCS defaults to the number of cores).
#
# BENCH_NICE (default 0) runs wrk, mfpdev and nginx with that niceness,
# the same for all three; as root, -10 keeps other jobs on a shared machine
# from taking the cores in the middle of a run.
#
# Everything runs as a user process in a temporary folder and only talks to
# 127.0.0.1: no system service is started. The script needs wrk, nginx and
# curl (Debian packages wrk, nginx-light, curl); as root it installs missing
# ones with apt-get, otherwise it names the command to run. It builds
# mfpdev with Go unless BENCH_MFPDEV names a binary to use. Results go to $BENCH_OUT (default
# ${XDG_CACHE_HOME:-~/.cache}/mfpdev/bench-server): results.md and the raw
# wrk outputs.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${MFPDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mfpdev}"
out="${BENCH_OUT:-$cache/bench-server}"
threads="${BENCH_THREADS:-2}"
check_conns="${BENCH_CHECK_CONNS:-64}"
download_conns="${BENCH_DOWNLOAD_CONNS:-4}"
duration="${BENCH_DURATION:-10s}"
curl_runs="${BENCH_CURL_RUNS:-5}"
archive_mib="${BENCH_ARCHIVE_MIB:-100}"
niceness="${BENCH_NICE:-0}"
pace_ms="${BENCH_PACE_MS:-2}"

ensure_tools() {
	local missing=()
	command -v wrk >/dev/null || missing+=(wrk)
	command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
	command -v curl >/dev/null || missing+=(curl)
	((${#missing[@]} == 0)) && return 0

	if [[ $(id -u) -ne 0 ]]; then
		log "bench-server: ${missing[*]} not found: run sudo apt-get install ${missing[*]}"
		exit 1
	fi
	apt-get update -qq
	# nginx-light's postinst may try to start the system service; the
	# benchmark never uses it.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_tools
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
server_pid=""
nginx_pid=""
cleanup() {
	[[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	[[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

if [[ -n "${BENCH_MFPDEV:-}" ]]; then
	cp "$BENCH_MFPDEV" "$work/mfpdev"
else
	log "bench-server: building mfpdev"
	(cd "$repo" && go build -o "$work/mfpdev" ./cmd/mfpdev)
fi

# The deployment: the sample project with a file of random bytes, so the
# archive is about $archive_mib MiB whatever the compression.
log "bench-server: building a ${archive_mib} MiB archive"
cp -r "$repo/testdata/sample" "$work/project"
www="$work/project/platforms/android/app/src/main/assets/www"
mkdir -p "$www/media"
head -c "${archive_mib}M" /dev/urandom >"$www/media/video.bin"
"$work/mfpdev" app webupdate --build --platform android --project "$work/project" >/dev/null
archive="$work/project/mobilefirst/com.example.sample-android-1.0.0.zip"

log "bench-server: starting mfpdev server start"
nice -n "$niceness" "$work/mfpdev" server start --addr 127.0.0.1:0 --data "$work/data" --admin-password bench \
	--log-format json --log-level info 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
	grep -q 'serving on' "$work/server.log" && break
	sleep 0.1
done
base="$(sed -n 's/^mfpdev: serving on \(http:[^ ]*\) .*/\1/p' "$work/server.log")"
[[ -n "$base" ]] || {
	log "bench-server: the server did not start:"
	cat "$work/server.log" >&2
	exit 1
}

upload="$(curl -sS -u admin:bench -F "file=@$archive" \
	"$base/mfpadmin/management-apis/2.0/runtimes/mfp/applications/com.example.sample/android/1.0.0/web")"
checksum="$(printf '%s' "$upload" | tr -d ' \n' | sed -n 's/.*"deployment":{[^}]*"checksum":\([0-9]*\).*/\1/p')"
[[ -n "$checksum" ]] || {
	log "bench-server: upload failed: $upload"
	exit 1
}

# check_body CHECKSUM prints a check request for the deployed app version.
check_body() {
	printf '{"appId":"com.example.sample","platform":"android","appVersion":"1.0.0","checksum":%s,"pluginVersion":"8.0.2024082705"}' "$1"
}
# wrk_script CHECKSUM [PACE_MS] writes a wrk Lua script that POSTs that
# check, waiting PACE_MS milliseconds after each response when given.
wrk_script() {
	local body
	body="$(check_body "$1" | sed 's/"/\\"/g')"
	cat <<EOF
wrk.method = "POST"
wrk.body = "$body"
wrk.headers["Content-Type"] = "application/json"
EOF
	if [[ -n "${2:-}" ]]; then
		printf 'function delay() return %s end\n' "$2"
	fi
}
wrk_script "$checksum" >"$work/check-up-to-date.lua"
wrk_script 0 >"$work/check-offer.lua"
wrk_script "$checksum" "$pace_ms" >"$work/check-up-to-date-paced.lua"
wrk_script 0 "$pace_ms" >"$work/check-offer-paced.lua"

curl -sS -X POST -H 'Content-Type: application/json' --data "$(check_body "$checksum")" \
	"$base/mfp/api/directupdate/check" >"$work/up-to-date.json"
curl -sS -X POST -H 'Content-Type: application/json' --data "$(check_body 0)" \
	"$base/mfp/api/directupdate/check" >"$work/offer.json"
link="$(tr -d ' \n' <"$work/offer.json" | sed -n 's/.*"directUpdateLink":"\([^"]*\)".*/\1/p' | sed 's/\\u0026/\&/g')"
download_url="$base/mfp/$link"

# nginx serves the same bytes from a folder of its own.
mkdir -p "$work/nginx/root" "$work/nginx/tmp"
cp "$work/up-to-date.json" "$work/nginx/root/up-to-date.json"
cp "$work/offer.json" "$work/nginx/root/offer.json"
cp "$archive" "$work/nginx/root/archive.zip"
# nginx started as root runs its workers as user "nobody", who must read
# the files.
chmod 755 "$work" "$work/nginx" "$work/nginx/root"
chmod 644 "$work/nginx/root/"*
nginx_port=$((20000 + RANDOM % 20000))
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	client_body_temp_path $work/nginx/tmp;
	proxy_temp_path $work/nginx/tmp;
	fastcgi_temp_path $work/nginx/tmp;
	uwsgi_temp_path $work/nginx/tmp;
	scgi_temp_path $work/nginx/tmp;
	types { application/json json; application/zip zip; }
	server {
		listen 127.0.0.1:$nginx_port;
		root $work/nginx/root;
		error_page 405 =200 \$uri;
	}
}
EOF
nice -n "$niceness" "$nginx_bin" -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in $(seq 50); do
	curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/offer.json" && break
	sleep 0.1
done
nginx_url="http://127.0.0.1:$nginx_port"

# Load both archives into the page cache before any download is timed.
curl -sS -o /dev/null "$download_url"
curl -sS -o /dev/null "$nginx_url/archive.zip"

# cpu_ticks PID... prints the CPU time (user + system, in clock ticks)
# the processes have used so far.
cpu_ticks() {
	local total=0 pid
	for pid in "$@"; do
		total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
	done
	echo "$total"
}

# run_wrk NAME PIDS ARGS... runs wrk, keeps its output and prints
# "requests/s|p99|transfer/s|errors|server CPU per request|load". PIDS
# (comma-separated) are the server's processes whose CPU time is counted.
run_wrk() {
	local name=$1 pids
	IFS=, read -r -a pids <<<"$2"
	shift 2
	local load before after
	load="$(cut -d' ' -f1-3 /proc/loadavg)"
	before="$(cpu_ticks "${pids[@]}")"
	nice -n "$niceness" wrk -t"$threads" -d"$duration" --latency "$@" >"$out/$name.txt" 2>&1
	after="$(cpu_ticks "${pids[@]}")"
	local rps p99 transfer errors requests cpu
	rps="$(awk '/^Requests\/sec/ { print $2 }' "$out/$name.txt")"
	p99="$(awk '$1 == "99%" { print $2 }' "$out/$name.txt")"
	transfer="$(awk '/^Transfer\/sec/ { print $2 }' "$out/$name.txt")"
	errors="$(awk '/Non-2xx|Socket errors/ { sub(/^ +/, ""); printf "%s; ", $0 }' "$out/$name.txt")"
	requests="$(awk '/requests in/ { print $1 }' "$out/$name.txt")"
	cpu="$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
		'BEGIN { if (n > 0) printf "%.1f µs", t / hz * 1e6 / n; else print "n/a" }')"
	printf '%s|%s|%s|%s|%s|%s\n' "$rps" "$p99" "$transfer" "${errors:-none}" "$cpu" "$load"
}

# curl_speed URL prints the mean single-stream speed in MiB/s of
# $curl_runs downloads.
curl_speed() {
	local total=0 speed
	for _ in $(seq "$curl_runs"); do
		speed="$(nice -n "$niceness" curl -sS -o /dev/null -w '%{speed_download}' "$1")"
		total="$(awk -v a="$total" -v b="$speed" 'BEGIN { print a + b }')"
	done
	awk -v t="$total" -v n="$curl_runs" 'BEGIN { printf "%.0f", t / n / 1048576 }'
}

log "bench-server: checks, $duration each"
mfp_pids="$server_pid"
nginx_pids="$(pgrep -P "$nginx_pid" | paste -sd, -),$nginx_pid"
mfp_check="$(run_wrk mfpdev-check-up-to-date "$mfp_pids" -c"$check_conns" -s "$work/check-up-to-date.lua" "$base/mfp/api/directupdate/check")"
nginx_check="$(run_wrk nginx-check-up-to-date "$nginx_pids" -c"$check_conns" -s "$work/check-up-to-date.lua" "$nginx_url/up-to-date.json")"
mfp_offer="$(run_wrk mfpdev-check-offer "$mfp_pids" -c"$check_conns" -s "$work/check-offer.lua" "$base/mfp/api/directupdate/check")"
nginx_offer="$(run_wrk nginx-check-offer "$nginx_pids" -c"$check_conns" -s "$work/check-offer.lua" "$nginx_url/offer.json")"

log "bench-server: paced checks, $duration each"
mfp_check_paced="$(run_wrk mfpdev-check-up-to-date-paced "$mfp_pids" -c"$check_conns" -s "$work/check-up-to-date-paced.lua" "$base/mfp/api/directupdate/check")"
nginx_check_paced="$(run_wrk nginx-check-up-to-date-paced "$nginx_pids" -c"$check_conns" -s "$work/check-up-to-date-paced.lua" "$nginx_url/up-to-date.json")"
mfp_offer_paced="$(run_wrk mfpdev-check-offer-paced "$mfp_pids" -c"$check_conns" -s "$work/check-offer-paced.lua" "$base/mfp/api/directupdate/check")"
nginx_offer_paced="$(run_wrk nginx-check-offer-paced "$nginx_pids" -c"$check_conns" -s "$work/check-offer-paced.lua" "$nginx_url/offer.json")"

log "bench-server: downloads, $duration each"
mfp_download="$(run_wrk mfpdev-download "$mfp_pids" -c"$download_conns" "$download_url")"
nginx_download="$(run_wrk nginx-download "$nginx_pids" -c"$download_conns" "$nginx_url/archive.zip")"

log "bench-server: single-stream curl downloads, $curl_runs each"
mfp_curl="$(curl_speed "$download_url")"
nginx_curl="$(curl_speed "$nginx_url/archive.zip")"

server_rss="$(awk '/^VmHWM/ { print $2 " " $3 }' "/proc/$server_pid/status")"

row() { # row LABEL "rps|p99|transfer|errors|cpu|load"
	local IFS='|'
	# shellcheck disable=SC2086
	set -- "$1" $2
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7"
}
{
	echo "Machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
	echo "Tools: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///'), $(go version | cut -d' ' -f3)"
	echo "wrk: -t$threads -d$duration, $check_conns connections for checks, $download_conns for downloads; niceness $niceness; archive $(stat -c %s "$archive") bytes"
	echo
	echo "| run | requests/s | p99 latency | transfer/s | errors | server CPU per request | load average (1, 5, 15 min) |"
	echo "|:---|---:|---:|---:|:---|---:|:---|"
	row "mfpdev check, up to date" "$mfp_check"
	row "nginx, same response bytes" "$nginx_check"
	row "mfpdev check, update offered" "$mfp_offer"
	row "nginx, same response bytes" "$nginx_offer"
	row "mfpdev check, up to date, paced ${pace_ms} ms" "$mfp_check_paced"
	row "nginx, same response bytes, paced ${pace_ms} ms" "$nginx_check_paced"
	row "mfpdev check, update offered, paced ${pace_ms} ms" "$mfp_offer_paced"
	row "nginx, same response bytes, paced ${pace_ms} ms" "$nginx_offer_paced"
	row "mfpdev download" "$mfp_download"
	row "nginx download" "$nginx_download"
	echo
	echo "Single-stream curl download, mean of $curl_runs: mfpdev $mfp_curl MiB/s, nginx $nginx_curl MiB/s."
	echo "mfpdev server peak RSS: $server_rss."
} | tee "$out/results.md"

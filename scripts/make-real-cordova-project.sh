#!/usr/bin/env bash
# make-real-cordova-project.sh DIR
#
# Creates a real Cordova project in DIR with the Cordova CLI and the
# published cordova-plugin-mfp, and prepares its android and ios platforms:
#
#   cordova create DIR com.example.realapp RealApp
#   cordova platform add android@13.0.0 ios@7.1.1
#   cordova plugin add (the mfp plugin's dependencies, pinned) cordova-plugin-mfp@8.0.2024082705
#   (server URL in config.xml set to http://localhost:9080)
#   cordova prepare android ios
#
# Everything comes from the npm registry; no Android SDK or Xcode is needed
# because nothing is compiled. The Cordova CLI is installed locally under
# the cache folder ($MFPDEV_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/mfpdev),
# never globally.
#
# The script is idempotent: a finished project carries a stamp file naming
# the versions it was built with, and a second run with the same versions
# returns at once. Concurrent runs for the same DIR wait for each other
# (flock on DIR.lock). Prints the path of the project on stdout; progress
# goes to stderr.
set -euo pipefail

CORDOVA_VERSION=12.0.0
ANDROID_VERSION=13.0.0
IOS_VERSION=7.1.1
MFP_PLUGIN_VERSION=8.0.2024082705
# Versions of the plugins cordova-plugin-mfp depends on, pinned so that
# every build of the project contains the same files.
DEPENDENCY_PLUGINS=(
	cordova-plugin-device@3.0.0
	cordova-plugin-dialogs@2.0.2
	cordova-plugin-globalization@1.11.0
	cordova-plugin-file@8.1.3
)
STAMP_NAME=.mfpdev-real-cordova
STAMP="cordova@$CORDOVA_VERSION cordova-android@$ANDROID_VERSION cordova-ios@$IOS_VERSION cordova-plugin-mfp@$MFP_PLUGIN_VERSION ${DEPENDENCY_PLUGINS[*]}"

log() { printf '%s\n' "$*" >&2; }

if [[ $# -ne 1 || -z "$1" ]]; then
	log "usage: $0 DIR"
	exit 2
fi

for tool in node npm flock; do
	if ! command -v "$tool" >/dev/null; then
		log "make-real-cordova-project: $tool not found: install it (node and npm from Node.js 20 or later, flock from util-linux)"
		exit 1
	fi
done

cache="${MFPDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mfpdev}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

dir="$1"
mkdir -p "$(dirname "$dir")"
dir="$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")"

# install_cordova installs the Cordova CLI into $cache/cordova-$CORDOVA_VERSION
# unless it is already there. The tool folder has its own lock because
# several projects may share it.
install_cordova() {
	local tools="$cache/cordova-$CORDOVA_VERSION"
	cordova="$tools/node_modules/.bin/cordova"

	exec 8>"$tools.lock"
	flock 8
	if [[ ! -x "$cordova" ]]; then
		log "== installing cordova@$CORDOVA_VERSION into $tools"
		rm -rf "$tools"
		mkdir -p "$tools"
		printf '{"private": true}\n' >"$tools/package.json"
		npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "cordova@$CORDOVA_VERSION" >&2
	fi
	flock -u 8
}

exec 9>"$dir.lock"
flock 9

if [[ -f "$dir/$STAMP_NAME" && "$(cat "$dir/$STAMP_NAME")" == "$STAMP" ]]; then
	log "make-real-cordova-project: $dir is up to date"
	printf '%s\n' "$dir"
	exit 0
fi

start=$SECONDS
install_cordova

# --no-telemetry and a closed stdin keep Cordova from asking about
# telemetry, so no command here waits for input.
run_cordova() {
	log "== cordova $*"
	(cd "$dir" && "$cordova" "$@" --no-telemetry </dev/null) >&2
}

rm -rf "$dir"
log "== cordova create $dir com.example.realapp RealApp"
"$cordova" create "$dir" com.example.realapp RealApp --no-telemetry </dev/null >&2
run_cordova platform add "android@$ANDROID_VERSION" "ios@$IOS_VERSION"
run_cordova plugin add "${DEPENDENCY_PLUGINS[@]}"
run_cordova plugin add "cordova-plugin-mfp@$MFP_PLUGIN_VERSION"

# The plugin writes http://10.0.0.1:9080 as the default server. Tests must
# only ever reach loopback, so point the app at the local default server
# before prepare copies the URL into the platform files.
sed -i.bak 's#<mfp:server runtime="mfp" url="[^"]*" />#<mfp:server runtime="mfp" url="http://localhost:9080" />#' "$dir/config.xml"
rm -f "$dir/config.xml.bak"
if ! grep -q 'url="http://localhost:9080"' "$dir/config.xml"; then
	log "make-real-cordova-project: could not set the mfp:server URL in $dir/config.xml: the plugin's config.xml layout changed, update this script"
	exit 1
fi

run_cordova prepare android ios

for www in platforms/android/app/src/main/assets/www platforms/ios/www; do
	if [[ ! -f "$dir/$www/cordova.js" ]]; then
		log "make-real-cordova-project: $dir/$www/cordova.js missing after cordova prepare"
		exit 1
	fi
done

printf '%s' "$STAMP" >"$dir/$STAMP_NAME"
log "make-real-cordova-project: built $dir in $((SECONDS - start))s"
printf '%s\n' "$dir"

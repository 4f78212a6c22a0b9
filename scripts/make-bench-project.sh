#!/usr/bin/env bash
# make-bench-project.sh DIR
#
# Builds a large prepared Cordova project for the webupdate benchmarks: the
# layout of testdata/sample with the published files of seven npm packages
# under www/lib, in the root www/ and in both prepared platform folders.
# With the versions below each platform folder contains about 13,600 files and
# 86 MB (measured with npm 11 on Linux):
#
#   @ionic/core, ionicons, @fortawesome/fontawesome-free, bootstrap
#   and their dependencies @stencil/core, @popperjs/core, tslib
#
# The packages are installed with npm into a temporary folder (scripts not
# run) and their package folders copied. DIR must not exist or must be a
# project made by this script. Prints the file count and size per platform.
set -euo pipefail

PACKAGES=(
	@ionic/core@9.0.5
	ionicons@8.1.0
	@fortawesome/fontawesome-free@7.3.1
	bootstrap@5.3.9
	@stencil/core@4.45.1
	@popperjs/core@2.11.8
	tslib@2.9.1
)
STAMP_NAME=.mfpdev-bench-project
PLATFORM_WWW=(platforms/android/app/src/main/assets/www platforms/ios/www)

log() { printf '%s\n' "$*" >&2; }

if [[ $# -ne 1 || -z "$1" ]]; then
	log "usage: $0 DIR"
	exit 2
fi
dir="$1"
repo="$(cd "$(dirname "$0")/.." && pwd)"
sample="$repo/testdata/sample"

if [[ -e "$dir" && ! -f "$dir/$STAMP_NAME" ]]; then
	log "make-bench-project: $dir exists and was not made by this script: choose a new folder or remove it"
	exit 1
fi
rm -rf "$dir"

npm_dir="$(mktemp -d)"
trap 'rm -rf "$npm_dir"' EXIT

log "== npm install ${PACKAGES[*]}"
printf '{"private": true}\n' >"$npm_dir/package.json"
npm install --prefix "$npm_dir" --no-audit --no-fund --ignore-scripts --omit=optional --loglevel=error "${PACKAGES[@]}" >&2

log "== copying testdata/sample to $dir"
mkdir -p "$dir"
cp -R "$sample/." "$dir/"

for www in www "${PLATFORM_WWW[@]}"; do
	for spec in "${PACKAGES[@]}"; do
		name="${spec%@*}"
		mkdir -p "$dir/$www/lib/$(dirname "$name")"
		cp -R "$npm_dir/node_modules/$name" "$dir/$www/lib/$name"
	done
done

# Date the root www/ a minute back so the prepared folders are newer than
# their source, as after cordova prepare.
find "$dir/www" -exec touch -d "@$(($(date +%s) - 60))" {} +

printf '%s\n' "${PACKAGES[@]}" >"$dir/$STAMP_NAME"

for www in "${PLATFORM_WWW[@]}"; do
	files=$(find "$dir/$www" -type f | wc -l)
	bytes=$(find "$dir/$www" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
	awk -v www="$www" -v files="$files" -v bytes="$bytes" 'BEGIN { printf "%s: %d files, %d bytes (%.1f MB)\n", www, files, bytes, bytes / 1e6 }'
done

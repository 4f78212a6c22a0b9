# shellcheck shell=bash
# Starts the services that the PostgreSQL and S3 tests need, on loopback
# only, and exports where they listen:
#
#   MFPDEV_TEST_POSTGRES  postgres:// URL of an empty database
#   MFPDEV_TEST_S3        s3:// URL of an empty bucket, with its endpoint
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY  credentials of that bucket
#
# Source it from bash (". scripts/ci-services.sh"): it installs PostgreSQL
# from Debian's packages and versitygw (an S3 server under the Apache
# License 2.0) with "go install" when they are missing, starts both in a
# fresh folder, and registers an EXIT trap that stops them and removes the
# folder. Call ci_services_stop yourself if you set your own EXIT trap.
#
# Environment: MFPDEV_PG_PORT (default 25432), MFPDEV_S3_PORT (default
# 27070). Both defaults lie below Linux's ephemeral port range, so no
# outgoing connection holds them by chance.

ci_services_versitygw_version=v1.8.0

ci_services_log() { printf 'ci-services: %s\n' "$*" >&2; }

ci_services_install() {
	local start=$SECONDS
	if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
		ci_services_log "installing PostgreSQL from Debian's packages"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
	fi
	local gobin
	gobin="$(go env GOPATH)/bin"
	if [[ ! -x "$gobin/versitygw" ]]; then
		ci_services_log "building versitygw $ci_services_versitygw_version with go install"
		go install "github.com/versity/versitygw/cmd/versitygw@$ci_services_versitygw_version"
	fi
	ci_services_log "install took $((SECONDS - start))s"
}

# ci_services_wait runs "$@" up to 100 times, 0.1 s apart, until it succeeds.
ci_services_wait() {
	local i
	for ((i = 0; i < 100; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

ci_services_start_postgres() {
	local bin pgdata
	bin="$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n1)")"
	pgdata="$ci_services_dir/pg"
	mkdir -p "$pgdata"
	chown postgres: "$ci_services_dir" "$pgdata"

	runuser -u postgres -- "$bin/initdb" -D "$pgdata" -A trust -U postgres -E UTF8 >/dev/null
	if ! runuser -u postgres -- "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w \
		-o "-c listen_addresses=127.0.0.1 -p $ci_services_pg_port -k $pgdata -c fsync=off" start >/dev/null; then
		ci_services_log "PostgreSQL did not start; its log:"
		cat "$pgdata/server.log" >&2
		return 1
	fi

	runuser -u postgres -- "$bin/psql" -h 127.0.0.1 -p "$ci_services_pg_port" -U postgres -q -v ON_ERROR_STOP=1 \
		-c "CREATE USER mfpdev PASSWORD 'mfpdev' CREATEDB" \
		-c "CREATE DATABASE mfpdev OWNER mfpdev" >/dev/null
	ci_services_pg_ctl="$bin/pg_ctl"
	export MFPDEV_TEST_POSTGRES="postgres://mfpdev:mfpdev@127.0.0.1:$ci_services_pg_port/mfpdev?sslmode=disable"
	ci_services_log "PostgreSQL listening on 127.0.0.1:$ci_services_pg_port"
}

ci_services_start_s3() {
	local gw
	gw="$(go env GOPATH)/bin/versitygw"
	mkdir -p "$ci_services_dir/s3/mfpdev-test"
	export AWS_ACCESS_KEY_ID=mfpdev-test
	export AWS_SECRET_ACCESS_KEY=mfpdev-test-secret
	ROOT_ACCESS_KEY="$AWS_ACCESS_KEY_ID" ROOT_SECRET_KEY="$AWS_SECRET_ACCESS_KEY" \
		"$gw" --port "127.0.0.1:$ci_services_s3_port" posix "$ci_services_dir/s3" \
		>"$ci_services_dir/versitygw.log" 2>&1 &
	ci_services_s3_pid=$!
	if ! ci_services_wait bash -c "exec 3<>/dev/tcp/127.0.0.1/$ci_services_s3_port"; then
		ci_services_log "versitygw did not start; its log:"
		cat "$ci_services_dir/versitygw.log" >&2
		return 1
	fi
	export MFPDEV_TEST_S3="s3://mfpdev-test?endpoint=http://127.0.0.1:$ci_services_s3_port&region=us-east-1"
	ci_services_log "versitygw listening on 127.0.0.1:$ci_services_s3_port, bucket mfpdev-test"
}

ci_services_stop() {
	if [[ -n "${ci_services_s3_pid:-}" ]]; then
		kill "$ci_services_s3_pid" 2>/dev/null || true
		wait "$ci_services_s3_pid" 2>/dev/null || true
		ci_services_s3_pid=
	fi
	if [[ -n "${ci_services_pg_ctl:-}" ]]; then
		runuser -u postgres -- "$ci_services_pg_ctl" -D "$ci_services_dir/pg" -m fast -w stop >/dev/null 2>&1 || true
		ci_services_pg_ctl=
	fi
	if [[ -n "${ci_services_dir:-}" ]]; then
		rm -rf "$ci_services_dir"
	fi
}

ci_services_pg_port="${MFPDEV_PG_PORT:-25432}"
ci_services_s3_port="${MFPDEV_S3_PORT:-27070}"
ci_services_dir="$(mktemp -d /tmp/mfpdev-services.XXXXXX)"
trap ci_services_stop EXIT

ci_services_install
ci_services_start_postgres
ci_services_start_s3

#!/usr/bin/env bash
# with-postgres.sh CMD [ARG...]
#
# Starts a throwaway PostgreSQL server on a free loopback port in a
# temporary directory, exports IAMKIT_POSTGRES_URL pointing at it, runs
# CMD, and tears the server down whatever happens (CMD's exit status is
# the script's). Nothing outside the temporary directory is touched.
#
# It looks for initdb and pg_ctl on PATH, then under /usr/lib/postgresql/*/bin;
# where neither has them and apt-get is available (a fresh Debian machine),
# it installs Debian's postgresql package first. Run as root, the server
# runs as an unprivileged user (postgres, or nobody), as PostgreSQL refuses
# to run as root.
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi

find_bin() {
	local name=$1 dir
	if command -v "$name" >/dev/null 2>&1; then
		command -v "$name"
		return 0
	fi
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		if [ -x "$dir/$name" ]; then
			echo "$dir/$name"
			return 0
		fi
	done
	return 1
}

if ! find_bin initdb >/dev/null || ! find_bin pg_ctl >/dev/null; then
	if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
		echo "with-postgres: installing Debian's postgresql package" >&2
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
	else
		echo "with-postgres: initdb and pg_ctl not found; install PostgreSQL (Debian: apt-get install postgresql)" >&2
		exit 2
	fi
fi
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)

# A free loopback port, asked of the kernel.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo $((20000 + RANDOM % 20000)))

DIR=$(mktemp -d "${TMPDIR:-/tmp}/iamkit-pg.XXXXXX")
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then
	user=postgres
	id "$user" >/dev/null 2>&1 || user=nobody
	chown "$user" "$DIR"
	chmod 700 "$DIR"
	RUNAS=(runuser -u "$user" --)
	command -v runuser >/dev/null 2>&1 || RUNAS=(su -s /bin/sh "$user" -c)
fi

run() {
	if [ ${#RUNAS[@]} -eq 0 ]; then
		"$@"
	elif [ "${RUNAS[0]}" = su ]; then
		"${RUNAS[@]}" "$(printf '%q ' "$@")"
	else
		"${RUNAS[@]}" "$@"
	fi
}

cleanup() {
	run "$PG_CTL" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

run "$INITDB" -D "$DIR/data" -U iamkit --auth=trust --encoding=UTF8 --no-locale >"$DIR/initdb.log" 2>&1 || {
	cat "$DIR/initdb.log" >&2
	exit 2
}
cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
run "$PG_CTL" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null || {
	cat "$DIR/server.log" >&2
	exit 2
}

export IAMKIT_POSTGRES_URL="postgres://iamkit@127.0.0.1:$PORT/postgres?sslmode=disable"
# A command that restarts the server (fast shutdown, then start on the same
# port), for tests that check what survives a server restart.
{
	echo '#!/usr/bin/env bash'
	echo 'set -euo pipefail'
	printf 'if [ "$(id -u)" -eq 0 ]; then runuser -u %q -- %q -D %q -l %q -m fast -w -t 60 restart >/dev/null; else %q -D %q -l %q -m fast -w -t 60 restart >/dev/null; fi\n' \
		"${user:-postgres}" "$PG_CTL" "$DIR/data" "$DIR/server.log" "$PG_CTL" "$DIR/data" "$DIR/server.log"
} >"$DIR/restart"
chmod 755 "$DIR/restart"
export IAMKIT_POSTGRES_RESTART="$DIR/restart"
echo "with-postgres: server at $IAMKIT_POSTGRES_URL" >&2
set +e
"$@"
status=$?
set -e
exit $status

#!/usr/bin/env bash
# Installs what the project needs on a Debian machine, and nothing when it is all there:
# Postgres 15 with pg_cron and pgTAP, pg_prove, Chromium, then npm packages, then the Edge
# Functions' Deno dependencies (so nothing is fetched when a function boots).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(postgresql-15 postgresql-15-cron postgresql-15-pgtap
	libtap-parser-sourcehandler-pgtap-perl chromium)
missing=()
for pkg in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing system packages; run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# Debian's postgresql-common would create and start a cluster on 5432; we run our own.
	mkdir -p /etc/postgresql-common
	grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf ||
		echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/botflow-apt.log 2>&1; then
		echo "setup: apt-get install failed for ${missing[*]}; see /tmp/botflow-apt.log" >&2
		exit 1
	fi
fi

# npm packages: install when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "setup: installing npm packages"
	npm ci --no-audit --no-fund --loglevel=error
fi

# Edge Functions: their npm dependencies, frozen to supabase/functions/deno.lock, into
# supabase/functions/node_modules. Quick when they are already there.
node --import tsx scripts/install-function-deps.ts

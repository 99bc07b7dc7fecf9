#!/usr/bin/env bash
# Install and start Debian's PostgreSQL and create the test database, for the storage tests that run on both
# SQLite and PostgreSQL. Prints the SQLAlchemy URL on success; prints nothing (and exits 0) where it cannot set
# PostgreSQL up (no root or sudo), so those tests skip with a reason rather than break a developer's run.
set -uo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sudo -n -u postgres sh -c "$*"; fi; }
{
  command -v pg_ctlcluster >/dev/null || {
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
  }
  cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
  pg_lsclusters -h | awk '{print $4}' | grep -q online || as_root pg_ctlcluster $cluster start
  user=$(id -un)
  as_postgres "psql -tAc \"select 1 from pg_roles where rolname='$user'\"" | grep -q 1 \
    || as_postgres "createuser -s $user"
  psql -d postgres -tAc "select 1 from pg_database where datname='p2p_test'" | grep -q 1 || createdb p2p_test
} >/dev/null 2>&1 || exit 0
psql -d p2p_test -tAc "select 1" >/dev/null 2>&1 && echo "postgresql+psycopg:///p2p_test"
exit 0

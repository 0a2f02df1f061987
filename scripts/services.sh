#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432, database `test`, trust auth) is reachable for the tests.
# Starts Debian's cluster if it is installed but stopped; otherwise says exactly what is missing.
set -euo pipefail

pg_up() { .venv/bin/python - <<'PY'
import sys
import psycopg
try:
    psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", connect_timeout=3).close()
except psycopg.Error:
    sys.exit(1)
PY
}

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
fi
if ! pg_up; then
  cat >&2 <<'MSG'
PostgreSQL is not reachable at 127.0.0.1:5432 (database "test", user "postgres", trust auth).
Install and start it, e.g. on Debian:
  apt-get install -y postgresql && pg_ctlcluster 15 main start
  su postgres -c "createdb test"
and allow trust auth for 127.0.0.1 in pg_hba.conf, or point GROUNDWORK_TEST_POSTGRES_URL at another server.
MSG
  exit 1
fi
if ! .venv/bin/python - <<'PY'
import psycopg
with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres") as c:
    c.execute("select 1")
PY
then echo "PostgreSQL answers but database 'test' is not usable" >&2; exit 1; fi
echo "PostgreSQL is up"

# Redis (127.0.0.1:6379): the Celery broker of scale-out mode; the tests use database 5 and start their own
# redis-server on a free port for the chaos tests (so redis-server must be installed).
redis_up() { .venv/bin/python - <<'PY'
import sys
import redis
try:
    redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=3).ping()
except redis.RedisError:
    sys.exit(1)
PY
}

if ! redis_up && command -v redis-server >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir "$( [ -w /var/lib/redis ] && echo /var/lib/redis || echo /tmp )" \
    --logfile "$( [ -w /var/log/redis ] && echo /var/log/redis/ci.log || echo /tmp/redis-ci.log )" || true
  for _ in $(seq 1 30); do redis_up && break; sleep 0.2; done
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server is not installed; the Celery tests need it. On Debian: apt-get install -y redis-server" >&2
  exit 1
fi
if ! redis_up; then
  echo "Redis is not reachable at 127.0.0.1:6379 and could not be started (see /var/log/redis/ci.log)" >&2
  exit 1
fi
echo "Redis is up"

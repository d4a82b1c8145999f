#!/usr/bin/env bash
# Installs the system programs Tyndau's tests, benchmark and demo use, from Debian's packages,
# only when something is missing. Safe to run again. Needs root (or sudo) for apt-get.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v sox >/dev/null 2>&1 || need+=(sox libsox-fmt-mp3)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
# distributed mode (src/distributed, docs/distributed.md): its tests run redis-server themselves;
# other tests may use the one on 127.0.0.1:6379, started here when it does not answer
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
start_redis() {
  if ! redis-cli ping >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    echo "setup-system: started redis-server on 127.0.0.1:6379"
  fi
}
if [ "${TYNDAU_WITH_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then need+=(chromium); fi
if [ "${TYNDAU_WITH_MUSIC:-0}" = 1 ]; then
  for p in supertux-data extremetuxracer-data xmoto-data; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
fi
# The tests also use the machine's PostgreSQL (127.0.0.1:5432): start the cluster if it is installed but down.
start_postgres() {
  if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
      echo "setup-system: started PostgreSQL"
    fi
  fi
}
if [ ${#need[@]} -eq 0 ]; then
  start_redis
  start_postgres
  echo "setup-system: ffmpeg, sox and espeak-ng are present"
  exit 0
fi
echo "setup-system: installing ${need[*]} with apt-get"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "setup-system: done"
start_redis
start_postgres

#!/usr/bin/env bash
# Serves one published document page from zhanqun (cache-hit path) and the same bytes
# from nginx, and loads both with wrk on 127.0.0.1 in the same run.
#   bench/serve-vs-nginx.sh [SECONDS] [CONNECTIONS]
# Installs nginx-light and wrk from Debian when missing. Bounded: SECONDS per target.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-64}"
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked -p zhanqun >/dev/null
bin="$CARGO_TARGET_DIR/release/zhanqun"
work=$(mktemp -d)
chmod 755 "$work"
zport=18181
nport=18182
cleanup() {
  [ -n "${zpid:-}" ] && kill "$zpid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

RUST_LOG=warn "$bin" --data-dir "$work/data" serve --demo --listen "127.0.0.1:$zport" >"$work/zhanqun.out" 2>&1 &
zpid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$zport/healthz" >/dev/null && break; sleep 0.1; done
# The portal's copy of the city's 2015 notice: the longest page of the demo.
path=$(curl -sf -H 'Host: qingdao.localhost' "http://127.0.0.1:$zport/columns/zcwj/" | grep -o '/articles/[0-9]*\.html' | tail -n 1)
curl -sf -H 'Host: qingdao.localhost' "http://127.0.0.1:$zport$path" -o "$work/page.html"
mkdir -p "$work/root/articles"
cp "$work/page.html" "$work/root$path"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { text/html html; }
  default_type text/html;
  client_body_temp_path $work/tmp;
  proxy_temp_path $work/tmp;
  fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp;
  scgi_temp_path $work/tmp;
  server { listen 127.0.0.1:$nport; root $work/root; charset utf-8; }
}
CONF
mkdir -p "$work/tmp"
chmod -R a+rX "$work/root"
nginx -c "$work/nginx.conf"
sleep 0.3
cmp <(curl -sf "http://127.0.0.1:$nport$path") "$work/page.html"
bytes=$(stat -c %s "$work/page.html")

rps() { wrk -t2 -c"$conns" -d"${secs}s" -H "Host: $1" "$2" | awk '/Requests\/sec/ {print $2}'; }
# Warm both, then measure nginx, zhanqun, nginx again (the mean of nginx's two runs is the reference).
rps qingdao.localhost "http://127.0.0.1:$zport$path" >/dev/null
n1=$(rps localhost "http://127.0.0.1:$nport$path")
z=$(rps qingdao.localhost "http://127.0.0.1:$zport$path")
n2=$(rps localhost "http://127.0.0.1:$nport$path")
awk -v z="$z" -v n1="$n1" -v n2="$n2" -v b="$bytes" -v p="$path" -v c="$conns" 'BEGIN {
  n = (n1 + n2) / 2
  printf "page %s (%d bytes, identity), %s connections, wrk on 127.0.0.1\n", p, b, c
  printf "nginx    %10.0f req/s (runs: %.0f, %.0f)\n", n, n1, n2
  printf "zhanqun  %10.0f req/s\n", z
  printf "ratio    %10.2f x nginx\n", z / n
}'

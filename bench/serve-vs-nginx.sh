#!/usr/bin/env bash
# Serves one published document page from zhanqun (cache-hit path), the same bytes from
# nginx, and the same bytes from a bare axum handler (examples/bare_bytes.rs: what the
# platform adds per request is the difference), and loads them with wrk on 127.0.0.1 in
# the same run: ROUNDS rounds of nginx, zhanqun, bare axum, each SECONDS long; the medians
# are compared (a single run on a shared 2-core machine varies by ±10 %).
#   bench/serve-vs-nginx.sh [SECONDS] [CONNECTIONS] [ROUNDS]
# Installs nginx-light and wrk from Debian when missing. Bounded: 3 × ROUNDS × SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-64}"
rounds="${3:-3}"
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked -p zhanqun --bin zhanqun --example bare_bytes >/dev/null
bin="$CARGO_TARGET_DIR/release/zhanqun"
bare="$CARGO_TARGET_DIR/release/examples/bare_bytes"
work=$(mktemp -d)
chmod 755 "$work"
zport=18181
nport=18182
bport=18183
cleanup() {
  [ -n "${zpid:-}" ] && kill "$zpid" 2>/dev/null || true
  [ -n "${bpid:-}" ] && kill "$bpid" 2>/dev/null || true
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
"$bare" "$work/page.html" "127.0.0.1:$bport" &
bpid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$bport/" >/dev/null && break; sleep 0.1; done
cmp <(curl -sf "http://127.0.0.1:$nport$path") "$work/page.html"
cmp <(curl -sf "http://127.0.0.1:$bport$path") "$work/page.html"
bytes=$(stat -c %s "$work/page.html")

rps() { wrk -t2 -c"$conns" -d"${secs}s" -H "Host: $1" "$2" | awk '/Requests\/sec/ {print $2}'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# Warm all three, then alternate them so that drift in the machine hits each alike.
rps qingdao.localhost "http://127.0.0.1:$zport$path" >/dev/null
rps localhost "http://127.0.0.1:$nport$path" >/dev/null
rps localhost "http://127.0.0.1:$bport$path" >/dev/null
ns="" zs="" bs=""
for _ in $(seq 1 "$rounds"); do
  ns="$ns $(rps localhost "http://127.0.0.1:$nport$path")"
  zs="$zs $(rps qingdao.localhost "http://127.0.0.1:$zport$path")"
  bs="$bs $(rps localhost "http://127.0.0.1:$bport$path")"
done
n=$(echo "$ns" | median)
z=$(echo "$zs" | median)
b=$(echo "$bs" | median)
awk -v z="$z" -v n="$n" -v b="$b" -v ns="$ns" -v zs="$zs" -v bs="$bs" -v by="$bytes" -v p="$path" -v c="$conns" 'BEGIN {
  printf "page %s (%d bytes, identity), %s connections, wrk on 127.0.0.1, medians of runs\n", p, by, c
  printf "nginx      %10.0f req/s (runs:%s)\n", n, ns
  printf "zhanqun    %10.0f req/s (runs:%s)\n", z, zs
  printf "bare axum  %10.0f req/s (runs:%s)\n", b, bs
  printf "zhanqun / nginx      %.2f x\n", z / n
  printf "zhanqun / bare axum  %.2f x\n", z / b
  printf "bare axum / nginx    %.2f x\n", b / n
}'

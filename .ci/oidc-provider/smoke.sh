#!/usr/bin/env bash
# End-to-end check of server.mjs with curl: login form, wrong password, code flow
# with PKCE, token exchange, ID token claims, repeated authorisation, prompt=login.
# Needs node, curl and openssl; run `npm ci` in this directory first.
set -euo pipefail
cd "$(dirname "$0")"

CLIENT_ID=smoke-client
CLIENT_SECRET=smoke-secret-0123456789
REDIRECT_URI=http://127.0.0.1:9/callback
ACCOUNTS='[{"sub":"user-1","login":"alice","password":"correct horse","email":"alice@example.gov.cn","name":"Alice Zhang","preferred_username":"alice","employee_id":"E-1001"}]'

[ -d node_modules/oidc-provider ] || npm ci --no-audit --no-fund --silent

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -s "$tmp/server.err" ] && sed 's/^/server: /' "$tmp/server.err" >&2; exit 1; }
ok() { echo "ok: $*"; }
# json FILE EXPR: evaluate a JS expression on the parsed JSON file (bound to j).
json() { node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = eval(process.argv[2]); console.log(typeof v === "string" ? v : JSON.stringify(v))' "$1" "$2"; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
query_param() { node -e 'console.log(new URL(process.argv[1]).searchParams.get(process.argv[2]) ?? "")' "$1" "$2"; }

# --- start the provider and read the issuer from its one stdout line
OIDC_PORT=0 OIDC_CLIENT_ID=$CLIENT_ID OIDC_CLIENT_SECRET=$CLIENT_SECRET \
  OIDC_REDIRECT_URIS="$REDIRECT_URI,http://127.0.0.1:9/other" OIDC_ACCOUNTS=$ACCOUNTS \
  node server.mjs >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^oidc-provider ready ' "$tmp/server.out" && break
  kill -0 "$server_pid" 2>/dev/null || fail "server exited early"
  sleep 0.1
done
issuer=$(sed -n 's/^oidc-provider ready //p' "$tmp/server.out")
[ -n "$issuer" ] || fail "no ready line"
ok "server ready, issuer $issuer"

# --- discovery
curl -fsS "$issuer/.well-known/openid-configuration" -o "$tmp/discovery.json" || fail "discovery"
[ "$(json "$tmp/discovery.json" j.issuer)" = "$issuer" ] || fail "discovery issuer"
auth_endpoint=$(json "$tmp/discovery.json" j.authorization_endpoint)
token_endpoint=$(json "$tmp/discovery.json" j.token_endpoint)
jwks_uri=$(json "$tmp/discovery.json" j.jwks_uri)
ok "discovery: authorization_endpoint=$auth_endpoint token_endpoint=$token_endpoint jwks_uri=$jwks_uri"

jar=$tmp/cookies.txt
# follow URL [curl args...]: GET (or POST with -d ...) and follow redirects by hand,
# with the cookie jar, until a page is served (saved to $tmp/page.html, status in
# $status) or a redirect to the client's redirect_uri ($callback; never connected to).
follow() {
  local url=$1; shift
  callback= hops=0
  while :; do
    status=$(curl -sS -b "$jar" -c "$jar" -o "$tmp/page.html" -D "$tmp/headers.txt" -w '%{http_code}' "$@" "$url") || fail "request to $url"
    set --  # only the first request carries the form
    local location
    location=$(sed -n 's/^[Ll]ocation: *//p' "$tmp/headers.txt" | tr -d '\r')
    [ -n "$location" ] || return 0
    case $location in /*) location=$issuer$location ;; esac
    echo "     $status -> $location"
    hops=$((hops + 1))
    case $location in "$REDIRECT_URI"*) callback=$location; return 0 ;; esac
    url=$location
  done
}

# authorize STATE NONCE CHALLENGE [extra query]: start an authorisation request
authorize() {
  follow "$auth_endpoint?response_type=code&client_id=$CLIENT_ID&redirect_uri=$(node -p 'encodeURIComponent(process.argv[1])' "$REDIRECT_URI")&scope=openid%20email%20profile&state=$1&nonce=$2&code_challenge=$3&code_challenge_method=S256${4:-}"
}
new_verifier() { openssl rand 48 | b64url; }
challenge_for() { printf '%s' "$1" | openssl dgst -sha256 -binary | b64url; }

# --- 1. authorisation request lands on the login form
verifier=$(new_verifier); challenge=$(challenge_for "$verifier")
state=st-$RANDOM$RANDOM; nonce=n-$RANDOM$RANDOM
echo "authorise: state=$state nonce=$nonce code_challenge=$challenge"
authorize "$state" "$nonce" "$challenge"
[ "$status" = 200 ] && [ -z "$callback" ] || fail "expected the login page, got $status"
action=$(sed -n 's/.*<form method="post" action="\([^"]*\)".*/\1/p' "$tmp/page.html")
[[ $action =~ ^/interaction/[^/]+/login$ ]] || fail "login form action: '$action'"
grep -q 'name="login"' "$tmp/page.html" && grep -q 'name="password"' "$tmp/page.html" || fail "login form fields"
ok "login form, action $action"

# --- 2. wrong password shows the form again
follow "$issuer$action" --data-urlencode login=alice --data-urlencode password=wrong
[ "$status" = 401 ] && [ -z "$callback" ] || fail "wrong password: status $status"
grep -q 'Invalid login or password' "$tmp/page.html" && grep -q "action=\"$action\"" "$tmp/page.html" || fail "wrong password: no form with error"
ok "wrong password: HTTP 401, form shown again with error"

# --- 3. correct password redirects to the redirect_uri with code and state
follow "$issuer$action" --data-urlencode login=alice --data-urlencode 'password=correct horse'
[ -n "$callback" ] || fail "no redirect to the redirect_uri after login (status $status)"
code=$(query_param "$callback" code)
[ -n "$code" ] || fail "no code in $callback"
[ "$(query_param "$callback" state)" = "$state" ] || fail "state mismatch"
[ "$(query_param "$callback" iss)" = "$issuer" ] || fail "iss parameter mismatch"
ok "redirected to the redirect_uri with code, state and iss"

# token REDIRECT_URI CODE [curl args...]: token request with client_secret_basic
token() {
  curl -sS -o "$tmp/token.json" -w '%{http_code}' -u "$CLIENT_ID:$CLIENT_SECRET" \
    --data-urlencode grant_type=authorization_code --data-urlencode "code=$2" \
    --data-urlencode "redirect_uri=$1" "${@:3}" "$token_endpoint"
}

# --- 4. the token endpoint rejects a wrong or missing code_verifier
s=$(token "$REDIRECT_URI" "$code" --data-urlencode "code_verifier=$(new_verifier)")
[ "$s" = 400 ] && [ "$(json "$tmp/token.json" j.error)" = invalid_grant ] || fail "wrong code_verifier: $s $(cat "$tmp/token.json")"
s=$(token "$REDIRECT_URI" "$code")
[ "$s" = 400 ] || fail "missing code_verifier: $s $(cat "$tmp/token.json")"
ok "token request with a wrong/missing code_verifier: 400 invalid_grant"

# --- 5. the right code_verifier gets the tokens
s=$(token "$REDIRECT_URI" "$code" --data-urlencode "code_verifier=$verifier")
[ "$s" = 200 ] || fail "token exchange: $s $(cat "$tmp/token.json")"
id_token=$(json "$tmp/token.json" j.id_token)
ok "token exchange: token_type=$(json "$tmp/token.json" j.token_type) scope='$(json "$tmp/token.json" j.scope)'"

# --- 6. ID token: RS256 signature against the JWKS, then the claims
curl -fsS "$jwks_uri" -o "$tmp/jwks.json" || fail "jwks"
node - "$id_token" "$tmp/jwks.json" "$issuer" "$CLIENT_ID" "$nonce" >"$tmp/payload.json" <<'EOF' || fail "ID token check"
const crypto = require('node:crypto');
const [token, jwksFile, iss, aud, nonce] = process.argv.slice(2);
const [h, p, sig] = token.split('.');
const header = JSON.parse(Buffer.from(h, 'base64url'));
const payload = JSON.parse(Buffer.from(p, 'base64url'));
const jwk = JSON.parse(require('fs').readFileSync(jwksFile, 'utf8')).keys.find((k) => k.kid === header.kid);
const check = (cond, what) => { if (!cond) { console.error(`ID token: ${what}`, header, payload); process.exit(1); } };
check(header.alg === 'RS256' && jwk, 'alg/kid');
check(crypto.verify('sha256', Buffer.from(`${h}.${p}`), crypto.createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(sig, 'base64url')), 'signature');
check(payload.iss === iss && payload.aud === aud && payload.nonce === nonce, 'iss/aud/nonce');
for (const claim of ['sub', 'email', 'name', 'preferred_username', 'employee_id']) check(payload[claim], `missing ${claim}`);
console.log(JSON.stringify(payload, null, 2));
EOF
ok "ID token RS256 signature verified; payload:"
cat "$tmp/payload.json"

# --- 7. repeated authorisation reuses the session and grant: one redirect, no form
state2=st-$RANDOM; verifier2=$(new_verifier)
authorize "$state2" "n-$RANDOM" "$(challenge_for "$verifier2")"
[ -n "$callback" ] && [ "$hops" = 1 ] && [ "$(query_param "$callback" state)" = "$state2" ] || fail "repeated authorisation (status $status, $hops redirects)"
code2=$(query_param "$callback" code)
# (oidc-provider accepts client_secret_post for a client_secret_basic client as well)
s=$(curl -sS -o "$tmp/token.json" -w '%{http_code}' --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$code2" --data-urlencode "redirect_uri=$REDIRECT_URI" --data-urlencode "code_verifier=$verifier2" \
  --data-urlencode "client_id=$CLIENT_ID" --data-urlencode "client_secret=$CLIENT_SECRET" "$token_endpoint")
[ "$s" = 200 ] || fail "repeated authorisation token: $s $(cat "$tmp/token.json")"
ok "repeated authorisation: straight back to the redirect_uri, code exchanged (client_secret_post)"

# --- 8. prompt=login shows the form again despite the session
state3=st-$RANDOM
authorize "$state3" "n-$RANDOM" "$(challenge_for "$(new_verifier)")" '&prompt=login'
[ "$status" = 200 ] && [ -z "$callback" ] && grep -q 'name="password"' "$tmp/page.html" || fail "prompt=login: no form"
action=$(sed -n 's/.*<form method="post" action="\([^"]*\)".*/\1/p' "$tmp/page.html")
follow "$issuer$action" --data-urlencode login=alice --data-urlencode 'password=correct horse'
[ -n "$callback" ] && [ "$(query_param "$callback" state)" = "$state3" ] && [ -n "$(query_param "$callback" code)" ] || fail "prompt=login: no code"
ok "prompt=login: login form again, then code"

# --- 9. a code works once (its reuse also revokes the grant, as RFC 6749 suggests)
s=$(token "$REDIRECT_URI" "$code2" --data-urlencode "code_verifier=$verifier2")
[ "$s" = 400 ] || fail "code reuse: $s"
ok "second use of the same code: 400 $(json "$tmp/token.json" j.error)"

# --- 10. PKCE is required: no code_challenge is an error sent to the redirect_uri
follow "$auth_endpoint?response_type=code&client_id=$CLIENT_ID&redirect_uri=$REDIRECT_URI&scope=openid&state=st-nopkce"
[ -n "$callback" ] && [ "$(query_param "$callback" error)" = invalid_request ] || fail "authorisation without PKCE was not rejected"
ok "authorisation without code_challenge: error=invalid_request ($(query_param "$callback" error_description))"

# --- 11. SIGTERM ends the server cleanly
kill -TERM "$server_pid"
rc=0; wait "$server_pid" || rc=$?
server_pid=
[ "$rc" = 0 ] || fail "server exit status $rc after SIGTERM"
ok "SIGTERM: server exited with status 0"
[ "$(wc -l <"$tmp/server.out")" = 1 ] || fail "stdout has more than the ready line: $(cat "$tmp/server.out")"
ok "stdout held only the ready line"
echo "smoke: all checks passed"

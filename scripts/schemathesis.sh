#!/usr/bin/env bash
# Bad-input check by an outside tool: serve Carebook with the demo data and let schemathesis
# generate requests for every operation of /api/openapi.json, checking that nothing answers
# 5xx and every response matches its documented schema.
#
#   scripts/schemathesis.sh [DATABASE_URL]     (default: a fresh SQLite file)
#
# Needs a built binary (target/debug/carebook, or $CAREBOOK_BIN) and python3; schemathesis is
# installed into target/schemathesis-venv on first use. $ST_MAX_EXAMPLES sets the examples
# per operation (default 200).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${CAREBOOK_BIN:-target/debug/carebook}
examples=${ST_MAX_EXAMPLES:-200}
venv=target/schemathesis-venv
version=4.32.5

if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
db=${1:-"sqlite://$work/carebook.db"}
export CAREBOOK_DATA_DIR="$work" CAREBOOK_AUTH_RATE_PER_MINUTE=1000000 CAREBOOK_ACCESS_TOKEN_MINUTES=240 \
       CAREBOOK_LOG_LEVEL=warn CAREBOOK_WORKER=false
"$bin" serve --demo --listen "127.0.0.1:$port" --database-url "$db" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { cat "$work/server.log"; echo "server exited" >&2; exit 1; }
  sleep 0.2
done
token=$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"admin@carebook.test","password":"carebook-demo"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

status=0
"$venv/bin/st" run "$base/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$examples" \
  --seed 20261125 \
  --workers 2 \
  --request-timeout 30 \
  --suppress-health-check all || status=$?

if grep -q '"level":"ERROR"\|ERROR' "$work/server.log"; then
  echo "server logged errors during the run:" >&2
  grep 'ERROR' "$work/server.log" | head -20 >&2
  status=1
fi
exit $status

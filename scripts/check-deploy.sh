#!/usr/bin/env bash
# Checks the deployment files without a Docker engine or a Kubernetes cluster (CI runs this):
#   1. docker-compose.yml is valid (docker-compose 1.29 `config -q`, with and without the test profile), and so is
#      it with deploy/offline/compose.override.yml, which changes nothing but images, build args, NATS's
#      published port and one ulimit
#   2. deploy/nats/nats.conf and deploy/nginx/nginx.conf are accepted by nats-server and nginx
#   3. the Dockerfile lints, its stages and the compose build targets resolve
#   4. deploy/k8s renders (kubectl kustomize, else a minimal built-in renderer) and every object is
#      valid against the Kubernetes OpenAPI schema, has no unknown field, and follows our policy
#   5. every env var the deployment sets is one that src/config.ts `settings` declares
#   6. the Dockerfile build, replayed on a clean copy (npm ci → npm run build → npm ci --omit=dev →
#      dist/ + production node_modules + package.json), starts under tini with NODE_ENV=production,
#      turns ready on /health/ready (also through deploy/nginx/nginx.conf and the image's HEALTHCHECK
#      command), serves /metrics, writes nothing into its directory, and exits 0 on SIGTERM; the actors
#      and projections roles alone turn ready on their ops port (OPS_PORT), with the image's and
#      docker-compose.yml's health-check commands, and serve /metrics there
#
# Needs: node/npm, root for apt-get (installs docker-compose, nats-server, nginx-light, tini when
# missing), and MySQL/MariaDB (root, no password), NATS with JetStream and Redis on 127.0.0.1 — as on
# the CI machine. Overridable: CHECK_MYSQL_URL, CHECK_NATS_URL, CHECK_REDIS_URL, CHECK_ELASTICSEARCH_URL.
# Prints one PASS/FAIL line per check; exits non-zero if any failed. CHECK_DEPLOY_KEEP=1 keeps the temp dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS="$ROOT/deploy/tools"
MYSQL_URL="${CHECK_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
NATS_URL="${CHECK_NATS_URL:-nats://127.0.0.1:4222}"
REDIS_URL="${CHECK_REDIS_URL:-redis://127.0.0.1:6379}"
ES_URL="${CHECK_ELASTICSEARCH_URL:-http://127.0.0.1:9200}"
READY_TIMEOUT_S=60

PASSED=0
FAILED=0
WORK="$(mktemp -d /tmp/check-deploy.XXXXXX)"
SERVICE_PID=""
NGINX_PID=""
NS=""

pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
section() { echo; echo "== $*"; }
indent() { sed 's/^/     /'; }

# step NAME CMD...: runs CMD quietly; PASS, or FAIL with the tail of its output.
step() {
  local name="$1"; shift
  local log="$WORK/step.log"
  if "$@" >"$log" 2>&1; then pass "$name"; return 0; fi
  fail "$name"; tail -n 40 "$log" | indent; return 1
}

# checks CMD...: runs a command that prints its own PASS/FAIL lines (deploy/tools/check.mjs) and counts them.
checks() {
  local out rc=0
  out="$("$@" 2>&1)" || rc=$?
  echo "$out"
  PASSED=$((PASSED + $(grep -c '^PASS' <<<"$out" || true)))
  FAILED=$((FAILED + $(grep -c '^FAIL' <<<"$out" || true)))
  if [[ $rc -ne 0 ]] && ! grep -q '^FAIL' <<<"$out"; then fail "$* exited $rc"; fi
  return $rc
}

# need CMD PACKAGE: installs the Debian package when the command is missing.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing $2 (for $1)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1; } \
    || { echo "could not install $2"; return 1; }
  command -v "$1" >/dev/null 2>&1
}

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

mysql_args() { # mysql://user[:pass]@host:port → mysql client options
  node -e "const u=new URL(process.argv[1]);console.log(['-h',u.hostname,'-P',u.port||'3306','-u',decodeURIComponent(u.username||'root')].concat(u.password?['-p'+decodeURIComponent(u.password)]:[]).join('\n'))" "$MYSQL_URL"
}

cleanup() {
  local rc=$?
  set +e
  [[ -n "$NGINX_PID" ]] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  if [[ -n "$SERVICE_PID" ]] && kill -0 "$SERVICE_PID" 2>/dev/null; then
    kill -KILL "$SERVICE_PID" 2>/dev/null; wait "$SERVICE_PID" 2>/dev/null
  fi
  if [[ -n "$NS" ]]; then
    local args; mapfile -t args < <(mysql_args)
    mysql "${args[@]}" -e "DROP DATABASE IF EXISTS \`$NS\`" && echo "cleanup: dropped database $NS"
    if [[ -d "$WORK/runtime/node_modules/nats" ]]; then
      (cd "$WORK/runtime" && NS="$NS" NATS_URL="$NATS_URL" node --input-type=module -e "
        import { connect } from 'nats';
        const ns = process.env.NS, upper = ns.toUpperCase().replace(/-/g, '_');
        const nc = await connect({ servers: process.env.NATS_URL });
        const jsm = await nc.jetstreamManager();
        const gone = [];
        for await (const s of jsm.streams.list()) {
          const n = s.config.name;
          if (n.startsWith(upper + '_') || n.startsWith('KV_' + ns + '_')) { await jsm.streams.delete(n); gone.push(n); }
        }
        await nc.close();
        console.log('cleanup: deleted NATS streams ' + (gone.join(', ') || '(none)'));
      ") || echo "cleanup: could not delete the NATS streams of $NS"
    fi
    local idx
    for idx in $(curl -fsS -m 5 "$ES_URL/_cat/indices/$NS-*?h=index" 2>/dev/null); do
      curl -fsS -m 10 -X DELETE "$ES_URL/$idx" >/dev/null && echo "cleanup: deleted search index $idx"
    done
    if command -v redis-cli >/dev/null; then
      redis-cli -u "$REDIS_URL" --scan --pattern "$NS*" 2>/dev/null | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1
    fi
  fi
  if [[ "${CHECK_DEPLOY_KEEP:-}" == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ----------------------------------------------------------------------------------------------
section "tools"
TOOLS_OK=1
for pair in docker-compose:docker-compose nats-server:nats-server nginx:nginx-light tini:tini mysql:default-mysql-client curl:curl; do
  step "tool ${pair%%:*} available" need "${pair%%:*}" "${pair#*:}" || TOOLS_OK=0
done
step "deploy/tools dependencies (npm ci)" npm ci --prefix "$TOOLS" --no-audit --no-fund --loglevel=error || TOOLS_OK=0
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then KUSTOMIZE=kubectl; else KUSTOMIZE=builtin; fi
echo "kustomize: $KUSTOMIZE"

# ----------------------------------------------------------------------------------------------
section "docker-compose.yml"
COMPOSE_OK=0
if step "docker-compose config -q" docker-compose -f docker-compose.yml config -q \
  && step "docker-compose --profile test config -q" docker-compose -f docker-compose.yml --profile test config -q \
  && docker-compose -f docker-compose.yml --profile test config >"$WORK/compose.yaml" 2>"$WORK/compose.err"; then
  COMPOSE_OK=1
  services="$(docker-compose -f docker-compose.yml --profile test config --services | sort | tr '\n' ' ')"
  expected="actors api elasticsearch lb mysql nats nats-test projections redis test "
  if [[ "$services" == "$expected" ]]; then pass "compose services: $services"; else fail "compose services: got '$services', expected '$expected'"; fi
fi

# The offline kit's override (deploy/offline/compose.override.yml, what scripts/compose-test.sh runs) changes
# images, the project image's build arguments, NATS's published port and the search container's open-files
# limit, nothing else: the merged file without those equals docker-compose.yml without them.
if [[ $COMPOSE_OK == 1 ]] \
  && step "docker-compose config -q with deploy/offline/compose.override.yml" \
       docker-compose -f docker-compose.yml -f deploy/offline/compose.override.yml --profile test config -q \
  && docker-compose -f docker-compose.yml -f deploy/offline/compose.override.yml --profile test config >"$WORK/compose-offline.yaml" 2>"$WORK/compose.err" \
  && [[ $TOOLS_OK == 1 ]]; then
  step "deploy/offline/compose.override.yml swaps only images, build args, NATS's published port and an ulimit" \
    node -e "
      const Y = require('$TOOLS/node_modules/yaml'), fs = require('fs');
      const strip = (f) => { const c = Y.parse(fs.readFileSync(f, 'utf8'));
        for (const s of Object.values(c.services)) { delete s.image; if (s.build) delete s.build.args; s.volumes?.sort(); }
        delete c.services.nats.ports; delete c.services.elasticsearch.ulimits; return JSON.stringify(c); };
      const a = strip('$WORK/compose.yaml'), b = strip('$WORK/compose-offline.yaml');
      if (a !== b) { console.error('docker-compose.yml:', a, '\\nwith the override:', b); process.exit(1); }" || true
fi

section "deploy/nats/nats.conf, deploy/nginx/nginx.conf"
# auth.conf takes the passwords from the environment, as the compose container does
step "nats-server -t accepts deploy/nats/nats.conf (+ auth.conf)" env NATS_SERVICE_PASSWORD=check NATS_CLIENT_PASSWORD=check nats-server -c deploy/nats/nats.conf -t || true
step "nginx -t accepts deploy/nginx/nginx.conf" nginx -q -t -c "$ROOT/deploy/nginx/nginx.conf" || true

section "Dockerfile"
if [[ $COMPOSE_OK == 1 && $TOOLS_OK == 1 ]]; then
  checks node "$TOOLS/check.mjs" dockerfile Dockerfile "$WORK/compose.yaml" || true
else
  fail "Dockerfile checks skipped (compose or tools failed)"
fi

section "deploy/k8s ($KUSTOMIZE kustomize)"
K8S_OK=0
if [[ $KUSTOMIZE == kubectl ]]; then
  step "kubectl kustomize deploy/k8s" sh -c "kubectl kustomize deploy/k8s > '$WORK/k8s.yaml'" && K8S_OK=1
else
  step "render deploy/k8s (built-in renderer: resources, labels, images)" sh -c "node '$TOOLS/check.mjs' k8s-render deploy/k8s > '$WORK/k8s.yaml'" && K8S_OK=1
fi
if [[ $K8S_OK == 1 && $TOOLS_OK == 1 ]]; then checks node "$TOOLS/check.mjs" k8s "$WORK/k8s.yaml" || true; fi

# ----------------------------------------------------------------------------------------------
section "replay of the Dockerfile build on a clean copy ($WORK)"
# What the Docker build context would hold: tracked and untracked-but-not-ignored files (in CI: the commit).
mkdir -p "$WORK/context" "$WORK/build" "$WORK/prod" "$WORK/runtime"
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [[ -f "$f" ]] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$WORK/context"
# Exactly what the deps and build stages COPY.
(cd "$WORK/context" && cp -r package.json package-lock.json tsconfig.json tsconfig.build.json src "$WORK/build/")
BUILD_OK=0
if step "deps stage: npm ci" npm ci --prefix "$WORK/build" --no-audit --no-fund --loglevel=error \
  && step "build stage: npm run build" npm run --prefix "$WORK/build" build \
  && cp "$WORK/build/package.json" "$WORK/build/package-lock.json" "$WORK/prod/" \
  && step "prod-deps stage: npm ci --omit=dev" npm ci --prefix "$WORK/prod" --omit=dev --no-audit --no-fund --loglevel=error; then
  cp "$WORK/build/package.json" "$WORK/runtime/"
  mv "$WORK/prod/node_modules" "$WORK/runtime/node_modules"
  cp -r "$WORK/build/dist" "$WORK/runtime/dist"
  if [[ -d "$WORK/runtime/node_modules/typescript" || -d "$WORK/runtime/node_modules/tsx" ]]; then
    fail "runtime stage: dev dependencies in production node_modules"
  else
    pass "runtime stage: dist/ + production node_modules ($(ls "$WORK/runtime/node_modules" | wc -l) packages) + package.json"
    BUILD_OK=1
  fi
fi

section "env var names"
if [[ $BUILD_OK == 1 && $COMPOSE_OK == 1 && $K8S_OK == 1 && $TOOLS_OK == 1 ]]; then
  if (cd "$WORK/build" && node --import tsx --input-type=module \
      -e "const { settings } = await import('./src/config.ts'); console.log(Object.values(settings).map((s) => s.env).join('\n'))") >"$WORK/settings.txt" 2>"$WORK/settings.err"; then
    checks node "$TOOLS/check.mjs" env --settings "$WORK/settings.txt" --test-env "$WORK/context/test/support/env.ts" \
      --compose "$WORK/compose.yaml" --k8s "$WORK/k8s.yaml" --dockerfile Dockerfile || true
  else
    fail "list src/config.ts settings with tsx"; indent <"$WORK/settings.err"
  fi
else
  fail "env var names skipped (build, compose, k8s or tools failed)"
fi

# start_service ROLES LOG: the runtime layout as the image runs it (tini → node, clean environment).
start_service() {
  (cd "$WORK/runtime" && exec env -i PATH="$PATH" HOME="$WORK" NODE_ENV=production ROLES="$1" \
      NAMESPACE="$NS" DATABASE_URL="$MYSQL_URL/$NS" NATS_URL="$NATS_URL" REDIS_URL="$REDIS_URL" \
      ELASTICSEARCH_URL="$ES_URL" PORT="$PORT" OPS_PORT="$OPS_PORT" HOST=127.0.0.1 LOG_LEVEL=info \
      tini -s -- node dist/main.js) >"$2" 2>&1 &
  SERVICE_PID=$!
  echo "service: ROLES=$1, tini pid $SERVICE_PID, namespace $NS, port $PORT, ops port $OPS_PORT, log $2"
}

# stop_service NAME LOG: SIGTERM; PASS when it exits 0 after logging its graceful shutdown.
stop_service() {
  local rc=0 t0=$SECONDS k
  if ! kill -0 "$SERVICE_PID" 2>/dev/null; then
    wait "$SERVICE_PID" || rc=$?
    SERVICE_PID=""
    fail "$1: exited by itself with code $rc"; tail -n 30 "$2" | indent
    return
  fi
  kill -TERM "$SERVICE_PID"
  # The process's own limit is SHUTDOWN_TIMEOUT_MS (15 s) + 5 s; SIGKILL after 40 s.
  for ((k = 0; k < 80; k++)); do kill -0 "$SERVICE_PID" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$SERVICE_PID" 2>/dev/null && kill -KILL "$SERVICE_PID"
  wait "$SERVICE_PID" || rc=$?
  SERVICE_PID=""
  if [[ $rc == 0 ]] && grep -q '"shutting down"' "$2"; then pass "$1: SIGTERM → graceful shutdown, exit code 0 after $((SECONDS - t0)) s"
  else fail "$1: SIGTERM → exit code $rc"; tail -n 30 "$2" | indent; fi
}

section "start the runtime layout, readiness, SIGTERM"
if [[ $BUILD_OK == 1 ]]; then
  NS="deploycheck$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
  PORT="$(free_port)"
  OPS_PORT="$(free_port)"
  touch "$WORK/runtime.stamp"
  sleep 1 # mtime granularity for the "writes nothing" check

  # The image's HEALTHCHECK command (run below for each role).
  hc_image="$(node -e "
    const t = require('fs').readFileSync('Dockerfile', 'utf8').replace(/\\\\\n/g, ' ');
    const m = t.match(/^HEALTHCHECK .*?CMD (\[.*\])\s*$/m); console.log(JSON.parse(m[1])[2]);")"

  # All roles in one process (the image's default), with the HTTP checks.
  start_service api,actors,projections "$WORK/service.log"
  ready=0
  for ((i = 0; i < READY_TIMEOUT_S * 2; i++)); do
    if ! kill -0 "$SERVICE_PID" 2>/dev/null; then break; fi
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready" || true)"
    if [[ "$code" == 200 ]]; then ready=1; break; fi
    sleep 0.5
  done
  if [[ $ready == 1 ]]; then
    pass "GET /health/ready → 200 after $((i / 2)) s"
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/health/live" || true)"
    [[ "$code" == 200 ]] && pass "GET /health/live → 200" || fail "GET /health/live → $code"
    metrics="$(curl -s -m 5 "http://127.0.0.1:$PORT/metrics" || true)"
    if grep -q '^chat_http_request_duration_seconds_count' <<<"$metrics" && grep -q '^chat_partitions_owned' <<<"$metrics"; then pass "GET /metrics → Prometheus text (http, actors)"
    else fail "GET /metrics: $(head -c 200 <<<"$metrics")"; fi
    if curl -s -o /dev/null -m 1 "http://127.0.0.1:$OPS_PORT/health/live"; then fail "ROLES=api,actors,projections: something answers on OPS_PORT (the api port serves health and metrics)"; fi

    # The health-check commands exactly as the image and docker-compose.yml run them.
    step "Dockerfile HEALTHCHECK command exits 0" env PORT="$PORT" node -e "$hc_image" || true
    hc_compose="$(node -e "
      const Y = require('$TOOLS/node_modules/yaml'); const c = Y.parse(require('fs').readFileSync('$WORK/compose.yaml', 'utf8'));
      console.log(c.services.api.healthcheck.test[3].replace('127.0.0.1:3000', '127.0.0.1:$PORT'));" 2>/dev/null || true)"
    if [[ -n "$hc_compose" ]]; then step "docker-compose.yml api healthcheck command exits 0" node -e "$hc_compose" || true; fi

    # deploy/nginx/nginx.conf in front of it (the upstream pointed at this process instead of `api`).
    LB_PORT="$(free_port)"
    sed -e "s/listen 3000;/listen $LB_PORT;/" -e "s#http://api:3000#http://127.0.0.1:$PORT#" \
        -e "s#^pid .*#pid $WORK/nginx.pid;#" deploy/nginx/nginx.conf >"$WORK/nginx.conf"
    nginx -c "$WORK/nginx.conf" -g 'daemon off;' >"$WORK/nginx.log" 2>&1 &
    NGINX_PID=$!
    for ((j = 0; j < 20; j++)); do curl -s -o /dev/null -m 1 "http://127.0.0.1:$LB_PORT/lb/health" && break; sleep 0.25; done
    code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$LB_PORT/health/ready" || true)"
    [[ "$code" == 200 ]] && pass "through nginx.conf: GET /health/ready → 200" || { fail "through nginx.conf: GET /health/ready → $code"; indent <"$WORK/nginx.log"; }
    # A body over BODY_LIMIT_BYTES (1 MiB) must reach the service and get its JSON 413, not nginx's HTML one.
    head -c 1300000 /dev/zero | tr '\0' 'a' | sed 's/^/{"name":"/; s/$/"}/' >"$WORK/big.json"
    resp="$(curl -s -m 10 -w '\n%{http_code} %{content_type}' -H 'content-type: application/json' \
      --data-binary @"$WORK/big.json" "http://127.0.0.1:$LB_PORT/applications" || true)"
    if [[ "$(tail -n1 <<<"$resp")" == "413 application/json"* ]]; then pass "through nginx.conf: 1.3 MB body → the service's JSON 413"
    else fail "through nginx.conf: 1.3 MB body → $(tail -n1 <<<"$resp"): $(head -c 120 <<<"$resp" | tr -s "\n" " ")"; fi
    kill "$NGINX_PID" && wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=""
  else
    fail "GET /health/ready → 200 within ${READY_TIMEOUT_S} s (last: ${code:-no answer})"
    tail -n 30 "$WORK/service.log" | indent
  fi
  stop_service "ROLES=api,actors,projections" "$WORK/service.log"

  # The non-api roles as docker-compose.yml and deploy/k8s run them: health and metrics on the ops port.
  for role in actors projections; do
    log="$WORK/service-$role.log"
    start_service "$role" "$log"
    ready=0
    for ((i = 0; i < READY_TIMEOUT_S * 2; i++)); do
      kill -0 "$SERVICE_PID" 2>/dev/null || break
      code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$OPS_PORT/health/ready" || true)"
      if [[ "$code" == 200 ]]; then ready=1; break; fi
      sleep 0.5
    done
    if [[ $ready == 1 ]]; then
      pass "ROLES=$role: GET :OPS_PORT/health/ready → 200 after $((i / 2)) s"
      code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$OPS_PORT/health/live" || true)"
      [[ "$code" == 200 ]] && pass "ROLES=$role: GET :OPS_PORT/health/live → 200" || fail "ROLES=$role: GET :OPS_PORT/health/live → $code"
      metrics="$(curl -s -m 5 "http://127.0.0.1:$OPS_PORT/metrics" || true)"
      [[ $role == actors ]] && want='^chat_partitions_owned' || want='^chat_projections_running'
      if grep -q "$want" <<<"$metrics"; then pass "ROLES=$role: GET :OPS_PORT/metrics → Prometheus text"
      else fail "ROLES=$role: GET :OPS_PORT/metrics: $(head -c 200 <<<"$metrics")"; fi
      code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$OPS_PORT/applications" || true)"
      [[ "$code" == 404 ]] && pass "ROLES=$role: the ops port serves no API" || fail "ROLES=$role: GET :OPS_PORT/applications → $code"
      step "ROLES=$role: Dockerfile HEALTHCHECK command exits 0" env ROLES="$role" OPS_PORT="$OPS_PORT" node -e "$hc_image" || true
      hc_compose="$(node -e "
        const Y = require('$TOOLS/node_modules/yaml'); const c = Y.parse(require('fs').readFileSync('$WORK/compose.yaml', 'utf8'));
        console.log(c.services['$role'].healthcheck.test[3].replace('127.0.0.1:' + c.services['$role'].environment.OPS_PORT, '127.0.0.1:$OPS_PORT'));" 2>/dev/null || true)"
      if [[ -n "$hc_compose" ]]; then step "docker-compose.yml $role healthcheck command exits 0" node -e "$hc_compose" || true
      else fail "docker-compose.yml: no healthcheck command for $role"; fi
    else
      fail "ROLES=$role: GET :OPS_PORT/health/ready → 200 within ${READY_TIMEOUT_S} s (last: ${code:-no answer})"; tail -n 30 "$log" | indent
    fi
    if curl -s -o /dev/null -m 1 "http://127.0.0.1:$PORT/health/live"; then fail "ROLES=$role: something answers HTTP on PORT"; fi
    stop_service "ROLES=$role" "$log"
  done

  written="$(find "$WORK/runtime" -newer "$WORK/runtime.stamp" | sed -n 1,20p)"
  if [[ -z "$written" ]]; then pass "wrote nothing into its directory (readOnlyRootFilesystem is safe)"
  else fail "wrote into its directory:"; indent <<<"$written"; fi
else
  fail "start skipped (the build replay failed)"
fi

echo
echo "check-deploy: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]

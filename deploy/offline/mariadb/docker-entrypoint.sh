#!/bin/bash
# The official mysql image's start-up, for MariaDB: on an empty data directory, initialise it, start a
# temporary server on the socket only (so a TCP health check turns healthy only once the real server is up),
# set the root password (root@'%', as the official image), create MYSQL_DATABASE and MYSQL_USER, run
# /docker-entrypoint-initdb.d/*.sql and *.sh, stop it; then exec the server. Options as the first
# argument (`--max-connections=1000`) are passed to mariadbd.
set -euo pipefail
if [[ "${1:-}" == -* ]]; then set -- mariadbd "$@"; fi
if [[ "$1" != mariadbd && "$1" != mysqld ]]; then exec "$@"; fi
shift
log() { echo "$(date -u +%FT%TZ) [Note] [Entrypoint]: $*"; }
args=(--user=mysql --datadir=/var/lib/mysql --bind-address=0.0.0.0 --skip-name-resolve)
if [[ ! -d /var/lib/mysql/mysql ]]; then
  : "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD must be set}"
  log "initialising the data directory"
  chown -R mysql:mysql /var/lib/mysql
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  mariadbd "${args[@]}" --skip-networking --socket=/run/mysqld/init.sock "$@" &
  pid=$!
  for _ in $(seq 60); do mariadb-admin --socket=/run/mysqld/init.sock ping --silent 2>/dev/null && break; sleep 0.5; done
  sql() { mariadb --protocol=socket --socket=/run/mysqld/init.sock -uroot "$@"; }
  {
    echo "DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost'));"
    echo "DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost');"
    echo "FLUSH PRIVILEGES;"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD//\'/\'\'}';"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD//\'/\'\'}';"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [[ -n "${MYSQL_DATABASE:-}" ]]; then echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"; fi
    if [[ -n "${MYSQL_USER:-}" ]]; then
      echo "CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '${MYSQL_PASSWORD//\'/\'\'}';"
      if [[ -n "${MYSQL_DATABASE:-}" ]]; then echo "GRANT ALL ON \`$MYSQL_DATABASE\`.* TO '$MYSQL_USER'@'%';"; fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | sql
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) log "running $f"; sql -p"$MYSQL_ROOT_PASSWORD" <"$f" ;;
      *.sh) log "running $f"; . "$f" ;;
    esac
  done
  mariadb-admin --socket=/run/mysqld/init.sock -uroot -p"$MYSQL_ROOT_PASSWORD" shutdown
  wait "$pid" || true
  log "initialised; starting the server"
fi
exec mariadbd "${args[@]}" "$@"

-- Runs once, when the MySQL volume is initialised (docker-entrypoint-initdb.d).
-- The image's entrypoint has created the user MYSQL_USER ('chat' in docker-compose.yml) without
-- privileges; let it create and migrate its own database `chat` (the one DATABASE_URL names: the
-- service runs CREATE DATABASE IF NOT EXISTS itself, with its own character set and collation).
-- Keep the names in step with docker-compose.yml.
GRANT ALL PRIVILEGES ON `chat`.* TO 'chat'@'%';

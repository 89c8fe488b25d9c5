#!/bin/sh
# One database and one role per service, created by the postgres image on its first start
# (an empty data volume): the monolith and the processing service never share tables or
# credentials. The passwords come from the environment docker-compose.yml gives this container.
set -eu

: "${MONOLITH_DATABASE_PASSWORD:?MONOLITH_DATABASE_PASSWORD is not set}"
: "${PROCESSING_DATABASE_PASSWORD:?PROCESSING_DATABASE_PASSWORD is not set}"

# psql's :'name' quotes each value as a literal, so a password cannot break the statement.
psql --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set monolith_password="$MONOLITH_DATABASE_PASSWORD" \
    --set processing_password="$PROCESSING_DATABASE_PASSWORD" <<'SQL'
CREATE ROLE tessera_monolith LOGIN PASSWORD :'monolith_password';
CREATE DATABASE tessera_monolith OWNER tessera_monolith;
CREATE ROLE tessera_processing LOGIN PASSWORD :'processing_password';
CREATE DATABASE tessera_processing OWNER tessera_processing;
SQL

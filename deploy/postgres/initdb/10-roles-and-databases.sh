#!/bin/sh
# Runs once, when the postgresql service starts on an empty data volume (the postgres image runs
# every script in /docker-entrypoint-initdb.d as the superuser). It creates:
#   - role "temporal" (may create databases): the temporal-schema job then creates and migrates
#     the "temporal" and "temporal_visibility" databases it owns;
#   - role "redress" and database "redress" (owned by it): `redress migrate` creates the tables.
# Passwords come from the environment of the postgresql service (TEMPORAL_DB_PASSWORD,
# REDRESS_DB_PASSWORD); psql quotes them, so any character is allowed here, but DATABASE_URL
# needs them percent-encoded, so prefer URL-safe passwords (e.g. `openssl rand -hex 24`).
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
	-v temporal_password="$TEMPORAL_DB_PASSWORD" \
	-v redress_password="$REDRESS_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE redress LOGIN PASSWORD :'redress_password';
CREATE DATABASE redress OWNER redress;
SQL

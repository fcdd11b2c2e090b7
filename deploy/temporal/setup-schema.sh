#!/bin/sh
# One-shot job of the temporal-schema service (temporalio/admin-tools image): creates the
# Temporal databases if missing and brings both schemas to the newest version shipped with the
# image. Every step is idempotent, so it runs on every `docker compose up` and upgrades an
# existing volume in place after the image tags are raised.
#
# temporal-sql-tool reads its connection from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and
# SQL_PASSWORD (set on the service); the database names from TEMPORAL_DBNAME and
# VISIBILITY_DBNAME.
set -eu

: "${TEMPORAL_DBNAME:=temporal}"
: "${VISIBILITY_DBNAME:=temporal_visibility}"

echo "waiting for ${SQL_HOST}:${SQL_PORT}"
i=0
until nc -z -w 5 "$SQL_HOST" "$SQL_PORT"; do
	i=$((i + 1))
	if [ "$i" -ge 60 ]; then
		echo "PostgreSQL at ${SQL_HOST}:${SQL_PORT} is not reachable" >&2
		exit 1
	fi
	sleep 2
done

temporal-sql-tool --db "$TEMPORAL_DBNAME" create
temporal-sql-tool --db "$TEMPORAL_DBNAME" setup-schema -v 0.0
temporal-sql-tool --db "$TEMPORAL_DBNAME" update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned

temporal-sql-tool --db "$VISIBILITY_DBNAME" create
temporal-sql-tool --db "$VISIBILITY_DBNAME" setup-schema -v 0.0
temporal-sql-tool --db "$VISIBILITY_DBNAME" update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned

echo "Temporal schemas are up to date"

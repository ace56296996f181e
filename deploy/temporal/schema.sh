#!/bin/sh
# Creates or upgrades Temporal's two databases on temporal-postgres (runs in temporalio/admin-tools,
# the password in SQL_PASSWORD). Safe on every start: each step leaves what exists alone.
set -eu
sql() { temporal-sql-tool --plugin postgres12 --ep temporal-postgres -p 5432 -u temporal "$@"; }
for db in temporal temporal_visibility; do
  schema=$([ "$db" = temporal ] && echo temporal || echo visibility)
  sql --db "$db" create || true # "already exists" on every start but the first
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$schema/versioned"
done

#!/usr/bin/env bash
# Run once by the postgres image, when its data volume is new: Airflow's metadata database and the ews warehouse,
# each owned by its own login, neither able to connect to the other's database.
#   airflow  owns database airflow (Airflow's metadata, Celery's results)
#   ews      owns database ews (the warehouse); CREATEROLE, because its migrations create the jobs' group roles
#            (warning_models/migrations/0007_job_roles.sql) and airflow-init then creates the jobs' logins
# The passwords come from the environment (docker-compose.yaml) and reach psql as variables (:'name' quotes them
# as literals); this file holds none, and the here-document is quoted so the shell expands nothing in the SQL.
set -euo pipefail
: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is not set}"
: "${EWS_WAREHOUSE_PASSWORD:?EWS_WAREHOUSE_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v airflow_password="${AIRFLOW_DB_PASSWORD}" \
  -v ews_password="${EWS_WAREHOUSE_PASSWORD}" <<'SQL'
create role airflow login password :'airflow_password';
create database airflow owner airflow;
create role ews login createrole password :'ews_password';
-- PostgreSQL 16 gives a CREATEROLE user only ADMIN OPTION on the roles it creates; the migrations also hand
-- schemas to those roles (alter schema ... owner to ews_transformer), which needs SET: grant it at creation.
alter role ews set createrole_self_grant = 'set, inherit';
create database ews owner ews;
-- only each database's owner (and, for ews, the job roles airflow-init grants it to) may connect
revoke connect on database airflow from public;
revoke connect on database ews from public;
SQL

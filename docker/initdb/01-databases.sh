#!/usr/bin/env bash
# Airflow's metadata database and the ews warehouse, each owned by its own role. Passwords from the environment.
# ews may create roles: its migrations create the jobs' least-privilege roles (docs/security.md).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username postgres <<SQL
create role airflow login password '${POSTGRES_PASSWORD}';
create database airflow owner airflow;
create role ews login createrole password '${EWS_WAREHOUSE_PASSWORD}';
create database ews owner ews;
SQL

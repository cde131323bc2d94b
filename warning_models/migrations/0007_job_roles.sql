-- Least privilege: one group role per job, each able to do its job and nothing else (docs/security.md).
--   ews_loader       the ingest job (load + gate + quarantine): raw, the batch audit trail, quarantine, and the
--                    data-quality alerts only (row-level security on warning.alerts)
--   ews_transformer  dbt: reads raw, the batch audit trail and the warning tables, owns the schemas it builds
--                    (staging, intermediate, marts, consortium, seeds, bi)
--   ews_modeler      the indicators and the evaluation: reads the marts (granted by dbt's default privileges
--                    below), writes the warning tables
--   ews_bi_reader    BI tools: the warning tables and the masked views of schema bi, nothing else
--   ews_auditor      the audit schema, read only
-- The roles cannot log in: a job's login (or the warehouse URL's user) is a member and sets the role when it
-- connects (warning_models.roles). Roles are cluster-wide: each is created only if missing, and a database
-- migrating in parallel that wins the race is not an error.
do $$
declare
    role_name text;
begin
    foreach role_name in array array['ews_loader', 'ews_transformer', 'ews_modeler', 'ews_bi_reader', 'ews_auditor']
    loop
        if not exists (select from pg_roles where rolname = role_name) then
            begin
                execute format('create role %I nologin', role_name);
            exception when duplicate_object or unique_violation then
                null;
            end;
        end if;
        -- The migrating user sets these roles for its jobs (a superuser may set any role already). From
        -- PostgreSQL 16 on, creating a role gives its creator ADMIN on it but not SET: ask for SET there.
        if not pg_has_role(
            current_user, role_name,
            case when current_setting('server_version_num')::integer >= 160000 then 'SET' else 'MEMBER' end
        ) then
            execute format('grant %I to %I', role_name, current_user);
        end if;
    end loop;
end
$$;

-- dbt's schemas belong to the transformer, with whatever an earlier dbt run (as the migrating user) built in them.
create schema if not exists bi;
do $$
declare
    schema_name text;
    relation regclass;
begin
    foreach schema_name in array array['staging', 'intermediate', 'marts', 'consortium', 'seeds', 'bi'] loop
        execute format('create schema if not exists %I', schema_name);
        execute format('alter schema %I owner to ews_transformer', schema_name);
        for relation in
            select c.oid::regclass
            from pg_class as c
            inner join pg_namespace as n on c.relnamespace = n.oid
            where n.nspname = schema_name and c.relkind in ('r', 'p', 'v', 'm')
        loop
            execute format('alter table %s owner to ews_transformer', relation);
        end loop;
    end loop;
end
$$;

-- What dbt builds is readable by the roles that need it, whenever dbt rebuilds it: the modeler reads the marts.
alter default privileges for role ews_transformer in schema marts grant select on tables to ews_modeler;
grant usage on schema marts to ews_modeler;
grant select on all tables in schema marts to ews_modeler;
grant usage on schema bi to ews_bi_reader;

-- The loader writes data-quality alerts and nothing else of warning.alerts. Row-level security, not forced: the
-- table's owner (the migrating user) is not filtered.
alter table warning.alerts enable row level security;
create policy loader_data_quality_alerts on warning.alerts
    for all to ews_loader
    using (domain = 'data_quality')
    with check (domain = 'data_quality');
create policy modeler_alerts on warning.alerts
    for all to ews_modeler
    using (true)
    with check (true);
create policy readers_alerts on warning.alerts
    for select to ews_bi_reader, ews_auditor
    using (true);

-- dbt refreshes the planner statistics of its sources (raw.*, audit.batches) before a build (macros/
-- analyze_sources.sql); ANALYZE needs the table's owner, so it goes through this function, which can analyse
-- those tables and nothing else.
create function audit.analyze_sources() returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    relation regclass;
begin
    for relation in
        select c.oid::regclass
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where c.relkind = 'r' and (n.nspname = 'raw' or (n.nspname = 'audit' and c.relname = 'batches'))
    loop
        execute format('analyze %s', relation);
    end loop;
end
$$;
revoke execute on function audit.analyze_sources() from public;
grant execute on function audit.analyze_sources() to ews_transformer;

-- The table grants of the schemas migrations own. warning_models.warehouse.migrate() calls this after every
-- migration run, so a table a later migration adds is granted like its neighbours (grants are idempotent).
create function audit.grant_job_privileges() returns void
language plpgsql
as $$
begin
    -- pipeline stages: every job records its own
    grant usage on schema audit to ews_loader, ews_transformer, ews_modeler, ews_auditor;
    grant select, insert, update on audit.pipeline_runs to ews_loader, ews_transformer, ews_modeler;

    -- loader: raw, the batch audit trail, quarantine, data-quality alerts
    grant usage on schema raw, quarantine, warning to ews_loader;
    grant select, insert, delete on all tables in schema raw to ews_loader;
    grant select, insert, update, delete on audit.batches, audit.batch_controls, audit.dq_results to ews_loader;
    grant select, insert, update on all tables in schema quarantine to ews_loader;
    grant usage on all sequences in schema quarantine to ews_loader;
    grant select, insert, update, delete on warning.alerts to ews_loader;

    -- transformer: the sources dbt reads (the views of schema bi read the warning tables), and the functions
    -- its hooks call
    grant usage on schema raw, warning to ews_transformer;
    grant select on all tables in schema raw to ews_transformer;
    grant select on audit.batches, audit.dq_results to ews_transformer;
    grant select on all tables in schema warning to ews_transformer;

    -- modeler: the warning tables
    grant usage on schema warning to ews_modeler;
    grant select, insert, update, delete on all tables in schema warning to ews_modeler;
    grant usage on all sequences in schema warning to ews_modeler;

    -- BI: the warning tables, read only
    grant usage on schema warning to ews_bi_reader;
    grant select on all tables in schema warning to ews_bi_reader;

    -- auditor: the audit schema, read only
    grant select on all tables in schema audit to ews_auditor;
end
$$;
revoke execute on function audit.grant_job_privileges() from public;

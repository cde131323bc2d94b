-- Which passed batches each incremental dbt model has built from (dbt_project/macros/incremental_batches.sql).
-- An incremental model rebuilds the business dates of the passed batches it has not consumed yet, and of the
-- batches it consumed that are no longer passed (superseded by a correction); its post-hook records the batches
-- of the run in the same transaction as the rows. Exact, whatever order batches pass or are replaced in.
create table audit.model_batches (
    model_name text not null,
    batch_id text not null,
    source text not null,
    business_date date not null,
    consumed_at timestamptz not null default now(),
    primary key (model_name, batch_id)
);
create index model_batches_latest on audit.model_batches (model_name, consumed_at);

-- dbt (the transformer) keeps the record; the auditor reads it with the rest of audit.
grant select, insert, update, delete on audit.model_batches to ews_transformer;

-- An incremental build reads the repayments of the dates it rebuilds (dbt's int_repayments_aggregated_to_loan_days
-- filters on due_date, which the gate holds to the batch's business date).
create index raw_repayments_by_due_date on raw.repayments (due_date);

-- The marts that became incremental, and whose columns changed, are rebuilt from every passed batch by the next
-- dbt run (which records the batches it read). Views built on them go too; dbt recreates them in the same run.
drop table if exists
    marts.fct_loan_days, marts.fct_npl_ratio_days, marts.fct_credit_roll_rates, marts.fct_borrower_months,
    marts.fct_credit_vintages, marts.fct_user_days, marts.fct_user_hours, marts.fct_access_sessions
    cascade;

-- dbt builds the consortium marts in parallel threads: their grants on the one schema serialise here, instead of
-- failing with "tuple concurrently updated" when two land together.
create or replace function warning.share_with_consortium(relation regclass) returns void
language plpgsql
as $$
declare
    schema_name text;
begin
    select n.nspname into schema_name
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    where c.oid = relation;

    perform pg_advisory_xact_lock(hashtext('ews grant schema ' || schema_name));
    execute format('grant usage on schema %I to ews_consortium', schema_name);
    execute format('grant select on %s to ews_consortium', relation);
end
$$;

-- The loader refreshes the planner statistics of a raw table right after a batch that grows it by a tenth or more
-- (the first days of a warehouse, a bank's initial book): the gate's queries and dbt then plan with real row counts.
-- ANALYZE needs the table's owner: this function analyses one raw table (and audit.batches) and nothing else.
create function audit.analyze_raw_table(source_name text) returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    relation regclass;
begin
    select c.oid::regclass into relation
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    where c.relkind = 'r' and n.nspname = 'raw' and c.relname = source_name;
    if relation is null then
        raise exception 'no raw table %', source_name;
    end if;
    execute format('analyze %s', relation);
    analyze audit.batches;
end
$$;
revoke execute on function audit.analyze_raw_table(text) from public;
grant execute on function audit.analyze_raw_table(text) to ews_loader;

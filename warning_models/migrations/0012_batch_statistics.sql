-- Planner statistics of the batch tables, refreshed by the gate once it has decided its batches.
-- Every staging view joins audit.batches on status 'passed': statistics taken while the day's batches were still
-- 'loaded' (the loader analyses them with a raw table) make the planner expect one passed batch per source, and a
-- first build of fct_loan_days then runs as nested loops over every loan day (autovacuum, when it is on, would
-- catch up only later). audit.model_batches plans every incremental model's batches.
create function audit.analyze_batch_tables() returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    analyze audit.batches;
    analyze audit.model_batches;
end
$$;
revoke execute on function audit.analyze_batch_tables() from public;
grant execute on function audit.analyze_batch_tables() to ews_loader;

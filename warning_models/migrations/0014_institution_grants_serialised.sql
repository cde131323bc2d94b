-- dbt builds the institution marts in parallel threads: their grants on the one schema serialise here (as the
-- consortium's do, migration 0011), instead of failing with "tuple concurrently updated" when two land together
-- (seen in CI once the market chain got fast enough for fct_loan_days to finish beside another mart).
create or replace function warning.apply_institution_rls(relation regclass) returns void
language plpgsql
as $$
declare
    group_wide_roles text;
    schema_name text;
begin
    select n.nspname into schema_name
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    where c.oid = relation;

    select string_agg(quote_ident(rolname), ', ' order by rolname) into group_wide_roles
    from pg_roles
    where rolname in ('ews_transformer', 'ews_modeler', 'ews_bi_reader', 'ews_auditor');

    execute format('alter table %s enable row level security', relation);
    execute format('alter table %s force row level security', relation);
    execute format('drop policy if exists institution_rows on %s', relation);
    execute format(
        'create policy institution_rows on %s for select to ews_institution_analyst using ('
        || 'institution_id in (select m.institution_id from audit.institution_members as m'
        || ' where m.login_role = current_user))',
        relation
    );
    execute format('drop policy if exists group_wide_rows on %s', relation);
    execute format(
        'create policy group_wide_rows on %s for all to current_user%s using (true) with check (true)',
        relation,
        coalesce(', ' || group_wide_roles, '')
    );
    perform pg_advisory_xact_lock(hashtext('ews grant schema ' || schema_name));
    execute format('grant usage on schema %I to ews_institution_analyst', schema_name);
    execute format('grant select on %s to ews_institution_analyst', relation);
end
$$;

-- dbt builds the institution marts in parallel threads: their grants on the one schema serialise on the lock the
-- consortium's grants take (migration 0011), instead of failing with "tuple concurrently updated" when two land
-- together (seen in CI once the market chain got fast enough for fct_loan_days to finish beside another mart).
-- The policy work of migration 0008 stays as it is, under the lock.
alter function warning.apply_institution_rls(regclass) rename to apply_institution_rls_unserialised;

create function warning.apply_institution_rls(relation regclass) returns void
language plpgsql
as $$
begin
    perform pg_advisory_xact_lock(hashtext('ews grant schema ' || (
        select n.nspname from pg_class as c inner join pg_namespace as n on c.relnamespace = n.oid
        where c.oid = relation
    )));
    perform warning.apply_institution_rls_unserialised(relation);
end
$$;

-- Every raw row names its batch in audit.batches. A foreign key checked that row by row: one lookup per row, 40 to
-- 70 % of the COPY of a 100,000-row file (docs/benchmarks.md, "Where the time goes"). The same rule is checked here
-- once per statement, over the batch ids of the statement's new rows (a transition table), and audit.batches
-- refuses to lose or rename a batch that raw rows still name, as the foreign key did.
create function audit.check_raw_batch_ids() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    orphan text;
begin
    select n.batch_id into orphan
    from (select distinct batch_id from new_rows) as n
    where not exists (select from audit.batches as b where b.batch_id = n.batch_id)
    limit 1;
    if found then
        raise exception 'insert or update on table %.% names batch %, which audit.batches does not hold',
            tg_table_schema, tg_table_name, orphan
            using errcode = 'foreign_key_violation';
    end if;
    return null;
end
$$;
revoke execute on function audit.check_raw_batch_ids() from public;

create function audit.keep_named_batches() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    raw_table regclass;
    named boolean;
begin
    for raw_table in
        select c.oid::regclass
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        inner join pg_attribute as a on a.attrelid = c.oid and a.attname = 'batch_id' and not a.attisdropped
        where n.nspname = 'raw' and c.relkind = 'r'
    loop
        execute format('select exists (select from %s where batch_id = $1)', raw_table) into named using old.batch_id;
        if named then
            raise exception 'batch % is still named by rows of %', old.batch_id, raw_table
                using errcode = 'foreign_key_violation';
        end if;
    end loop;
    return case when tg_op = 'DELETE' then old else new end;
end
$$;
revoke execute on function audit.keep_named_batches() from public;

create trigger batches_keep_named_on_delete before delete on audit.batches
    for each row execute function audit.keep_named_batches();
create trigger batches_keep_named_on_rename before update of batch_id on audit.batches
    for each row when (old.batch_id is distinct from new.batch_id) execute function audit.keep_named_batches();

do $$
declare
    fk record;
begin
    for fk in
        select c.relname, con.conname
        from pg_constraint as con
        inner join pg_class as c on con.conrelid = c.oid
        inner join pg_namespace as n on c.relnamespace = n.oid
        where n.nspname = 'raw' and con.contype = 'f' and con.confrelid = 'audit.batches'::regclass
    loop
        execute format('alter table raw.%I drop constraint %I', fk.relname, fk.conname);
        execute format(
            'create trigger batch_ids_inserted after insert on raw.%I referencing new table as new_rows'
            ' for each statement execute function audit.check_raw_batch_ids()', fk.relname);
        execute format(
            'create trigger batch_ids_updated after update on raw.%I referencing new table as new_rows'
            ' for each statement execute function audit.check_raw_batch_ids()', fk.relname);
    end loop;
end
$$;

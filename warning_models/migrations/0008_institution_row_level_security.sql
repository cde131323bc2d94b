-- Risk-data sharing between the institutions of the group (seed §3.2, central-database mode): row-level security
-- on the marts that carry an institution, the table mapping login roles to institutions, the consortium's
-- read-only role, and the HMAC behind the consortium pseudonym. docs/data_sharing.md explains the model.

-- Two group roles, cluster-wide: each is created only if missing, and a database migrating in parallel that wins
-- the race is not an error. ews_institution_analyst: an institution's analysts, who read the credit marts but only
-- the rows of the institutions audit.institution_members maps their login to. ews_consortium: the consortium
-- (central database), which reads only the shared marts of schema consortium. No comment on role here: shared
-- catalog rows updated by databases migrating in parallel would collide.
do $$
declare
    role_name text;
begin
    foreach role_name in array array['ews_institution_analyst', 'ews_consortium'] loop
        if not exists (select from pg_roles where rolname = role_name) then
            begin
                execute format('create role %I nologin', role_name);
            exception when duplicate_object or unique_violation then
                null;
            end;
        end if;
    end loop;
end
$$;

-- Which login role works for which institution. Written only by the warehouse's administrators: no role is granted
-- insert, update or delete here, and an analyst reads only their own rows (the policies below look them up).
create table audit.institution_members (
    login_role      text not null,          -- the analyst's login (current_user when they query)
    institution_id  text not null,          -- as in raw.borrowers.institution_id
    granted_at      timestamptz not null default now(),
    granted_by      text not null default current_user,
    primary key (login_role, institution_id)
);
alter table audit.institution_members enable row level security;
create policy own_memberships on audit.institution_members
    for select to ews_institution_analyst
    using (login_role = current_user);
create policy auditor_memberships on audit.institution_members
    for select to ews_auditor
    using (true);
grant usage on schema audit to ews_institution_analyst;
grant select on audit.institution_members to ews_institution_analyst;

-- Row-level security on a table dbt has just (re)built: a dbt post-hook calls this in the transaction that creates
-- the table, so the table is never visible without its policies. Analysts see the rows of their institutions; the
-- table's owner (dbt's user) and the pipeline roles that exist (0007) see every row. FORCE: the owner goes through
-- the policies too, so a missing policy fails closed for everyone.
create function warning.apply_institution_rls(relation regclass) returns void
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
    execute format('grant usage on schema %I to ews_institution_analyst', schema_name);
    execute format('grant select on %s to ews_institution_analyst', relation);
end
$$;

-- The consortium reads a shared mart: usage on its schema and select on the table, nothing else.
create function warning.share_with_consortium(relation regclass) returns void
language plpgsql
as $$
declare
    schema_name text;
begin
    select n.nspname into schema_name
    from pg_class as c
    inner join pg_namespace as n on c.relnamespace = n.oid
    where c.oid = relation;

    execute format('grant usage on schema %I to ews_consortium', schema_name);
    execute format('grant select on %s to ews_consortium', relation);
end
$$;

-- HMAC-SHA256 (RFC 2104) on the built-in sha256(): pgcrypto is not installed in every server ews runs on (the
-- embedded pgserver has no contrib modules). The consortium pseudonym is hmac_sha256(national id, shared key).
create function warning.hmac_sha256(message bytea, secret bytea) returns bytea
language plpgsql
immutable strict parallel safe
as $$
declare
    block_key bytea := case when length(secret) > 64 then sha256(secret) else secret end;
    inner_pad bytea;
    outer_pad bytea;
begin
    block_key := block_key || decode(repeat('00', 64 - length(block_key)), 'hex');
    inner_pad := block_key;
    outer_pad := block_key;
    for i in 0..63 loop
        inner_pad := set_byte(inner_pad, i, get_byte(block_key, i) # 54);   -- 0x36
        outer_pad := set_byte(outer_pad, i, get_byte(block_key, i) # 92);   -- 0x5c
    end loop;
    return sha256(outer_pad || sha256(inner_pad || message));
end
$$;

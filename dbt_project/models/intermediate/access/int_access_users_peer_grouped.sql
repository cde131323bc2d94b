-- Built on the user's IPs and objects (each a row per user and IP, or object): every event has an IP, so the IPs
-- give the user's first and last day and events; the objects give what the user works on. Nothing here reads the
-- events themselves.

with

client_ips as (

    select * from {{ ref('int_access_client_ips_first_seen') }}

),

objects as (

    select * from {{ ref('int_access_objects_first_seen') }}

),

users as (

    select
        user_id,
        min(first_seen_date) as first_event_date,
        max(last_seen_date) as last_event_date,
        cast(sum(events_count) as bigint) as events_count

    from client_ips

    group by user_id

),

schema_events as (

    -- What the user works on: events on ordinary (not sensitive) objects, by schema.
    select
        user_id,
        split_part(object_name, '.', 1) as schema_name,
        sum(events_count) as events_count

    from objects

    where not is_sensitive_object

    group by
        user_id,
        split_part(object_name, '.', 1)

),

primary_schemas as (

    select distinct on (user_id)
        user_id,
        schema_name as primary_schema

    from schema_events

    order by
        user_id,
        events_count desc,
        schema_name

),

joined as (

    -- The landing contract carries no directory role: a user's peers are the users whose work centres on the
    -- same schema (a proxy of the role; a role feed would replace primary_schema here).
    select
        users.user_id,
        users.first_event_date,
        users.last_event_date,
        users.events_count,
        primary_schemas.primary_schema,
        'schema:' || coalesce(primary_schemas.primary_schema, 'none') as peer_group

    from users

    left join primary_schemas
        on users.user_id = primary_schemas.user_id

)

select * from joined

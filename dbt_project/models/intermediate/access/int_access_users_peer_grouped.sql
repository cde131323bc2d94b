with

events as (

    select * from {{ ref('int_access_events_sessionized') }}

),

users as (

    select
        user_id,
        min(event_date) as first_event_date,
        max(event_date) as last_event_date,
        count(*) as events_count

    from events

    group by user_id

),

schema_events as (

    -- What the user works on: events on ordinary (not sensitive) objects, by schema.
    select
        user_id,
        split_part(object_name, '.', 1) as schema_name,
        count(*) as events_count

    from events

    where
        object_name is not null
        and not is_sensitive_object

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

with

users as (

    select * from {{ ref('int_access_users_peer_grouped') }}

),

final as (

    select
        user_id,
        peer_group,
        primary_schema,
        first_event_date,
        last_event_date,
        events_count

    from users

)

select * from final

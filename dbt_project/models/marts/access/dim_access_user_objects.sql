with

objects as (

    select * from {{ ref('int_access_objects_first_seen') }}

),

final as (

    select
        user_object_key,
        user_id,
        object_name,
        is_sensitive_object,
        first_seen_date,
        last_seen_date,
        events_count,
        export_count

    from objects

)

select * from final

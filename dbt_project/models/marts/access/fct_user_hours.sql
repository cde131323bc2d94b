with

user_hours as (

    select * from {{ ref('int_access_events_aggregated_to_user_hours') }}

),

final as (

    select
        user_hour_key,
        user_id,
        activity_date,
        hour_of_day,
        events_count,
        rows_read,
        export_count,
        failed_login_count,
        sensitive_object_events_count,
        distinct_objects_count

    from user_hours

)

select * from final

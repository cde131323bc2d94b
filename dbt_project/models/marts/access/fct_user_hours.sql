{#- Incremental by date (macros/incremental_batches.sql): an hour's counts come from its own events. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_dates',
    batch_sources=['access_events'],
    batches_from='int_access_events_sessionized',
    date_column='activity_date',
    on_schema_change='fail',
) }}

with

user_hours as (

    select * from {{ ref('int_access_events_aggregated_to_user_hours') }}
    {% if is_incremental() -%}
    where activity_date = any(array{{ planned_dates() }})
    {%- endif %}

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

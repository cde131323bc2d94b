{#-
    Incremental (macros/incremental_batches.sql): appending days, the objects touched on them fold into their
    stored rows; a correction sums every object up again from int_access_user_object_days.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['user_object_key'],
    batch_sources=['access_events'],
    batches_from='int_access_user_object_days',
    date_column='last_seen_date',
    rebuild='from_earliest',
    on_schema_change='fail',
    indexes=[{'columns': ['user_object_key'], 'unique': true}, {'columns': ['last_seen_date']}],
) }}

with

object_days as (

    {% if is_incremental() -%}
    -- the days appended, or every day for a correction (two branches: the one not taken never runs)
    select * from {{ ref('int_access_user_object_days') }}
    where activity_date = any(array{{ planned_dates() }}) and not {{ is_correction() }}
    union all
    select * from {{ ref('int_access_user_object_days') }}
    where {{ is_correction() }}
    {%- else -%}
    select * from {{ ref('int_access_user_object_days') }}
    {%- endif %}

),

user_objects_seen as (

    select
        user_id,
        object_name,
        bool_or(is_sensitive_object) as is_sensitive_object,
        min(activity_date) as first_seen_date,
        max(activity_date) as last_seen_date,
        cast(sum(events_count) as bigint) as events_count,
        cast(sum(export_count) as bigint) as export_count

    from object_days

    group by
        user_id,
        object_name

),

user_objects as (

    {% if is_incremental() -%}
    -- Appending: the days add to the stored row of the same user and object (their dates are all later).
    select
        seen.user_id,
        seen.object_name,
        coalesce(stored.is_sensitive_object, false) or seen.is_sensitive_object as is_sensitive_object,
        coalesce(stored.first_seen_date, seen.first_seen_date) as first_seen_date,
        seen.last_seen_date,
        coalesce(stored.events_count, 0) + seen.events_count as events_count,
        coalesce(stored.export_count, 0) + seen.export_count as export_count

    from user_objects_seen as seen

    left join {{ this }} as stored
        on
            stored.user_id = seen.user_id
            and stored.object_name = seen.object_name
            and not {{ is_correction() }}
    {%- else -%}
    select * from user_objects_seen
    {%- endif %}

)

select
    {{ surrogate_key(['user_id', 'object_name']) }} as user_object_key,
    user_id,
    object_name,
    is_sensitive_object,
    first_seen_date,
    last_seen_date,
    events_count,
    export_count

from user_objects

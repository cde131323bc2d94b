{{ config(alias='indicator_values') }}

-- Every indicator value over time, with whether it was at or over its threshold.
with

indicator_values as (

    select * from {{ ref('stg_warning__indicator_values') }}

),

final as (

    select
        as_of_date,
        domain,
        indicator,
        entity_type,
        entity_id,
        value,
        threshold,
        coalesce(value >= threshold, false) as is_over_threshold,
        model_run_id

    from indicator_values

)

select * from final

{{ config(alias='alerts_current') }}

-- The morning's list: every alert case someone still has to act on (new, open or acknowledged).
with

alert_cases as (

    select * from {{ ref('stg_warning__alert_cases') }}

),

final as (

    select
        case_id,
        domain,
        indicator,
        entity_type,
        entity_id,
        status,
        severity,
        max_severity,
        is_escalated,
        first_seen_date,
        last_seen_date,
        alerted_days,
        value,
        threshold,
        explanation,
        acknowledged_by,
        acknowledged_at,
        as_of_date

    from alert_cases

    where status in ('new', 'open', 'acknowledged')

)

select * from final

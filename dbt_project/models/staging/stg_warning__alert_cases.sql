with

source as (

    select * from {{ source('warning', 'alert_cases') }}

),

renamed as (

    select

        ----------  ids
        case_id,
        latest_alert_id,

        ----------  text
        domain,
        indicator,
        entity_type,
        entity_id,
        status,
        severity,
        max_severity,
        explanation,
        resolution,
        acknowledged_by,
        last_action_by,
        last_action_note,

        ----------  booleans
        is_escalated,

        ----------  numerics
        alerted_days,
        value,
        threshold,

        ----------  dates
        first_seen_date,
        last_seen_date,
        -- the day the cases are of: a resolved case keeps the day it was last settled (its state stays)
        max(as_of_date) over () as as_of_date,
        resolved_date,
        suppressed_until as suppressed_until_date,

        ----------  timestamps
        acknowledged_at

    from source

)

select * from renamed

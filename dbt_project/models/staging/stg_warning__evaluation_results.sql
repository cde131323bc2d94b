with

source as (

    select * from {{ source('warning', 'evaluation_results') }}

),

renamed as (

    select

        ----------  ids
        evaluation_id,

        ----------  text
        domain,
        entity_period,

        ----------  numerics
        episodes as episodes_count,
        episodes_detected as episodes_detected_count,
        recall_pct,
        false_alarms as false_alarms_count,
        entity_periods as entity_periods_count,
        false_alarms_per_1000,
        median_lead_days,
        min_lead_days,
        auroc,

        ----------  timestamps
        evaluated_at

    from source

)

select * from renamed

{{ config(alias='alert_history') }}

-- Every daily alert with the case it belongs to: how an entity's warning evolved day by day.
with

alerts as (

    select * from {{ ref('stg_warning__alerts') }}

),

alert_cases as (

    select * from {{ ref('stg_warning__alert_cases') }}

),

joined as (

    select
        alerts.alert_id,
        alert_cases.case_id,
        alerts.as_of_date,
        alerts.domain,
        alerts.indicator,
        alerts.entity_type,
        alerts.entity_id,
        alerts.severity,
        alerts.value,
        alerts.threshold,
        alerts.explanation,
        alerts.model_run_id

    from alerts

    left join alert_cases
        on
            alerts.indicator = alert_cases.indicator
            and alerts.entity_id = alert_cases.entity_id
            and alerts.as_of_date between alert_cases.first_seen_date and alert_cases.last_seen_date

)

select * from joined

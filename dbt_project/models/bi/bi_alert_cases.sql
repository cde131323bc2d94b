{{ config(alias='alert_cases') }}

-- Every alert case, resolved and suppressed ones included, with who last acted on it and why.
with

alert_cases as (

    select * from {{ ref('stg_warning__alert_cases') }}

)

select * from alert_cases

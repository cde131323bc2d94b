{{ config(alias='evaluation_results') }}

-- How the alerts did against the synthetic bank's known episodes (ews evaluate).
with

evaluation_results as (

    select * from {{ ref('stg_warning__evaluation_results') }}

)

select * from evaluation_results

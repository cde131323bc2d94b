{{ config(alias='model_runs') }}

-- Every model run: which model, trained on what window, with its fit statistics (JSON).
with

model_runs as (

    select * from {{ ref('stg_warning__model_runs') }}

)

select * from model_runs

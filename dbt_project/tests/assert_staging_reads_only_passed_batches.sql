{{ config(tags=['history'], enabled=var('ews_history_tests', false)) }}
-- Reads the whole history: run with the history tests (CI, ews dbt build --full-refresh), not daily.
-- Every row in staging comes from a batch of its own source whose status is 'passed'.
{% set staged = {
    'stg_core__borrowers': 'borrowers',
    'stg_core__loans': 'loans',
    'stg_core__loan_performance': 'loan_performance',
    'stg_core__repayments': 'repayments',
    'stg_market__prices': 'market_prices',
    'stg_macro__series': 'macro_series',
    'stg_access__events': 'access_events',
} %}

with

batches as (

    select * from {{ ref('stg_audit__batches') }}

),

staged_rows as (

    {% for model, source_name in staged.items() %}
    select
        '{{ model }}' as model_name,
        '{{ source_name }}' as expected_source_name,
        batch_id,
        loaded_business_date

    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    staged_rows.*,
    batches.source_name,
    batches.status,
    batches.business_date

from staged_rows

left join batches
    on staged_rows.batch_id = batches.batch_id

where
    batches.batch_id is null
    or batches.status <> 'passed'
    or batches.source_name <> staged_rows.expected_source_name
    or batches.business_date <> staged_rows.loaded_business_date

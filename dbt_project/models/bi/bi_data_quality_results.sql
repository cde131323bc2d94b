{{ config(alias='data_quality_results') }}

-- Every check of the quality gate on every batch, with the batch's source, business date and fate; never the
-- failing values themselves.
with

dq_results as (

    select * from {{ ref('stg_audit__dq_results') }}

),

batches as (

    select * from {{ ref('stg_audit__batches') }}

),

joined as (

    select
        dq_results.batch_id,
        batches.source_name,
        batches.business_date,
        batches.status as batch_status,
        dq_results.suite_name,
        dq_results.check_name,
        dq_results.column_name,
        dq_results.severity,
        dq_results.is_success,
        dq_results.unexpected_count,
        dq_results.validated_at

    from dq_results

    inner join batches
        on dq_results.batch_id = batches.batch_id

)

select * from joined

{{ config(alias='batches') }}

-- Every landing batch and what the quality gate made of it.
with

batches as (

    select * from {{ ref('stg_audit__batches') }}

),

final as (

    select
        batch_id,
        source_name,
        business_date,
        file_name,
        status,
        row_count,
        loaded_at,
        validated_at

    from batches

)

select * from final

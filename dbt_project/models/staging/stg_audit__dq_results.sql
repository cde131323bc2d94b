-- The failing values (unexpected_examples, observed_value) stay in audit: they may hold a row's data.
with

source as (

    select * from {{ source('audit', 'dq_results') }}

),

renamed as (

    select

        ----------  ids
        batch_id,

        ----------  text
        suite_name,
        expectation_type,
        coalesce(check_name, expectation_type) as check_name,
        nullif(column_name, '') as column_name,
        severity,

        ----------  booleans
        success as is_success,

        ----------  numerics
        unexpected_count,

        ----------  timestamps
        validated_at

    from source

)

select * from renamed

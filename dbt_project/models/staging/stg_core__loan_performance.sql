with

source as (

    select * from {{ source('raw', 'loan_performance') }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key(['loan_id', 'performance_date']) }} as loan_day_key,
        loan_id,

        ----------  numerics
        balance_amount,
        days_past_due,

        ----------  dates
        performance_date,

        ----------  lineage
        batch_id,
        source_line

    from source

),

passed_batches as (

    {{ passed_batches('loan_performance') }}

),

passed_rows as (

    select
        renamed.*,
        passed_batches.loaded_business_date

    from renamed

    inner join passed_batches
        on renamed.batch_id = passed_batches.batch_id

),

latest_versions as (

    {{ keep_latest_version('passed_rows', ['loan_id', 'performance_date']) }}

)

select * from latest_versions

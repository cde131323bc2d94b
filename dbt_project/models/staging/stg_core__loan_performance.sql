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

    -- No de-duplication: the gate holds performance_date to the batch's business date and keeps keys unique
    -- within a batch, and only one batch per day can pass, so (loan_id, performance_date) is already unique.
    select
        renamed.*,
        passed_batches.loaded_business_date

    from renamed

    inner join passed_batches
        on renamed.batch_id = passed_batches.batch_id

)

select * from passed_rows

with

source as (

    select * from {{ source('raw', 'repayments') }}

),

renamed as (

    select

        ----------  ids
        repayment_id,
        loan_id,

        ----------  numerics
        due_amount,
        paid_amount,

        ----------  dates
        due_date,

        ----------  lineage
        batch_id,
        source_line

    from source

),

passed_batches as (

    {{ passed_batches('repayments') }}

),

passed_rows as (

    -- No de-duplication: an instalment falls due once, on its batch's business date (held by the gate);
    -- a repayment_id delivered on two days is an upstream error for the unique test to report.
    select
        renamed.*,
        passed_batches.loaded_business_date

    from renamed

    inner join passed_batches
        on renamed.batch_id = passed_batches.batch_id

)

select * from passed_rows

with

source as (

    select * from {{ source('raw', 'loans') }}

),

renamed as (

    select

        ----------  ids
        loan_id,
        borrower_id,

        ----------  text
        product,

        ----------  numerics
        principal_amount,
        interest_rate_pct,
        term_months,

        ----------  dates
        origination_date,

        ----------  lineage
        batch_id,
        source_line

    from source

),

passed_batches as (

    {{ passed_batches('loans') }}

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

    {{ keep_latest_version('passed_rows', ['loan_id']) }}

)

select * from latest_versions
